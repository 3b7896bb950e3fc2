#pragma once
// An input form generated from a method's parameter schema: one spin box per
// numeric MethodParam, with its range, default and help text, and a line edit
// per text ("layer") parameter. Adding a method to the registry needs no
// change here.
#include "core/methods/method_registry.h"

#include <QWidget>

#include <map>
#include <string>
#include <vector>

class QAbstractSpinBox;
class QFormLayout;
class QLabel;

namespace distillery::gui {

class MethodParamForm : public QWidget {
  Q_OBJECT
public:
  explicit MethodParamForm(QWidget* parent = nullptr);

  // Rebuilds the form for this method (nullptr: empty), every field at its default.
  void setMethod(const distillery::MethodInfo* method);
  const distillery::MethodInfo* method() const { return method_; }

  std::map<std::string, double> values() const;
  // Fields named in `values` take them; the others keep their current value.
  void setValues(const std::map<std::string, double>& values);
  // The text parameters (layer names; empty = the model's default layer).
  std::map<std::string, std::string> textValues() const;
  void setTextValues(const std::map<std::string, std::string>& values);
  // The spin box of a parameter (a QSpinBox or QDoubleSpinBox), named "param_<name>".
  QAbstractSpinBox* field(const std::string& name) const;

Q_SIGNALS:
  void changed();

private:
  struct Field {
    std::string name;
    QWidget* box = nullptr; // a spin box, or a QLineEdit for text parameters
  };

  const distillery::MethodInfo* method_ = nullptr;
  QFormLayout* form_;
  QLabel* empty_;
  std::vector<Field> fields_;
};

} // namespace distillery::gui
