#pragma once
// A model as a forensic test sees it (issue 18): something that answers
// preprocessed inputs with probabilities, or only with labels. The suspect may
// be a finished run, a TorchScript file or a teacher API; the teacher and the
// null (independent) models are runs or files. Each is checked against the
// teacher's data: another input shape or class count is refused with the reason.
#include "core/data/dataset.h"
#include "core/models/model_zoo.h"

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>

namespace distillery {

class RunStore;

struct ForensicModel {
  std::string id; // "run:7", a .pt path, or an API URL: how the store names it
  std::string description; // for people: "run 7 (distill, mlp[16])", "API http://... (label)"
  bool labels_only = false; // answers are one-hot rows (an API in label mode)
  Classifier local;         // the model itself when it is local (fingerprints are crafted on it); null for an API
  std::function<torch::Tensor(const torch::Tensor&)> answer; // probabilities [N, classes], float, CPU

  // Asks the model, counting the inputs sent (an API's queries cost money).
  torch::Tensor ask(const torch::Tensor& x) {
    queries += x.size(0);
    return answer(x);
  }
  int64_t queries = 0;
};

// A local classifier's softmax outputs, on the CPU.
ForensicModel localForensicModel(Classifier model, const std::string& id, const std::string& description);

// The model of a finished run. `field` names the CLI argument in errors
// ("--suspect", "--null"): a run that is not finished, has no model, or takes
// another input shape or class count than data is refused with the reason.
ForensicModel forensicModelFromRun(RunStore& store, int64_t run_id, const Dataset& data, const std::string& field);

// A TorchScript file, probed with a batch of data's test inputs; a file that
// does not load, rejects the input or gives another class count is refused (DataError naming the file).
ForensicModel forensicModelFromTorchScript(const std::string& path, const Dataset& data);

// A teacher API (`distillery-cli serve` or compatible) with the key from the
// environment variable key_env. ApiTeacher refuses another input shape or
// class count; a label-mode API answers one-hot rows and says so (labels_only).
// data must outlive the model (the API teacher reads its preprocessing).
ForensicModel forensicModelFromApi(const std::string& url, const std::string& key_env, const Dataset& data);

} // namespace distillery
