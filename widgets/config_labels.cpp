#include "widgets/config_labels.h"

#include "core/methods/method_registry.h"
#include "core/config/run_config.h"

#include <QStringList>

#include <exception>

namespace distillery::gui {

namespace {

// "temperature" -> "T" is the convention of the KD literature; other names are
// shortened to the initials of their words ("alpha" -> "a", "top_k" -> "tk").
QString abbreviateParam(const std::string& name) {
  if (name == "temperature") return QStringLiteral("T");
  QString initials;
  for (const QString& word : QString::fromStdString(name).split(u'_', Qt::SkipEmptyParts))
    initials += word.at(0);
  return initials.isEmpty() ? QString::fromStdString(name) : initials;
}

} // namespace

QString compactNumber(double value) { return QString::number(value, 'g', 4); }

QString methodLabel(const distillery::MethodConfig& method) {
  QStringList parts{QString::fromStdString(method.name)};
  if (const distillery::MethodInfo* info = distillery::findMethod(method.name)) {
    const auto values = info->resolve(method.params);
    // Schema order, so labels of different runs line up.
    for (const distillery::MethodParam& p : info->params) {
      if (p.isText()) { // layer names: shown when not the model's default
        auto text = method.text_params.find(p.name);
        if (text != method.text_params.end() && !text->second.empty())
          parts << abbreviateParam(p.name) + u'=' + QString::fromStdString(text->second);
        continue;
      }
      auto it = values.find(p.name);
      if (it != values.end()) parts << abbreviateParam(p.name) + u'=' + compactNumber(it->second);
    }
  } else {
    for (const auto& [name, value] : method.params)
      parts << abbreviateParam(name) + u'=' + compactNumber(value);
  }
  return parts.join(u' ');
}

ConfigLabels configLabels(const distillery::RunConfig& config) {
  ConfigLabels labels;
  if (config.isLm()) { // language models: GPT specs (core/config/lm_config.h)
    using Kind = distillery::LmTeacherSource::Kind;
    const auto& teacher = config.lm.teacher;
    labels.student = QString::fromStdString(distillery::describe(config.lm.student));
    labels.teacher = teacher.kind == Kind::Run   ? QStringLiteral("run #%1").arg(teacher.run_id)
                     : teacher.kind == Kind::Zoo ? QString::fromStdString(distillery::describe(teacher.model))
                                                 : QStringLiteral("—");
    labels.method = methodLabel(config.method);
    return labels;
  }
  labels.student = QString::fromStdString(distillery::describe(config.trainedModel()));
  if (!config.isDistill()) {
    labels.teacher = QStringLiteral("—");
    labels.method = QStringLiteral("train");
    return labels;
  }
  if (config.teacher.kind == distillery::TeacherSource::Kind::Run)
    labels.teacher = QStringLiteral("run #%1").arg(config.teacher.run_id);
  else if (config.teacher.kind == distillery::TeacherSource::Kind::Api) // "API 127.0.0.1:8311"
    labels.teacher = QStringLiteral("API ") + QString::fromStdString(config.teacher.api.url).remove(QStringLiteral("http://"));
  else
    labels.teacher = QString::fromStdString(distillery::describe(config.teacher.model));
  labels.method = methodLabel(config.method);
  return labels;
}

ConfigLabels configLabels(const std::string& configJson) {
  try {
    return configLabels(distillery::RunConfig::fromJsonText(configJson));
  } catch (const std::exception&) {
    const QString unknown = QStringLiteral("?");
    return {unknown, unknown, unknown};
  }
}

} // namespace distillery::gui
