#include "widgets/run_meta_types.h"

namespace distillery::gui {

void registerRunMetaTypes() {
  static const bool registered = [] {
    qRegisterMetaType<distillery::RunProgress>("distillery::RunProgress");
    qRegisterMetaType<distillery::LogEvent>("distillery::LogEvent");
    qRegisterMetaType<MetricPointBatch>("distillery::gui::MetricPointBatch");
    return true;
  }();
  (void)registered;
}

} // namespace distillery::gui
