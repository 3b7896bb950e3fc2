#include "core/models/model_export.h"

#include "core/base/file_output.h"
#include "core/models/stored_model.h"
#include "core/models/torchscript_export.h"

namespace distillery {

int64_t exportRunModel(RunStore& store, int64_t run_id, const std::string& out_path) {
  StoredModel stored = loadStoredModel(store, run_id, "export");
  const std::string bytes = exportTorchScriptBytes(stored.model, stored.shape);
  writeTextFile(out_path, bytes); // temp file, fsync, rename; its errors name the path
  return int64_t(bytes.size());
}

} // namespace distillery
