#pragma once
// One serving session of a loaded teacher, for the CLI and the GUI alike: opens
// the config's request log, builds the ClassifyService over the model's forward
// pass and runs the HTTP server until `stop`. No LibTorch, no Qt: the model
// comes in as its input description, /v1/info's teacher object and its forward
// function (core/serve/served_teacher.h loads them).
#include "core/base/stop_token.h"
#include "core/serve/classify_service.h"
#include "core/serve/serve_config.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace distillery {

// What a started server tells its caller once it is bound.
struct ServeListening {
  std::string host;
  int port = 0;            // the bound one (a requested 0 becomes a free port)
  std::string log_path;    // the request log
  std::string output_mode; // as logged: "probs", "topk", ...
};

// Serves until `stop` is requested; calls on_listening once bound. Returns the
// requests the log holds at the end. Throws StoreError (the log) or
// std::runtime_error (the address cannot be bound).
int64_t serveTeacher(const ServeConfig& config, const ServedInput& input, const nlohmann::json& teacher,
                     const ClassifyService::Forward& forward, const std::string& host, int port, StopToken& stop,
                     const std::function<void(const ServeListening&)>& on_listening);

} // namespace distillery
