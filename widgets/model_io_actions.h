#pragma once
// Models in and out from the main window: "Export Model…" writes a finished
// run's model as TorchScript (core/models/model_export.h) to a file the user picks,
// and TorchScript files dropped on the window become the teacher of a new run.
#include <QString>

#include <cstdint>
#include <functional>

class QWidget;

namespace distillery {
class RunStore;
}

namespace distillery::gui {

// Asks where to save, exports, and reports the outcome in a message box.
// Returns the written file, or an empty string (cancelled or failed).
QString exportModelInteractively(distillery::RunStore& store, int64_t runId, QWidget* parent);

// Makes `window` accept dropped .pt/.pth files; each drop calls onFile with the local path.
void acceptTorchScriptDrops(QWidget* window, std::function<void(const QString&)> onFile);

} // namespace distillery::gui
