#pragma once
// Everything `serve TEACHER --config FILE` needs before it binds, done once for
// the CLI and the GUI alike: the serve config read, the model loaded, and the
// output pipeline and the engine-side defenses checked against the model's
// classes, their errors named after the config file ("serve.json: output.k: ...").
#include "core/serve/serve_config.h"
#include "core/serve/served_model.h"

#include <string>

namespace distillery {

struct ServedTeacher {
  ServeConfig config;
  ServedModel model;
};

// Throws ConfigError (naming the file and field), DataError or StoreError.
ServedTeacher loadServedTeacher(const std::string& teacher, const std::string& config_path,
                                const std::string& store_path);

} // namespace distillery
