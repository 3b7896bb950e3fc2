#include "widgets/external_run_controller.h"

#include "core/base/errors.h"
#include "core/cluster/slurm_cancel.h"
#include "core/cluster/slurm_refresh.h"
#include "core/cluster/slurm_submit.h"
#include "core/distributed/local_launcher.h"
#include "core/store/run_status.h"
#include "core/store/run_store.h"
#include "core/training/engine.h"
#include "core/training/run_preflight.h"
#include "widgets/run_meta_types.h"
#include "widgets/run_placement.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

namespace distillery::gui {

namespace {

constexpr int kTailLines = 12;
constexpr int kStopWaitMs = 60000; // ranks agree on a step and rank 0 checkpoints: seconds, not minutes

// What rank 0's StderrObserver prints (app/cli_main.cpp): the run it queued,
// the teacher it trains first, and its progress once a second.
const QRegularExpression& queuedLine() {
  static const QRegularExpression re(QStringLiteral("^run (\\d+): .* queued in "));
  return re;
}
const QRegularExpression& teacherLine() {
  static const QRegularExpression re(QStringLiteral("^run (\\d+): its teacher trains as run (\\d+)"));
  return re;
}
const QRegularExpression& progressLine() {
  static const QRegularExpression re(QStringLiteral(
      "^run (\\d+): ([0-9.]+)% overall; (\\S+) phase(?: step (\\d+)/(\\d+), epoch ([0-9.]+))?(?:; eta (\\d+)s)?"));
  return re;
}

} // namespace

ExternalRunController::ExternalRunController(distillery::RunStore& guiStore, QObject* parent)
    : QObject(parent), store_(guiStore), storePath_(guiStore.path()), cli_(defaultCliPath()) {
  registerRunMetaTypes();
  qRegisterMetaType<distillery::gui::SlurmStates>();
  pollThread_ = new QThread(this);
  pollThread_->setObjectName(QStringLiteral("slurm-poll"));
  pollWorker_ = new SlurmPollWorker(storePath_);
  pollWorker_->moveToThread(pollThread_);
  connect(pollWorker_, &SlurmPollWorker::polled, this, &ExternalRunController::onPolled);
  pollThread_->start();
  pollTimer_ = new QTimer(this);
  pollTimer_->setInterval(5000);
  connect(pollTimer_, &QTimer::timeout, this, [this] { startPoll(false); });
  pollTimer_->start();
  pollSlurmNow(); // jobs submitted earlier, by the app or the CLI
}

ExternalRunController::~ExternalRunController() {
  pollTimer_->stop();
  cancelAll();
  for (auto& [process, launch] : launches_) {
    process->disconnect(this);
    if (!process->waitForFinished(kStopWaitMs)) {
      process->kill();
      process->waitForFinished(5000);
    }
  }
  launches_.clear();
  // The worker's connection closes on its own thread, then the thread ends.
  QMetaObject::invokeMethod(pollWorker_, &SlurmPollWorker::closeStore, Qt::BlockingQueuedConnection);
  pollThread_->quit();
  pollThread_->wait();
  delete pollWorker_;
}

QString ExternalRunController::defaultCliPath() {
  return QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("distillery-cli"));
}

void ExternalRunController::setSlurmPollInterval(int ms) { pollTimer_->setInterval(ms); }

void ExternalRunController::requireCli(const char* what) const {
  if (!QFileInfo(cli_).isExecutable())
    throw distillery::DistilleryError(std::string("cannot ") + what + ": distillery-cli is not at " + cli_.toStdString() +
                                      " (it is installed beside the app)");
}

void ExternalRunController::launchLocal(const distillery::RunConfig& config, int nproc) {
  requireCli("start local processes");
  RunPlacement placement; // the dialog's checks: the config's own, and a world size it keeps
  placement.kind = RunPlacement::Kind::LocalProcesses;
  placement.nproc = nproc;
  const distillery::RunConfig placed = placement.placedConfig(config);
  distillery::preflightRun(placed, &store_); // refused here, in one process, what every rank would refuse

  auto launch = std::make_unique<Launch>();
  launch->ranks = nproc;
  launch->dir = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/distillery-gui-launch-XXXXXX"));
  if (!launch->dir->isValid()) throw distillery::DistilleryError("cannot create a temporary folder for the launch");
  const QString configPath = launch->dir->filePath(QStringLiteral("config.json"));
  {
    QFile file(configPath); // the run's config, never the store
    if (!file.open(QIODevice::WriteOnly) || file.write(QByteArray::fromStdString(placed.toJson().dump(2))) < 0)
      throw distillery::DistilleryError("cannot write " + configPath.toStdString());
  }
  start(std::move(launch), {configPath});
}

void ExternalRunController::resumeLocal(int64_t runId, int nproc) {
  requireCli("resume on local processes");
  auto launch = std::make_unique<Launch>();
  launch->ranks = nproc;
  launch->runId = runId;
  start(std::move(launch), {QStringLiteral("--resume"), QString::number(runId)});
  Q_EMIT runLaunched(runId, nproc);
}

ExternalRunController::Launch& ExternalRunController::start(std::unique_ptr<Launch> launch, const QStringList& args) {
  launch->process = std::make_unique<QProcess>();
  QProcess* process = launch->process.get();
  Launch* raw = launch.get();
  connect(process, &QProcess::readyReadStandardError, this, [this, raw] { readStderr(*raw); });
  connect(process, &QProcess::readyReadStandardOutput, this, [process] { process->readAllStandardOutput(); });
  connect(process, &QProcess::finished, this, [this, process] { onFinished(process); });
  process->start(cli_, QStringList{QStringLiteral("launch"), QStringLiteral("--nproc"), QString::number(launch->ranks)} +
                           args + QStringList{QStringLiteral("--db"), QString::fromStdString(storePath_)});
  if (!process->waitForStarted(10000))
    throw distillery::DistilleryError("cannot start " + cli_.toStdString() + ": " + process->errorString().toStdString());
  return *launches_.emplace(process, std::move(launch)).first->second;
}

void ExternalRunController::readStderr(Launch& launch) {
  launch.pending += QString::fromUtf8(launch.process->readAllStandardError());
  int end;
  while ((end = launch.pending.indexOf(u'\n')) >= 0) {
    const QString line = launch.pending.left(end);
    launch.pending.remove(0, end + 1);
    onLine(launch, line);
  }
}

void ExternalRunController::onLine(Launch& launch, const QString& line) {
  launch.tail << line;
  while (launch.tail.size() > kTailLines) launch.tail.removeFirst();
  if (launch.runId == 0) {
    const auto m = queuedLine().match(line);
    if (m.hasMatch()) {
      launch.runId = m.captured(1).toLongLong();
      Q_EMIT runLaunched(launch.runId, launch.ranks);
      if (!launch.failedRank.isEmpty()) Q_EMIT rankFailed(launch.runId, launch.failedRank); // before rank 0 queued it
      return;
    }
  }
  if (line.startsWith(QLatin1String("launch: rank ")) && line.contains(QLatin1String("waiting up to"))) {
    launch.failedRank = line.mid(8);
    if (launch.runId != 0) Q_EMIT rankFailed(launch.runId, launch.failedRank);
    return;
  }
  if (const auto m = teacherLine().match(line); m.hasMatch()) {
    launch.children.insert(m.captured(2).toLongLong());
    return;
  }
  if (const auto m = progressLine().match(line); m.hasMatch()) {
    distillery::RunProgress p;
    p.run_id = m.captured(1).toLongLong();
    p.fraction = m.captured(2).toDouble() / 100.0;
    p.phase = m.captured(3).toStdString();
    p.phase_step = m.captured(4).toLongLong();
    p.phase_steps = m.captured(5).toLongLong();
    p.epoch = m.captured(6).toDouble();
    p.eta_s = m.captured(7).isEmpty() ? -1.0 : m.captured(7).toDouble();
    Q_EMIT progressChanged(p);
  }
}

void ExternalRunController::onFinished(QProcess* process) {
  auto it = launches_.find(process);
  if (it == launches_.end()) return;
  std::unique_ptr<Launch> launch = std::move(it->second);
  launches_.erase(it);
  readStderr(*launch);
  if (!launch->pending.isEmpty()) onLine(*launch, launch->pending);
  const bool ok = process->exitStatus() == QProcess::NormalExit && process->exitCode() == 0;
  const bool interrupted = process->exitStatus() == QProcess::NormalExit && process->exitCode() == 130;
  QString message;
  QStringList launcherReason;
  if (!ok && !interrupted) {
    // The launcher's own words first: which rank failed and how, and the end
    // of that rank's log it prints after; then the errors rank 0 printed.
    QStringList others;
    bool inRankLog = false;
    for (const QString& line : launch->tail) {
      if (line.startsWith(QLatin1String("error: launch:"))) {
        launcherReason << line.mid(7);
        inRankLog = false;
      } else if (line.startsWith(QLatin1String("the end of rank"))) {
        launcherReason << line;
        inRankLog = true;
      } else if (inRankLog && line.startsWith(u' ')) {
        launcherReason << line;
      } else {
        inRankLog = false;
        if (line.startsWith(QLatin1String("error:"))) others << line.mid(7);
      }
    }
    QStringList reason = launcherReason;
    if (!others.isEmpty()) reason << (launcherReason.isEmpty() ? others : QStringList{tr("rank 0: %1").arg(others.join(u'\n'))});
    message = reason.isEmpty() ? launch->tail.mid(std::max(0, int(launch->tail.size()) - 3)).join(u'\n')
                               : reason.join(u'\n');
    if (process->exitStatus() != QProcess::NormalExit) message = tr("the launcher crashed. %1").arg(message);
  }
  process->disconnect(this); // its lambdas hold the Launch, which goes now
  launch->process.release()->deleteLater(); // we are inside its signal
  if (launch->runId == 0) {
    Q_EMIT launchFailed(message.isEmpty() ? tr("the launcher ended before a run was queued") : message);
    return;
  }
  QString status = ok ? QStringLiteral("finished") : interrupted ? QStringLiteral("cancelled") : QStringLiteral("failed");
  try {
    if (!ok && !interrupted)
      recordLauncherFailure(*launch, launcherReason.isEmpty() ? message : launcherReason.join(u'\n'));
    if (const auto record = store_.run(launch->runId)) status = QString::fromStdString(distillery::toString(record->status));
  } catch (const std::exception&) {
  }
  Q_EMIT runFinished(launch->runId, status, message);
}

void ExternalRunController::recordLauncherFailure(const Launch& launch, const QString& message) {
  // Rank 0 records its own end, but not when the launcher had to kill it
  // (waiting on a rank that died), nor why another rank failed: without this
  // the run reads "running" until the next look at the store, then
  // "interrupted ... (crash or kill)" with no word of the rank that failed.
  const bool otherRank = message.contains(QRegularExpression(QStringLiteral("rank [1-9][0-9]* failed")));
  std::vector<int64_t> ids{launch.runId};
  ids.insert(ids.end(), launch.children.begin(), launch.children.end());
  for (int64_t id : ids) {
    const auto record = store_.run(id);
    if (!record) continue;
    const bool unended = record->status == distillery::RunStatus::Running || record->status == distillery::RunStatus::Queued;
    if (!unended && !(otherRank && id == launch.runId && distillery::isTerminal(record->status) &&
                      record->status != distillery::RunStatus::Finished && record->status != distillery::RunStatus::Cancelled))
      continue;
    std::string error = message.toStdString();
    if (!unended && !record->error.empty()) error += "\nrank 0: " + record->error;
    // A lost rank leaves the run resumable from its last checkpoint, as rank 0 marks it when it can.
    const distillery::RunStatus status = unended ? distillery::RunStatus::Interrupted : record->status;
    store_.setStatus(id, status, error);
    distillery::LogEvent event;
    event.run_id = id;
    event.level = "error";
    event.message = error;
    store_.appendLogs({event});
  }
}

ExternalRunController::Launch* ExternalRunController::findLaunch(int64_t runId) {
  for (auto& [process, launch] : launches_)
    if (launch->runId == runId || launch->children.count(runId)) return launch.get();
  return nullptr;
}

const ExternalRunController::Launch* ExternalRunController::findLaunch(int64_t runId) const {
  return const_cast<ExternalRunController*>(this)->findLaunch(runId);
}

bool ExternalRunController::isLaunchedHere(int64_t runId) const { return runId != 0 && findLaunch(runId) != nullptr; }

bool ExternalRunController::isCancellable(int64_t runId) const {
  if (isLaunchedHere(runId)) return true;
  try {
    const auto record = store_.run(runId);
    return record && distillery::hasSlurmJobOut(*record);
  } catch (const std::exception&) {
    return false;
  }
}

bool ExternalRunController::cancelRun(int64_t runId) {
  if (Launch* launch = findLaunch(runId)) {
    // The launcher forwards the first SIGTERM as SIGINT to every rank and kills them on the second.
    ++launch->interrupts;
    launch->process->terminate();
    return true;
  }
  const auto record = store_.run(runId);
  if (!record || !distillery::hasSlurmJobOut(*record)) return false;
  distillery::cancelSlurmJob(record->slurm_job_id);
  pollSlurmNow();
  return true;
}

void ExternalRunController::cancelAll() {
  for (auto& [process, launch] : launches_)
    if (launch->interrupts == 0) {
      ++launch->interrupts;
      process->terminate();
    }
}

int64_t ExternalRunController::submitToSlurm(const distillery::RunConfig& config,
                                             const distillery::SlurmOptions& options) {
  RunPlacement placement;
  placement.kind = RunPlacement::Kind::Slurm;
  placement.slurm = options;
  const distillery::RunConfig placed = placement.placedConfig(config); // checkSlurmOptions, then the tasks' world size
  distillery::requireSbatch(); // before the run is queued
  requireCli("submit (the job's tasks run distillery-cli)");
  distillery::preflightRun(placed, &store_); // a config that cannot start leaves no row
  const int64_t id = distillery::queueRun(store_, placed);
  const distillery::SlurmSubmission sub =
      distillery::submitRunToSlurm(store_, id, options, QFileInfo(cli_).absoluteFilePath().toStdString());
  (void)sub;
  pollSlurmNow();
  return id;
}

void ExternalRunController::pollSlurmNow() {
  QTimer::singleShot(0, this, [this] { startPoll(true); });
}

void ExternalRunController::setJobsOut(bool out) {
  jobsOut_ = out;
  if (!out && !slurmStates_.empty()) { // the last job was imported
    slurmStates_.clear();
    Q_EMIT slurmStatesChanged(slurmStates_);
  }
}

void ExternalRunController::startPoll(bool forced) {
  if (!forced && !jobsOut_) return;
  if (polling_) return; // one question at a time; the next tick asks again
  polling_ = true;
  QMetaObject::invokeMethod(pollWorker_, &SlurmPollWorker::poll, Qt::QueuedConnection);
}

void ExternalRunController::onPolled(const SlurmStates& states, const QStringList& settled, const QString& error) {
  polling_ = false;
  const bool changed = states.size() != slurmStates_.size() ||
                       !std::equal(states.begin(), states.end(), slurmStates_.begin(), [](const auto& a, const auto& b) {
                         return a.first == b.first && a.second.state == b.second.state &&
                                a.second.detail == b.second.detail;
                       });
  slurmStates_ = states;
  if (changed) Q_EMIT slurmStatesChanged(slurmStates_);
  QStringList news = settled;
  if (!error.isEmpty()) news << tr("Slurm: %1").arg(error);
  if (!news.isEmpty()) Q_EMIT slurmNews(news);
}

} // namespace distillery::gui
