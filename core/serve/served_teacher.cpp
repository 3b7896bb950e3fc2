#include "core/serve/served_teacher.h"

#include "core/base/errors.h"
#include "core/serve/output_modes.h"

namespace distillery {

ServedTeacher loadServedTeacher(const std::string& teacher, const std::string& config_path,
                                const std::string& store_path) {
  ServedTeacher served{ServeConfig::fromJsonFile(config_path), {}};
  served.model = loadServedModel(teacher, store_path, served.config.input);
  // The output pipeline needs the model's classes (topk's k); checked before the log is
  // opened, and named like the config's other errors: "serve.json: output.transforms[0].beta: ...".
  try {
    buildOutputPipeline(served.config.output, int64_t(served.model.input.class_names.size()));
    attachEngineDefenses(served.model, served.config.output);
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    throw ConfigError(config_path + ": " + e.field(), what.substr(e.field().size() + 2));
  }
  return served;
}

} // namespace distillery
