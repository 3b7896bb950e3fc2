#include "core/cluster/slurm_options.h"

#include "core/base/errors.h"

#include <cctype>
#include <regex>

namespace distillery {

namespace {

// #SBATCH lines are not parsed by a shell: a value with blanks or quotes
// would be cut or passed on verbatim, so such values are refused.
void checkWord(const std::string& option, const std::string& value) {
  for (char c : value)
    if (std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == '\\' || c == '$' || c == '`')
      throw ConfigError(option, "\"" + value + "\" holds a blank, quote, $ or backslash, which an #SBATCH line cannot carry");
}

} // namespace

void checkSlurmOptions(const SlurmOptions& o) {
  if (o.nodes < 1) throw ConfigError("--nodes", "needs at least 1 node, got " + std::to_string(o.nodes));
  if (o.ntasks_per_node < 1)
    throw ConfigError("--ntasks-per-node", "needs at least 1 task (rank) per node, got " + std::to_string(o.ntasks_per_node));
  if (o.gpus_per_task < 0) throw ConfigError("--gpus-per-task", "cannot be negative, got " + std::to_string(o.gpus_per_task));
  if (!o.time.empty()) {
    // Slurm reads more forms; this one is unambiguous: hours, not minutes, come first.
    static const std::regex hms(R"((\d+-)?\d{1,3}:[0-5]\d:[0-5]\d)");
    if (!std::regex_match(o.time, hms))
      throw ConfigError("--time", "expected HH:MM:SS or D-HH:MM:SS (e.g. 02:00:00), got \"" + o.time + "\"");
  }
  checkWord("--partition", o.partition);
  checkWord("--account", o.account);
  checkWord("--job-dir", o.job_dir);
}

} // namespace distillery
