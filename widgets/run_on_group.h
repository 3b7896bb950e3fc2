#pragma once
// The "Run on" group both New Run dialogs show (issue 19): this machine (the
// default: the app's own worker thread), N local processes, or Slurm with the
// sbatch fields. It starts from the remembered choice; the dialog remembers
// it when a run starts (rememberPlacement).
#include "widgets/run_placement.h"

#include <QGroupBox>

class QLineEdit;
class QRadioButton;
class QSpinBox;
class QWidget;

namespace distillery::gui {

class RunOnGroup : public QGroupBox {
  Q_OBJECT
public:
  explicit RunOnGroup(QWidget* parent = nullptr);

  RunPlacement placement() const;
  void setPlacement(const RunPlacement& placement);

Q_SIGNALS:
  void changed();

private:
  void updateEnabled();

  QRadioButton* thisMachine_ = nullptr;
  QRadioButton* localProcesses_ = nullptr;
  QRadioButton* slurm_ = nullptr;
  QSpinBox* nproc_ = nullptr;
  QWidget* slurmFields_ = nullptr;
  QSpinBox* nodes_ = nullptr;
  QSpinBox* tasksPerNode_ = nullptr;
  QSpinBox* gpusPerTask_ = nullptr;
  QLineEdit* partition_ = nullptr;
  QLineEdit* time_ = nullptr;
  QLineEdit* account_ = nullptr;
  QLineEdit* jobDir_ = nullptr;
};

} // namespace distillery::gui
