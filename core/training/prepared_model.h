#pragma once
// A classifier as an image run holds it: the network, the spec it came from,
// its size and FLOPs, the run that trained it and, for a TorchScript file, the
// file's hash. Zoo networks are built from a seed; TorchScript files are
// loaded and checked on a real batch of the dataset.
#include "core/config/model_spec.h"
#include "core/data/dataset.h"
#include "core/models/model_info.h"
#include "core/models/model_zoo.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace distillery {

struct TrainedModel {
  Classifier model;
  ModelSpec spec;
  ModelInfo info;
  int64_t run_id = 0;
  std::string sha256; // of the TorchScript file it came from (empty for zoo models)
};

// A zoo network built under `seed`. Parameter initialisation draws from
// LibTorch's global generator, so seeding and building hold one lock.
Classifier buildSeeded(const ModelSpec& spec, const Dataset& data, uint64_t seed);

// A model about to be trained, or a TorchScript teacher; `role` ("model",
// "student", "teacher") names the config field in errors. A traced
// TorchScript model whose BatchNorm mode is fixed is refused (as the
// preflight does) for every role that trains.
TrainedModel prepareModel(const ModelSpec& spec, const Dataset& data, uint64_t seed, const std::string& role);

// The provenance of a TorchScript model, for the summary.
nlohmann::json torchScriptSource(const TrainedModel& t);

} // namespace distillery
