#pragma once
// A one-node Slurm cluster a suite starts for itself (Debian's slurmctld,
// slurmd and munge; config in a temporary folder, SlurmctldHost on
// 127.0.0.1, free ports, munged with its own key and socket), stopped by pid
// when the object goes, even when a test fails. Shared by tst_slurm (the
// CLI) and tst_run_on (the app). Sets SLURM_CONF in this process too, so the
// suite's own Slurm commands (and core/cluster's) reach it.
#include "test_support.h"

#include <QDir>
#include <QFile>
#include <QCoreApplication>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QThread>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace testsupport {

inline const char* const kSlurmctld = "/usr/sbin/slurmctld";

// A TCP port the kernel just gave out on 127.0.0.1.
inline int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

inline QString readText(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

// The one-node cluster: munged, slurmctld and slurmd, each stopped by the pid
// in its pid file when the cluster object goes (the suite's end, or a failure).
class OneNodeCluster {
public:
  ~OneNodeCluster() { stop(); }

  // Empty on success, else what failed with the daemons' logs.
  QString start() {
    if (!dir_.isValid()) return QStringLiteral("no temporary folder");
    const QString d = dir_.path();
    for (const char* sub : {"state", "spool", "munge"}) QDir(d).mkpath(QString::fromLatin1(sub));
    QFile::setPermissions(d + "/munge", QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    {
      QFile key(d + "/munge/munge.key");
      QFile random(QStringLiteral("/dev/urandom"));
      if (!key.open(QIODevice::WriteOnly) || !random.open(QIODevice::ReadOnly)) return QStringLiteral("munge key");
      key.write(random.read(1024));
    }
    QFile::setPermissions(d + "/munge/munge.key", QFileDevice::ReadOwner);
    const testsupport::ProcessResult m = testsupport::runProcess(
        QStringLiteral("/usr/sbin/munged"),
        {"--key-file=" + d + "/munge/munge.key", "--socket=" + d + "/munge/munge.sock",
         "--pid-file=" + d + "/munge/munged.pid", "--log-file=" + d + "/munge/munged.log",
         "--seed-file=" + d + "/munge/seed", QStringLiteral("-f")},
        30000);
    if (m.code != 0) return "munged: " + m.err + readText(d + "/munge/munged.log");
    startWatchdog();

    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    QString node = QString::fromLatin1(host).section(QLatin1Char('.'), 0, 0);
    const QString user = QString::fromLocal8Bit(qgetenv("USER").isEmpty() ? "root" : qgetenv("USER"));
    const long cpus = std::max(2L, ::sysconf(_SC_NPROCESSORS_ONLN));
    QFile conf(d + "/slurm.conf");
    if (!conf.open(QIODevice::WriteOnly)) return QStringLiteral("slurm.conf");
    conf.write(QStringLiteral(
                   "ClusterName=dtest\nSlurmctldHost=%1(127.0.0.1)\nSlurmctldPort=%2\nSlurmdPort=%3\n"
                   "AuthType=auth/munge\nAuthInfo=socket=%4/munge/munge.sock\nCredType=cred/munge\n"
                   "SlurmUser=%5\nSlurmdUser=%5\nStateSaveLocation=%4/state\nSlurmdSpoolDir=%4/spool\n"
                   "SlurmctldPidFile=%4/slurmctld.pid\nSlurmdPidFile=%4/slurmd.pid\n"
                   "SlurmctldLogFile=%4/slurmctld.log\nSlurmdLogFile=%4/slurmd.log\n"
                   "ProctrackType=proctrack/pgid\nTaskPlugin=task/none\nSchedulerType=sched/builtin\n"
                   "SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\nJobCompType=jobcomp/none\n"
                   "AccountingStorageType=accounting_storage/none\nJobAcctGatherType=jobacct_gather/none\n"
                   "MpiDefault=none\nReturnToService=2\nKillWait=10\n"
                   "NodeName=%1 NodeAddr=127.0.0.1 CPUs=%6 State=UNKNOWN\n"
                   "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n")
                   .arg(node)
                   .arg(freePort())
                   .arg(freePort())
                   .arg(d, user)
                   .arg(cpus)
                   .toUtf8());
    conf.close();
    env_ = testsupport::cliEnvironment();
    env_.insert(QStringLiteral("SLURM_CONF"), d + "/slurm.conf");
    qputenv("SLURM_CONF", (d + "/slurm.conf").toLocal8Bit()); // for the suite's own squeue calls
    for (const char* daemon : {"/usr/sbin/slurmctld", "/usr/sbin/slurmd"}) {
      const testsupport::ProcessResult r =
          testsupport::runProcess(QString::fromLatin1(daemon), {QStringLiteral("-f"), d + "/slurm.conf"}, 30000, env_);
      if (r.code != 0) return QString::fromLatin1(daemon) + ": " + r.err + logs();
    }
    // The node reports in within seconds.
    for (int i = 0; i < 60; ++i) {
      const testsupport::ProcessResult s = testsupport::runProcess(
          QStringLiteral("sinfo"), {QStringLiteral("-h"), QStringLiteral("-o"), QStringLiteral("%t")}, 10000, env_);
      if (s.code == 0 && s.out.trimmed() == QLatin1String("idle")) return {};
      QThread::msleep(500);
    }
    return "the node did not become idle within 30 s" + logs();
  }

  void stop() {
    if (!dir_.isValid() || stopped_) return;
    stopped_ = true;
    // Our own cluster's jobs first (SLURM_CONF names it), then the daemons by pid.
    if (QFile::exists(dir_.path() + "/slurmctld.pid"))
      testsupport::runProcess(QStringLiteral("scancel"), {QStringLiteral("--user=") + qEnvironmentVariable("USER", "root")},
                              10000, env_);
    for (const char* file : {"/slurmd.pid", "/slurmctld.pid", "/munge/munged.pid"}) {
      const pid_t pid = readText(dir_.path() + QString::fromLatin1(file)).trimmed().toInt();
      if (pid <= 0) continue;
      ::kill(pid, SIGTERM);
      for (int i = 0; i < 100 && ::kill(pid, 0) == 0; ++i) QThread::msleep(100);
      if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
      QFile::remove(dir_.path() + QString::fromLatin1(file)); // the watchdog must not kill a reused pid
    }
  }

  // A suite that is killed (ctest's timeout sends SIGKILL) runs no destructor,
  // and the daemons, which detach, would live on. A detached watcher stops them
  // by their pid files once the suite's process is gone; after a normal stop
  // the pid files and the folder are gone and it does nothing.
  void startWatchdog() {
    const QString d = dir_.path();
    const QString script =
        QStringLiteral("while kill -0 %1 2>/dev/null; do sleep 2; done; "
                       "for f in '%2/slurmd.pid' '%2/slurmctld.pid' '%2/munge/munged.pid'; do "
                       "[ -f \"$f\" ] && kill \"$(cat \"$f\")\" 2>/dev/null; done; sleep 2; rm -rf '%2'")
            .arg(QCoreApplication::applicationPid())
            .arg(d);
    QProcess::startDetached(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), script});
  }

  QString logs() const {
    return "\n--- slurmctld.log\n" + readText(dir_.path() + "/slurmctld.log").right(3000) + "\n--- slurmd.log\n" +
           readText(dir_.path() + "/slurmd.log").right(3000);
  }
  const QProcessEnvironment& env() const { return env_; }
  QString path() const { return dir_.path(); }

private:
  QTemporaryDir dir_;
  QProcessEnvironment env_;
  bool stopped_ = false;
};

} // namespace testsupport
