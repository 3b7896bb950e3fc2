#include "core/cluster/slurm_job_state.h"

#include "core/cluster/process_runner.h"

#include <set>
#include <sstream>

namespace distillery {

namespace {

std::string firstWord(const std::string& text) {
  std::istringstream in(text);
  std::string word;
  in >> word;
  return word;
}

} // namespace

bool SlurmJobState::ended() const {
  if (!known()) return detail.empty(); // the controller answered that it does not know the job
  static const std::set<std::string> active = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED",
                                               "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "SIGNALING",
                                               "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD", "POWER_UP_NODE"};
  return active.count(state) == 0;
}

std::string SlurmJobState::runStatusWord() const {
  return state == "PENDING" || state == "REQUEUED" || state == "REQUEUE_HOLD" ? "queued" : "running";
}

std::string stateFromSqueue(const std::string& out) { return firstWord(out); }

std::string stateFromSacct(const std::string& out) {
  // -X: the allocation's line only; the first word drops "by UID".
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    const std::string word = firstWord(line);
    if (!word.empty()) return word;
  }
  return {};
}

std::string stateFromScontrol(const std::string& out) {
  const auto at = out.find("JobState=");
  if (at == std::string::npos) return {};
  return firstWord(out.substr(at + 9));
}

SlurmJobState querySlurmJob(int64_t job_id) {
  const std::string id = std::to_string(job_id);
  SlurmJobState s;
  // A job squeue does not list (it prints nothing, or "Invalid job id" once
  // the controller forgot it) has left the queue: ask the records after it.
  const ProcessOutput q = runProgram({"squeue", "-h", "-j", id, "-o", "%T"});
  if (!q.found) {
    s.detail = "squeue is not on PATH";
    return s;
  }
  if (q.ok() && !(s.state = stateFromSqueue(q.out)).empty()) {
    s.source = "squeue";
    return s;
  }
  if (q.timed_out) {
    s.detail = "squeue did not answer";
    return s;
  }
  const ProcessOutput a = runProgram({"sacct", "-n", "-X", "-P", "-j", id, "-o", "State"});
  if (a.ok() && !(s.state = stateFromSacct(a.out)).empty()) { // fails where accounting storage is disabled
    s.source = "sacct";
    return s;
  }
  const ProcessOutput c = runProgram({"scontrol", "show", "job", id});
  if (c.ok() && !(s.state = stateFromScontrol(c.out)).empty()) {
    s.source = "scontrol";
    return s;
  }
  s.state.clear();
  // Only the controller saying it does not know the job means it is gone; an
  // unreachable controller says nothing about the job.
  if (c.err.find("Invalid job id") == std::string::npos)
    s.detail = !c.found ? "scontrol is not on PATH" : c.timed_out ? "scontrol did not answer"
                 : c.err.empty()  ? "scontrol show job " + id + " failed"
                                  : c.err;
  return s;
}

} // namespace distillery
