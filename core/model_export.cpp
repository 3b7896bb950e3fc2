#include "core/model_export.h"

#include "core/errors.h"
#include "core/stored_model.h"
#include "core/torchscript_export.h"

#include <fstream>

namespace distillery {

int64_t exportRunModel(RunStore& store, int64_t run_id, const std::string& out_path) {
  StoredModel stored = loadStoredModel(store, run_id, "export");
  const std::string bytes = exportTorchScriptBytes(stored.model, stored.shape);
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  if (!out) throw DataError(out_path, "cannot be opened for writing");
  out.write(bytes.data(), std::streamsize(bytes.size()));
  out.close();
  if (!out) throw DataError(out_path, "could not be written completely");
  return int64_t(bytes.size());
}

} // namespace distillery
