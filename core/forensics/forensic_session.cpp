#include "core/forensics/forensic_session.h"

#include "core/base/errors.h"
#include "core/config/run_config.h"
#include "core/data/dataset.h"
#include "core/forensics/forensic_model.h"
#include "core/store/run_store.h"

#include <algorithm>
#include <optional>

namespace distillery {

namespace {

std::string runName(int64_t id) { return "run:" + std::to_string(id); }

std::vector<ForensicTest> testsOf(const std::vector<std::string>& words) {
  std::vector<ForensicTest> tests;
  for (const std::string& word : words) {
    const auto t = forensicTestFromString(word);
    if (!t) throw ConfigError("--tests", "expected agreement, sac or fingerprint, not \"" + word + "\"");
    tests.push_back(*t);
  }
  if (tests.empty()) throw ConfigError("--tests", "expected at least one of agreement, sac or fingerprint");
  return tests;
}

void checkInputs(int64_t inputs) {
  if (inputs < 2 || inputs > 10000) throw ConfigError("--inputs", "expected 2 to 10000 inputs per test");
}

// Loads models one by one, telling progress (loading a null of tens of runs takes a while).
struct Loader {
  const ForensicProgress& progress;
  int64_t total;
  int64_t done = 0;
  void step(const std::string& what) { reportForensicStep(progress, "loading " + what, done++, total); }
};

// A run already given a role in a request, and the words that say which.
using TakenRuns = std::vector<std::pair<int64_t, std::string>>;

// Loads the choice's surrogates into options, after the checks forensics-roc
// makes on its own: each model has one role (examples crafted towards or away
// from a null, negative or positive model would bias its statistics by
// construction), and a reference is independent of the teacher (a student of
// it as a reference would push the examples away from what copies do).
void loadSurrogates(RunStore& store, const FingerprintCraftingChoice& choice, const Dataset& data, TakenRuns taken,
                    std::optional<int64_t> teacher_run, int64_t task_run, Loader& load,
                    ForensicOptions& options) {
  auto take = [&](const std::vector<int64_t>& ids, const std::string& field, const std::string& role, bool independent,
                  std::vector<Classifier>& into) {
    for (int64_t id : ids) {
      for (const auto& [other, what] : taken)
        if (other == id)
          throw ConfigError(field, "run " + std::to_string(id) + " is " + what +
                                       "; the fingerprints' surrogates need models of their own");
      load.step("the fingerprints' surrogates");
      into.push_back(forensicModelFromRun(store, id, data, field).local);
      if (independent) checkIndependentRun(store, id, teacher_run, task_run, field);
      taken.emplace_back(id, role);
    }
  };
  take(choice.confer_with, "--confer-with", "a surrogate student", false, options.fingerprint_followers);
  take(choice.confer_against, "--confer-against", "a surrogate reference", true, options.fingerprint_refusers);
}

} // namespace

// "12" or "run:12": a run id; anything else is not one.
std::optional<int64_t> forensicRunId(const std::string& word) {
  const std::string digits = word.rfind("run:", 0) == 0 ? word.substr(4) : word;
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoll(digits);
}

// The data a run was trained on, preprocessed as it was: what the tests probe with.
Dataset forensicDataOf(RunStore& store, int64_t run_id, const std::string& field) {
  const auto run = store.run(run_id);
  if (!run) throw ConfigError(field, "run " + std::to_string(run_id) + " does not exist in " + store.path());
  const RunConfig config = RunConfig::fromJsonText(run->config_json);
  return loadDataset(config.data, config.seed);
}

nlohmann::json ForensicSession::toJson() const {
  nlohmann::json results = nlohmann::json::array();
  for (size_t i = 0; i < outcomes.size(); ++i) {
    nlohmann::json r = outcomes[i].toJson();
    r["id"] = i < result_ids.size() ? result_ids[i] : 0;
    results.push_back(r);
  }
  return nlohmann::json{{"suspect", suspect_id}, {"suspect_description", suspect_description},
                        {"teacher", teacher_id}, {"null", null}, {"inputs", inputs},
                        {"suspect_queries", suspect_queries}, {"results", results}};
}

ForensicOptions forensicOptionsOf(const ForensicRequest& request) {
  if (request.null.empty()) throw ConfigError("--null", "expected the ids of independent runs, e.g. --null 3,4,5");
  ForensicOptions options;
  options.tests = testsOf(request.tests);
  checkInputs(request.inputs);
  options.inputs = request.inputs;
  options.seed = request.seed;
  options.fingerprint.crafting = fingerprintCraftingOf(request.fingerprint, options.tests);
  return options;
}

FingerprintCrafting fingerprintCraftingOf(const FingerprintCraftingChoice& choice, const std::vector<ForensicTest>& tests) {
  return fingerprintCraftingOf(choice.crafting, tests, choice.confer_with.size(), choice.confer_against.size());
}

void checkIndependentRun(RunStore& store, int64_t run_id, std::optional<int64_t> teacher_run, int64_t task_run,
                         const std::string& field) {
  const auto run = store.run(run_id);
  if (!run) throw ConfigError(field, "run " + std::to_string(run_id) + " does not exist in " + store.path());
  if (teacher_run && run->teacher_run_id == *teacher_run)
    throw ConfigError(field, "run " + std::to_string(run_id) + " was distilled from the teacher (run " +
                                 std::to_string(*teacher_run) + "): not an independent model");
  const auto task = store.run(task_run);
  if (!task) throw ConfigError(field, "run " + std::to_string(task_run) + " does not exist in " + store.path());
  const DataConfig t = RunConfig::fromJsonText(task->config_json).data;
  const DataConfig d = RunConfig::fromJsonText(run->config_json).data;
  if (d.dataset != t.dataset || d.path != t.path)
    throw ConfigError(field, "run " + std::to_string(run_id) + " was trained on " + d.dataset + " (" + d.path +
                                 "), the task is " + t.dataset + " (" + t.path +
                                 "): independent models must be trained on the teacher's task");
}

FingerprintCrafting fingerprintCraftingOf(const std::string& word, const std::vector<ForensicTest>& tests,
                                          size_t followers, size_t refusers) {
  const auto crafting = fingerprintCraftingFromString(word);
  if (!crafting) throw ConfigError("--fingerprint-crafting", "expected teacher or conferrable, not \"" + word + "\"");
  const bool fingerprints = std::find(tests.begin(), tests.end(), ForensicTest::Fingerprint) != tests.end();
  if (fingerprints && *crafting == FingerprintCrafting::Conferrable && (followers == 0 || refusers == 0))
    throw ConfigError("--fingerprint-crafting", "conferrable crafting needs surrogate students of the teacher "
                                                "(--confer-with) and independent references (--confer-against)");
  return *crafting;
}

ForensicSession runStoredForensics(RunStore& store, const ForensicRequest& a, const ForensicProgress& progress) {
  ForensicOptions options = forensicOptionsOf(a);
  Loader load{progress, int64_t(3 + a.null.size() + a.fingerprint.confer_with.size() + a.fingerprint.confer_against.size())};
  load.step("the teacher's data");
  const auto teacher_run = forensicRunId(a.teacher);
  // The teacher's own data; a TorchScript teacher is probed with the null's.
  const Dataset data = forensicDataOf(store, teacher_run ? *teacher_run : a.null.front(),
                                      teacher_run ? "--teacher" : "--null");
  load.step("the teacher");
  ForensicModel teacher = teacher_run ? forensicModelFromRun(store, *teacher_run, data, "--teacher")
                                      : forensicModelFromTorchScript(a.teacher, data);
  load.step("the suspect");
  const auto suspect_run = forensicRunId(a.suspect);
  const bool is_url = a.suspect.rfind("http://", 0) == 0 || a.suspect.rfind("https://", 0) == 0;
  ForensicModel suspect = suspect_run ? forensicModelFromRun(store, *suspect_run, data, "--suspect")
                          : is_url    ? forensicModelFromApi(a.suspect, a.api_key_env, data)
                                      : forensicModelFromTorchScript(a.suspect, data);
  std::vector<ForensicModel> null;
  for (int64_t id : a.null) {
    if (runName(id) == suspect.id || runName(id) == teacher.id)
      throw ConfigError("--null", "run " + std::to_string(id) + " is the suspect or the teacher, not an independent model");
    load.step("the null");
    null.push_back(forensicModelFromRun(store, id, data, "--null"));
  }
  // Surrogates must stay out of the null (and the suspect): examples
  // crafted or chosen because independent models refuse them would make the
  // null's statistics small by construction, and every p-value too small.
  TakenRuns taken;
  const std::string elsewhere = "in the null, the suspect or the teacher";
  for (int64_t id : a.null) taken.emplace_back(id, elsewhere);
  if (suspect_run) taken.emplace_back(*suspect_run, elsewhere);
  if (teacher_run) taken.emplace_back(*teacher_run, elsewhere);
  loadSurrogates(store, a.fingerprint, data, taken, teacher_run, teacher_run ? *teacher_run : a.null.front(),
                 load, options);

  ForensicSession s;
  s.outcomes = runForensicTests(teacher.local, data, suspect, null, options, progress);
  s.suspect_id = suspect.id;
  s.suspect_description = suspect.description;
  s.teacher_id = teacher.id;
  s.null = a.null;
  s.suspect_queries = suspect.queries;
  s.inputs = options.toJson();
  s.inputs["suspect"] = suspect.id;
  s.inputs["teacher"] = teacher.id;
  s.inputs["null"] = a.null;
  s.inputs["fingerprint"]["confer_with"] = a.fingerprint.confer_with;
  s.inputs["fingerprint"]["confer_against"] = a.fingerprint.confer_against;
  s.inputs["data"] = {{"dataset", data.name}, {"path", data.path}, {"content_hash", data.content_hash},
                      {"test_size", data.test.size()}};
  for (const ForensicOutcome& o : s.outcomes)
    s.result_ids.push_back(store.addForensicResult(toString(o.test), suspect.id, teacher.id, s.inputs, o.toJson()));
  return s;
}

CalibrationResult runStoredCalibration(RunStore& store, const CalibrationRequest& a, const ForensicProgress& progress) {
  if (a.null.empty()) throw ConfigError("null", "expected independent runs for the null");
  if (a.positives.empty()) throw ConfigError("positives", "expected runs distilled from the teacher");
  if (a.negatives.empty()) throw ConfigError("negatives", "expected independent runs that are not in the null");
  for (int64_t id : a.negatives)
    if (std::find(a.null.begin(), a.null.end(), id) != a.null.end())
      throw ConfigError("negatives", "run " + std::to_string(id) + " is in the null; a negative must be new to it");
  ForensicOptions options;
  options.tests = testsOf(a.tests);
  checkInputs(a.inputs);
  options.inputs = a.inputs;
  options.seed = a.seed;
  options.fingerprint.crafting = fingerprintCraftingOf(a.fingerprint, options.tests);
  std::vector<int64_t> ladder = a.ladder;
  if (ladder.empty()) {
    for (int64_t k = 8; k < a.inputs; k *= 2) ladder.push_back(k);
    ladder.push_back(a.inputs);
  }

  Loader load{progress, int64_t(2 + a.null.size() + a.positives.size() + a.negatives.size() +
                                a.fingerprint.confer_with.size() + a.fingerprint.confer_against.size())};
  load.step("the teacher's data");
  const auto teacher_run = forensicRunId(a.teacher);
  const Dataset data = forensicDataOf(store, teacher_run ? *teacher_run : a.null.front(), teacher_run ? "teacher" : "null");
  load.step("the teacher");
  ForensicModel teacher = teacher_run ? forensicModelFromRun(store, *teacher_run, data, "teacher")
                                      : forensicModelFromTorchScript(a.teacher, data);
  std::vector<ForensicModel> null;
  for (int64_t id : a.null) {
    load.step("the null");
    null.push_back(forensicModelFromRun(store, id, data, "null"));
  }
  std::vector<LabelledModel> positives, negatives;
  for (const auto& [kind, id] : a.positives) {
    load.step("the positives");
    positives.push_back({kind, forensicModelFromRun(store, id, data, "positives")});
  }
  for (int64_t id : a.negatives) {
    load.step("the negatives");
    negatives.push_back({"independent", forensicModelFromRun(store, id, data, "negatives")});
  }
  TakenRuns taken;
  if (teacher_run) taken.emplace_back(*teacher_run, "the teacher");
  for (int64_t id : a.null) taken.emplace_back(id, "in the null");
  for (const auto& [kind, id] : a.positives) taken.emplace_back(id, "a positive (" + kind + ")");
  for (int64_t id : a.negatives) taken.emplace_back(id, "a negative");
  loadSurrogates(store, a.fingerprint, data, taken, teacher_run, teacher_run ? *teacher_run : a.null.front(),
                 load, options);

  CalibrationResult result;
  result.rows = evaluateForensicTests(teacher.local, data, positives, negatives, null, options, ladder, progress);
  result.inputs = options.toJson();
  result.inputs["teacher"] = teacher.id;
  result.inputs["null"] = a.null;
  result.inputs["positives"] = nlohmann::json::object();
  for (const auto& [kind, id] : a.positives) result.inputs["positives"][kind].push_back(id);
  result.inputs["negatives"] = a.negatives;
  result.inputs["ladder"] = ladder;
  result.inputs["fingerprint"]["confer_with"] = a.fingerprint.confer_with;
  result.inputs["fingerprint"]["confer_against"] = a.fingerprint.confer_against;
  result.inputs["data"] = {{"dataset", data.name}, {"path", data.path}, {"content_hash", data.content_hash},
                           {"test_size", data.test.size()}};
  return result;
}

} // namespace distillery
