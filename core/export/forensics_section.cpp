#include "core/export/forensics_section.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

namespace distillery {

namespace {

std::string significant(double v, int digits) {
  std::ostringstream o;
  o << std::setprecision(digits) << v;
  return o.str();
}

std::string named(const std::string& who, const std::map<std::string, std::string>& labels) {
  const auto it = labels.find(who);
  return it == labels.end() ? who : it->second;
}

// "a, b, c" of a JSON array (numbers as written, run ids as #ID when asked).
std::string joined(const nlohmann::json& list, const char* prefix = "") {
  if (!list.is_array()) return list.is_null() ? "" : list.dump();
  std::string out;
  for (const auto& v : list) {
    if (!out.empty()) out += ", ";
    out += prefix + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

std::string field(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

} // namespace

std::vector<ForensicResult> forensicResultsOfRuns(RunStore& store, const std::vector<int64_t>& run_ids) {
  std::vector<std::string> names;
  for (int64_t id : run_ids) names.push_back("run:" + std::to_string(id));
  const auto mine = [&](const std::string& who) { return std::find(names.begin(), names.end(), who) != names.end(); };
  std::vector<ForensicResult> out;
  for (ForensicResult& r : store.forensicResults())
    if (mine(r.suspect) || mine(r.reference)) out.push_back(std::move(r));
  return out;
}

std::string forensicVerdict(const ForensicResult& r, const std::map<std::string, std::string>& labels) {
  return distillery::forensicVerdict(r.result, named(r.reference, labels));
}

TableData forensicResultsTable(const std::vector<ForensicResult>& results,
                               const std::map<std::string, std::string>& labels) {
  TableData t;
  t.caption = "Forensic tests of the runs (stored results of distillery-cli forensics)";
  t.headers = {"result", "test", "suspect", "reference", "null size", "statistic", "p-value", "verdict"};
  t.numeric = {true, false, false, false, true, true, true, false};
  for (const ForensicResult& r : results) {
    const nlohmann::json& j = r.result;
    const bool ran = !j.contains("skipped");
    const std::string closer = field(j, "closer"); // "higher" or "lower"
    t.rows.push_back({"#" + std::to_string(r.id), closer.empty() ? r.kind : r.kind + " (" + closer + " is closer)",
                      named(r.suspect, labels), named(r.reference, labels),
                      ran ? field(j, "null_size") : "",
                      ran && j.contains("statistic") ? significant(j["statistic"].get<double>(), 4) : "",
                      ran && j.contains("p_value") ? significant(j["p_value"].get<double>(), 3) : "",
                      forensicVerdict(r, labels)});
  }
  return t;
}

TableData forensicSourcesTable(const std::vector<ForensicResult>& results) {
  TableData t;
  t.caption = "What each forensic result was computed from";
  t.headers = {"result", "computed", "tests", "inputs", "seed", "null runs", "data"};
  t.numeric = {true, false, false, true, true, false, false};
  for (const ForensicResult& r : results) {
    const nlohmann::json& in = r.inputs;
    std::string data;
    if (in.contains("data") && in["data"].is_object()) {
      data = field(in["data"], "dataset");
      const std::string hash = field(in["data"], "content_hash");
      if (!hash.empty()) data += " (" + (hash.size() <= 28 ? hash : hash.substr(0, 24) + "…") + ")";
    }
    const std::string inputs = field(r.result, "inputs").empty() ? field(in, "inputs") : field(r.result, "inputs");
    t.rows.push_back({"#" + std::to_string(r.id), r.created_at, joined(in.value("tests", nlohmann::json())), inputs,
                      field(in, "seed"), joined(in.value("null", nlohmann::json()), "#"), data});
  }
  return t;
}

const char* forensicsSectionIntro() {
  return "Was a suspect model copied from a reference teacher? Each test's statistic is compared with those of "
         "independent models trained on the same task without the teacher (the null); the p-value is the suspect's "
         "rank among them, +1 corrected, so it cannot fall below 1/(null size + 1). A result is called a copy at "
         "p <= 0.05.";
}

} // namespace distillery
