#include "core/model_export.h"

#include "core/errors.h"
#include "core/file_output.h"
#include "core/stored_model.h"
#include "core/torchscript_export.h"

#include <stdexcept>

namespace distillery {

int64_t exportRunModel(RunStore& store, int64_t run_id, const std::string& out_path) {
  StoredModel stored = loadStoredModel(store, run_id, "export");
  const std::string bytes = exportTorchScriptBytes(stored.model, stored.shape);
  try {
    writeTextFile(out_path, bytes); // temp file, fsync, rename
  } catch (const std::runtime_error& e) {
    throw DataError(out_path, e.what());
  }
  return int64_t(bytes.size());
}

} // namespace distillery
