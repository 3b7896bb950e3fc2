#include "widgets/run_on_group.h"

#include <QGridLayout>
#include <QLabel>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace distillery::gui {

RunOnGroup::RunOnGroup(QWidget* parent) : QGroupBox(tr("Run on"), parent) {
  setObjectName(QStringLiteral("runOnGroup"));
  thisMachine_ = new QRadioButton(tr("This machine"), this);
  thisMachine_->setObjectName(QStringLiteral("runOnThisMachine"));
  thisMachine_->setToolTip(tr("In this app's process, on a thread of its own"));
  localProcesses_ = new QRadioButton(tr("Local processes:"), this);
  localProcesses_->setObjectName(QStringLiteral("runOnLocalProcesses"));
  localProcesses_->setToolTip(tr("Data-parallel on this machine: distillery-cli launch --nproc N (docs/distributed.md)"));
  nproc_ = new QSpinBox(this);
  nproc_->setObjectName(QStringLiteral("runOnNproc"));
  nproc_->setRange(1, 256);
  nproc_->setSuffix(tr(" ranks"));
  slurm_ = new QRadioButton(tr("Slurm cluster"), this);
  slurm_->setObjectName(QStringLiteral("runOnSlurm"));
  slurm_->setToolTip(tr("Submitted with sbatch, one task per rank: distillery-cli submit --slurm (docs/distributed.md)"));

  auto* localRow = new QHBoxLayout;
  localRow->addWidget(localProcesses_);
  localRow->addWidget(nproc_);
  localRow->addStretch(1);

  slurmFields_ = new QWidget(this);
  auto* grid = new QGridLayout(slurmFields_);
  grid->setContentsMargins(20, 0, 0, 0);
  auto spin = [this](const char* name, int min, int max, const QString& tip) {
    auto* box = new QSpinBox(this);
    box->setObjectName(QString::fromLatin1(name));
    box->setRange(min, max);
    box->setToolTip(tip);
    return box;
  };
  auto line = [this](const char* name, const QString& placeholder, const QString& tip) {
    auto* edit = new QLineEdit(this);
    edit->setObjectName(QString::fromLatin1(name));
    edit->setPlaceholderText(placeholder);
    edit->setToolTip(tip);
    return edit;
  };
  // The spin boxes allow 0 so that the core's checks, the CLI's, name a bad value.
  nodes_ = spin("slurmNodes", 0, 10000, tr("--nodes"));
  tasksPerNode_ = spin("slurmTasksPerNode", 0, 1024, tr("--ntasks-per-node: one task per rank (per GPU on a GPU cluster)"));
  gpusPerTask_ = spin("slurmGpusPerTask", 0, 64, tr("--gpus-per-task; 0 asks for no GPUs"));
  gpusPerTask_->setSpecialValueText(tr("none"));
  partition_ = line("slurmPartition", tr("the cluster's default"), tr("--partition"));
  time_ = line("slurmTime", tr("HH:MM:SS or D-HH:MM:SS"), tr("--time: the job's time limit; empty: the partition's"));
  account_ = line("slurmAccount", tr("none"), tr("--account"));
  jobDir_ = line("slurmJobDir", tr("slurm-jobs/run-ID beside the store"),
                 tr("--job-dir: a folder the nodes share; it holds the job's store, script and output"));
  // Two label-field pairs a row, so the group stays short in the dialog's column.
  auto add = [this, grid](int row, int pair, const QString& label, QWidget* field, int span = 1) {
    auto* text = new QLabel(label, slurmFields_);
    text->setBuddy(field);
    grid->addWidget(text, row, 2 * pair);
    grid->addWidget(field, row, 2 * pair + 1, 1, span);
  };
  add(0, 0, tr("Nodes:"), nodes_);
  add(0, 1, tr("Tasks per node:"), tasksPerNode_);
  add(1, 0, tr("GPUs per task:"), gpusPerTask_);
  add(1, 1, tr("Time limit:"), time_);
  add(2, 0, tr("Partition:"), partition_);
  add(2, 1, tr("Account:"), account_);
  add(3, 0, tr("Job folder:"), jobDir_, 3);
  grid->setColumnStretch(1, 1);
  grid->setColumnStretch(3, 1);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(thisMachine_);
  layout->addLayout(localRow);
  layout->addWidget(slurm_);
  layout->addWidget(slurmFields_);

  setPlacement(rememberedPlacement());

  for (QRadioButton* b : {thisMachine_, localProcesses_, slurm_})
    connect(b, &QRadioButton::toggled, this, [this](bool on) {
      if (!on) return;
      updateEnabled();
      Q_EMIT changed();
    });
  for (QSpinBox* b : {nproc_, nodes_, tasksPerNode_, gpusPerTask_})
    connect(b, &QSpinBox::valueChanged, this, &RunOnGroup::changed);
  for (QLineEdit* e : {partition_, time_, account_, jobDir_}) connect(e, &QLineEdit::textChanged, this, &RunOnGroup::changed);
}

void RunOnGroup::updateEnabled() {
  nproc_->setEnabled(localProcesses_->isChecked());
  slurmFields_->setEnabled(slurm_->isChecked());
}

RunPlacement RunOnGroup::placement() const {
  RunPlacement p;
  p.kind = localProcesses_->isChecked() ? RunPlacement::Kind::LocalProcesses
           : slurm_->isChecked()        ? RunPlacement::Kind::Slurm
                                        : RunPlacement::Kind::ThisMachine;
  p.nproc = nproc_->value();
  p.slurm.nodes = nodes_->value();
  p.slurm.ntasks_per_node = tasksPerNode_->value();
  p.slurm.gpus_per_task = gpusPerTask_->value();
  p.slurm.partition = partition_->text().trimmed().toStdString();
  p.slurm.time = time_->text().trimmed().toStdString();
  p.slurm.account = account_->text().trimmed().toStdString();
  p.slurm.job_dir = jobDir_->text().trimmed().toStdString();
  return p;
}

void RunOnGroup::setPlacement(const RunPlacement& p) {
  const bool blocked = blockSignals(true);
  (p.kind == RunPlacement::Kind::LocalProcesses ? localProcesses_
   : p.kind == RunPlacement::Kind::Slurm        ? slurm_
                                                : thisMachine_)
      ->setChecked(true);
  nproc_->setValue(p.nproc);
  nodes_->setValue(p.slurm.nodes);
  tasksPerNode_->setValue(p.slurm.ntasks_per_node);
  gpusPerTask_->setValue(p.slurm.gpus_per_task);
  partition_->setText(QString::fromStdString(p.slurm.partition));
  time_->setText(QString::fromStdString(p.slurm.time));
  account_->setText(QString::fromStdString(p.slurm.account));
  jobDir_->setText(QString::fromStdString(p.slurm.job_dir));
  blockSignals(blocked);
  updateEnabled();
  Q_EMIT changed();
}

} // namespace distillery::gui
