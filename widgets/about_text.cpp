#include "widgets/about_text.h"

#include "core/base/version.h"

#include <QObject>

namespace distillery::gui {

QString aboutText(const QString& storePath) {
  const std::vector<std::string> lines = distillery::versionLines(qVersion());
  QString versions;
  for (size_t i = 1; i < lines.size(); ++i) // lines[0] is the heading
    versions += (i > 1 ? QStringLiteral("<br>") : QString()) + QString::fromStdString(lines[i]).toHtmlEscaped();
  return QObject::tr("<h3>%1</h3><p>A workbench for knowledge distillation: train teachers and students, "
                     "compare runs, export tables, charts and reports.</p><p>%2</p><p>Run store: %3</p>")
      .arg(QString::fromStdString(lines[0]).toHtmlEscaped(), versions, storePath.toHtmlEscaped());
}

} // namespace distillery::gui
