#pragma once
// The trained-model artifact ("model.pt") of a run, whatever the model is:
// a zoo network is stored as its parameters and buffers (torch::save
// format) and rebuilt from its spec; a TorchScript model is stored as the
// whole TorchScript archive with its trained weights, so it can teach,
// continue or be exported without the file it came from.
#include "core/data/dataset.h"
#include "core/models/model_zoo.h"

#include <string>

namespace distillery {

std::string saveTrainedModel(const Classifier& model);

// Rebuilds the model `spec` describes on `shape`/`classes` and loads `bytes`
// into it. `origin` names the bytes in errors (e.g. "the model of run 7").
// Throws DataError when they don't fit.
Classifier restoreTrainedModel(const ModelSpec& spec, const InputShape& shape, int64_t classes,
                               const std::string& bytes, const std::string& origin);

} // namespace distillery
