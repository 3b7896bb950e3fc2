#include "widgets/run_placement.h"

#include "core/base/errors.h"
#include "core/cluster/slurm_submit.h"
#include "core/distributed/local_launcher.h"
#include "core/training/run_preflight.h"

#include <QCoreApplication>
#include <QSettings>

#include <map>

namespace distillery::gui {

namespace {

const char* kindKey(RunPlacement::Kind kind) {
  switch (kind) {
    case RunPlacement::Kind::LocalProcesses: return "local";
    case RunPlacement::Kind::Slurm: return "slurm";
    default: return "this";
  }
}

// The form's label for each option the core's checks name.
QString formLabel(const std::string& field) {
  static const std::map<std::string, const char*> labels = {
      {"--nproc", QT_TRANSLATE_NOOP("RunPlacement", "Processes")},
      {"--nodes", QT_TRANSLATE_NOOP("RunPlacement", "Nodes")},
      {"--ntasks-per-node", QT_TRANSLATE_NOOP("RunPlacement", "Tasks per node")},
      {"--gpus-per-task", QT_TRANSLATE_NOOP("RunPlacement", "GPUs per task")},
      {"--partition", QT_TRANSLATE_NOOP("RunPlacement", "Partition")},
      {"--time", QT_TRANSLATE_NOOP("RunPlacement", "Time limit")},
      {"--account", QT_TRANSLATE_NOOP("RunPlacement", "Account")},
      {"--job-dir", QT_TRANSLATE_NOOP("RunPlacement", "Job folder")},
  };
  auto it = labels.find(field);
  return it == labels.end() ? QString() : QCoreApplication::translate("RunPlacement", it->second);
}

} // namespace

distillery::RunConfig RunPlacement::placedConfig(const distillery::RunConfig& config) const {
  distillery::RunConfig placed;
  int ranks = 1;
  switch (kind) {
    case Kind::LocalProcesses: // read back, so the config's own checks of a data-parallel run speak
      placed = distillery::RunConfig::fromJson(distillery::configForLocalRanks(config, nproc).toJson());
      ranks = nproc;
      break;
    case Kind::Slurm:
      distillery::checkSlurmOptions(slurm);
      placed = distillery::configForSlurmTasks(config, slurm);
      ranks = slurm.tasks();
      break;
    default: return config;
  }
  // A task whose config does not carry the world size through would run as
  // many independent copies: refused rather than started.
  if (placed.distributed.world_size != ranks)
    throw distillery::ConfigError("distributed.world_size",
                                  "a \"" + config.task + "\" run does not take it in this build, so it cannot run on " +
                                      std::to_string(ranks) + " ranks; run it on this machine");
  return placed;
}

QString RunPlacement::describe() const {
  switch (kind) {
    case Kind::LocalProcesses: return QCoreApplication::translate("RunPlacement", "%n local process(es)", nullptr, nproc);
    case Kind::Slurm:
      return QCoreApplication::translate("RunPlacement", "Slurm: %1 node(s) x %2 task(s)")
          .arg(slurm.nodes)
          .arg(slurm.ntasks_per_node);
    default: return QCoreApplication::translate("RunPlacement", "this machine");
  }
}

RunPlacement rememberedPlacement() {
  QSettings s;
  s.beginGroup(QStringLiteral("runOn"));
  RunPlacement p;
  const QString kind = s.value(QStringLiteral("kind")).toString();
  if (kind == QLatin1String("local")) p.kind = RunPlacement::Kind::LocalProcesses;
  if (kind == QLatin1String("slurm")) p.kind = RunPlacement::Kind::Slurm;
  p.nproc = s.value(QStringLiteral("nproc"), 2).toInt();
  p.slurm.nodes = s.value(QStringLiteral("slurm/nodes"), 1).toInt();
  p.slurm.ntasks_per_node = s.value(QStringLiteral("slurm/ntasksPerNode"), 1).toInt();
  p.slurm.gpus_per_task = s.value(QStringLiteral("slurm/gpusPerTask"), 0).toInt();
  p.slurm.partition = s.value(QStringLiteral("slurm/partition")).toString().toStdString();
  p.slurm.time = s.value(QStringLiteral("slurm/time")).toString().toStdString();
  p.slurm.account = s.value(QStringLiteral("slurm/account")).toString().toStdString();
  p.slurm.job_dir = s.value(QStringLiteral("slurm/jobDir")).toString().toStdString();
  return p;
}

void rememberPlacement(const RunPlacement& p) {
  QSettings s;
  s.beginGroup(QStringLiteral("runOn"));
  s.setValue(QStringLiteral("kind"), QString::fromLatin1(kindKey(p.kind)));
  s.setValue(QStringLiteral("nproc"), p.nproc);
  s.setValue(QStringLiteral("slurm/nodes"), p.slurm.nodes);
  s.setValue(QStringLiteral("slurm/ntasksPerNode"), p.slurm.ntasks_per_node);
  s.setValue(QStringLiteral("slurm/gpusPerTask"), p.slurm.gpus_per_task);
  s.setValue(QStringLiteral("slurm/partition"), QString::fromStdString(p.slurm.partition));
  s.setValue(QStringLiteral("slurm/time"), QString::fromStdString(p.slurm.time));
  s.setValue(QStringLiteral("slurm/account"), QString::fromStdString(p.slurm.account));
  s.setValue(QStringLiteral("slurm/jobDir"), QString::fromStdString(p.slurm.job_dir));
}

QString placementErrorText(const std::exception& error) {
  QString text = QString::fromUtf8(error.what());
  if (const auto* config = dynamic_cast<const distillery::ConfigError*>(&error)) {
    const QString label = formLabel(config->field());
    if (!label.isEmpty()) {
      const QString prefix = QString::fromStdString(config->field()) + QStringLiteral(": ");
      if (text.startsWith(prefix)) text = text.mid(prefix.size());
      return QCoreApplication::translate("RunPlacement", "Run on ▸ %1: %2").arg(label, text);
    }
  }
  return QCoreApplication::translate("RunPlacement", "Run on: %1").arg(text);
}

QString placementError(const distillery::RunConfig& config, const RunPlacement& placement, distillery::RunStore& store) {
  if (placement.kind == RunPlacement::Kind::ThisMachine) return {};
  distillery::RunConfig placed;
  try {
    placed = placement.placedConfig(config);
  } catch (const std::exception& e) {
    return placementErrorText(e);
  }
  try {
    distillery::preflightRun(placed, &store, distillery::PreflightDepth::Quick);
  } catch (const std::exception& e) {
    return QCoreApplication::translate("RunPlacement", "Run on %1: %2")
        .arg(placement.describe(), QString::fromUtf8(e.what()));
  }
  return {};
}

} // namespace distillery::gui
