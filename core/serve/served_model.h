#pragma once
// The model behind `distillery-cli serve TEACHER`: a finished run of the store
// (its model artifact, with the input shape, classes and preprocessing its
// summary recorded) or a TorchScript file (shape, classes and preprocessing
// from the serve config's "input"). Gives the torch-free service
// (classify_service.h) a function from a parsed request to probabilities that
// preprocesses exactly as the run's dataset did (preprocessing.h's normalise
// on the raw values), so the model sees what it saw in training.
#include "core/serve/classify_service.h"
#include "core/serve/serve_config.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace distillery {

struct ServedModel {
  ServedInput input;
  nlohmann::json teacher; // for /v1/info: {"run": ID, "model": ...} or {"torchscript": PATH, "sha256": ...}
  ClassifyService::Forward forward;
};

// TEACHER is a run id (digits) in the store at `store_path`, or a TorchScript
// file. `config_input` is the serve config's "input": required for a file,
// refused for a run. Throws ConfigError("TEACHER" | "input", ...) or DataError
// naming the file. The forward pass runs under a mutex (one model, many HTTP
// threads), in eval mode, without autograd.
ServedModel loadServedModel(const std::string& teacher, const std::string& store_path,
                            const std::optional<ServedInput>& config_input);

// The engine-side defenses of the config's "output" (`path` names it in
// errors): each "mad" entry of "transforms" builds its surrogate (mad_surrogate.h)
// and wraps `served.forward`, so the answers are perturbed with the query at
// hand before the torch-free transforms (output_modes.h) see them. The torch-free
// pipeline has checked the entries and their order first. Throws ConfigError
// naming the field ("output.transforms[0].surrogate").
void attachEngineDefenses(ServedModel& served, const nlohmann::json& output, const std::string& path = "output");

} // namespace distillery
