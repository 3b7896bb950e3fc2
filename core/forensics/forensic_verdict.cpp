#include "core/forensics/forensic_verdict.h"

#include <cmath>
#include <sstream>

namespace distillery {

namespace {
std::string significant(double v) {
  std::ostringstream o;
  o.precision(3);
  o << v;
  return o.str();
}
} // namespace

std::string forensicModelLabel(const std::string& id) {
  if (id.rfind("run:", 0) == 0) return "#" + id.substr(4);
  if (id.rfind("http://", 0) == 0 || id.rfind("https://", 0) == 0) return id;
  const size_t slash = id.find_last_of('/');
  return slash == std::string::npos ? id : id.substr(slash + 1);
}

int64_t forensicNullNeeded() { return int64_t(std::ceil(1.0 / kForensicLevel - 1.0 - 1e-9)); }

std::string forensicVerdict(const nlohmann::json& result, const std::string& reference) {
  if (result.contains("skipped"))
    return "skipped: " + (result["skipped"].is_string() ? result["skipped"].get<std::string>() : result["skipped"].dump());
  if (!result.contains("p_value") || !result.contains("null_size")) return "no p-value stored";
  const double p = result["p_value"].get<double>();
  const auto n = result["null_size"].get<int64_t>();
  const std::string models = std::to_string(n) + " independent model" + (n == 1 ? "" : "s");
  const std::string against = "p = " + significant(p) + " against " + models;
  if (p <= kForensicLevel) return "distilled from " + reference + ": " + against;
  // The rank p-value cannot go below 1/(n+1): say when the null, not the suspect, is why.
  if (1.0 / double(n + 1) > kForensicLevel && p <= 1.0 / double(n + 1) + 1e-12)
    return "inconclusive: p = " + significant(p) + ", the smallest a null of " + models + " allows; p <= " +
           significant(kForensicLevel) + " needs at least " + std::to_string(forensicNullNeeded());
  return "no evidence of copying: " + against;
}

} // namespace distillery
