#include "core/distributed/local_launcher.h"

#include "core/base/errors.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace distillery {

namespace {

volatile sig_atomic_t g_interrupts = 0;
void onInterrupt(int) { ++g_interrupts; }

std::string describeExit(int status) {
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
                                  strsignal(WTERMSIG(status)) + ")";
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

bool succeeded(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

// The last lines of a rank's log, for the error message.
std::string tail(const std::string& path, int lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string out;
  for (size_t i = all.size() > size_t(lines) ? all.size() - size_t(lines) : 0; i < all.size(); ++i)
    out += "  " + all[i] + "\n";
  return out;
}

pid_t spawn(const std::string& exe, const std::vector<std::string>& args, const std::vector<std::string>& env,
            const std::string& log) {
  std::vector<std::string> argv_text{exe};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  const pid_t pid = fork();
  if (pid < 0) throw DistilleryError(std::string("launch: fork failed: ") + std::strerror(errno));
  if (pid > 0) return pid;
  // Child: its own environment entries, its log, then distillery-cli.
  for (const auto& kv : env) putenv(const_cast<char*>(kv.c_str()));
  if (!log.empty()) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
  }
  signal(SIGINT, SIG_DFL);
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(exe.c_str(), argv.data());
  std::perror("launch: exec");
  _exit(127);
}

} // namespace

RunConfig configForLocalRanks(RunConfig config, int nproc) {
  if (nproc < 1) throw ConfigError("--nproc", "needs at least 1 rank, got " + std::to_string(nproc));
  if (config.distributed.world_size == 1) config.distributed.world_size = nproc;
  if (config.distributed.world_size != nproc)
    throw ConfigError("distributed.world_size", "is " + std::to_string(config.distributed.world_size) +
                                                    ", but --nproc starts " + std::to_string(nproc) + " ranks");
  return config;
}

int freeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw DistilleryError(std::string("launch: socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0; // the kernel picks
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw DistilleryError(std::string("launch: no free port on 127.0.0.1: ") + std::strerror(errno));
  }
  close(fd);
  return ntohs(addr.sin_port);
}

int launchLocalRanks(const LaunchPlan& plan) {
  namespace fs = std::filesystem;
  std::string pattern = (fs::temp_directory_path() / "distillery-launch-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw DistilleryError("launch: cannot create a temporary folder: " + pattern);
  const fs::path dir = pattern;
  const std::string config = (dir / "config.json").string();
  std::ofstream(config) << plan.config_json;
  std::string scratch_config = config;
  if (!plan.scratch_config_json.empty()) {
    scratch_config = (dir / "scratch-config.json").string();
    std::ofstream(scratch_config) << plan.scratch_config_json;
  }
  auto scratchStore = [&](int r) { return (dir / ("rank" + std::to_string(r) + ".sqlite")).string(); };
  try {
    if (plan.seed_scratch)
      for (int r = 1; r < plan.nproc; ++r) plan.seed_scratch(scratchStore(r));
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    throw;
  }
  const int port = freeLoopbackPort();
  std::cerr << "launch: " << plan.nproc << " ranks on 127.0.0.1:" << port << "; ranks 1.." << plan.nproc - 1
            << " log to " << dir.string() << "\n";

  struct sigaction sa {}, old_int {}, old_term {};
  sa.sa_handler = onInterrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  g_interrupts = 0;

  std::vector<pid_t> pids(size_t(plan.nproc), -1);
  std::vector<int> status(size_t(plan.nproc), 0);
  std::vector<bool> done(size_t(plan.nproc), false);
  for (int r = 0; r < plan.nproc; ++r) {
    const std::vector<std::string> env = {"RANK=" + std::to_string(r), "WORLD_SIZE=" + std::to_string(plan.nproc),
                                          "LOCAL_RANK=" + std::to_string(r), "MASTER_ADDR=127.0.0.1",
                                          "MASTER_PORT=" + std::to_string(port)};
    const std::string log = r == 0 ? "" : (dir / ("rank" + std::to_string(r) + ".log")).string();
    const std::vector<std::string> args =
        r == 0 ? (plan.resume_run > 0 ? std::vector<std::string>{"resume", std::to_string(plan.resume_run), "--db", plan.store}
                                      : std::vector<std::string>{"run", config, "--db", plan.store})
               : std::vector<std::string>{"run", scratch_config, "--db", scratchStore(r)};
    pids[size_t(r)] = spawn(plan.exe, args, env, log);
    std::cerr << "launch: rank " << r << " is pid " << pids[size_t(r)] << "\n";
  }

  using Clock = std::chrono::steady_clock;
  int failed = -1, forwarded = 0, left = plan.nproc;
  Clock::time_point failed_at;
  bool killed = false;
  while (left > 0) {
    for (int r = 0; r < plan.nproc; ++r) {
      if (done[size_t(r)]) continue;
      int st = 0;
      if (waitpid(pids[size_t(r)], &st, WNOHANG) == pids[size_t(r)]) {
        done[size_t(r)] = true;
        status[size_t(r)] = st;
        --left;
        if (!succeeded(st) && failed < 0 && g_interrupts == 0) {
          failed = r;
          failed_at = Clock::now();
          std::cerr << "launch: rank " << r << " " << describeExit(st) << "; waiting up to " << plan.grace_s
                    << " s for the other ranks to end\n";
        }
      }
    }
    // Ctrl-C: every rank gets SIGINT (each stops at the same step and rank 0 checkpoints); a second one kills.
    // Once a rank has failed the others cannot agree on a step (they wait on
    // the dead one until their timeout), so the first one kills them.
    if (g_interrupts > forwarded) {
      const int sig = forwarded == 0 && failed < 0 ? SIGINT : SIGKILL;
      if (failed >= 0 && forwarded == 0)
        std::cerr << "launch: interrupted while the ranks waited on rank " << failed << ", which had failed; killing them\n";
      for (int r = 0; r < plan.nproc; ++r)
        if (!done[size_t(r)]) kill(pids[size_t(r)], sig);
      forwarded = int(g_interrupts);
    }
    if (failed >= 0 && !killed && left > 0 &&
        std::chrono::duration<double>(Clock::now() - failed_at).count() > plan.grace_s) {
      for (int r = 0; r < plan.nproc; ++r)
        if (!done[size_t(r)]) {
          std::cerr << "launch: rank " << r << " did not end within " << plan.grace_s << " s; killing it\n";
          kill(pids[size_t(r)], SIGKILL);
        }
      killed = true;
    }
    if (left > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);

  if (failed < 0) { // the logs are kept when a rank failed
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  if (failed < 0 && g_interrupts > 0) { // an interrupt after a rank failed still reports the failure
    std::cerr << "launch: interrupted; rank 0 " << describeExit(status[0]) << "\n";
    return 130;
  }
  if (failed < 0) return 0;
  std::string message = "error: launch: rank " + std::to_string(failed) + " failed: it " +
                        describeExit(status[size_t(failed)]);
  for (int r = 0; r < plan.nproc; ++r)
    if (r != failed && !succeeded(status[size_t(r)])) message += "; rank " + std::to_string(r) + " " + describeExit(status[size_t(r)]);
  std::cerr << message << "\n";
  if (failed > 0)
    std::cerr << "the end of rank " << failed << "'s log (" << (dir / ("rank" + std::to_string(failed) + ".log")).string()
              << "):\n" << tail((dir / ("rank" + std::to_string(failed) + ".log")).string(), 5);
  return 1;
}

} // namespace distillery
