#pragma once
// Short text for a run's teacher, student and method, read from the config
// JSON stored with the run, e.g. "cnn[32,64]fc256", "run #3", "kd T=4 a=0.9".
#include <QString>

#include <string>

namespace distillery {
struct MethodConfig;
struct RunConfig;
} // namespace distillery

namespace distillery::gui {

struct ConfigLabels {
  QString teacher;
  QString student; // the trained model: the student, or the model of a train run
  QString method;
};

ConfigLabels configLabels(const distillery::RunConfig& config);
// Unparseable JSON (e.g. from a newer version) gives "?" labels, never throws.
ConfigLabels configLabels(const std::string& configJson);

// Method name followed by its resolved parameters, abbreviated.
QString methodLabel(const distillery::MethodConfig& method);
// A compact, locale-free number: 4, 0.9, 1e-05.
QString compactNumber(double value);

} // namespace distillery::gui
