#include "core/analysis/run_filter.h"

#include "core/analysis/metric_catalog.h"
#include "core/base/json_flatten.h"
#include "core/config/run_config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <optional>

namespace distillery {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The whole text as a number; "80%" is 0.8 so accuracies can be typed either way.
std::optional<double> number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::string t = text;
  double scale = 1.0;
  if (t.back() == '%') {
    t.pop_back();
    scale = 0.01;
  }
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || !std::isfinite(v)) return std::nullopt;
  return v * scale;
}

// '*' matches any run of characters.
bool wildcardMatch(const std::string& text, const std::string& pattern) {
  size_t t = 0, p = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool valueEquals(const std::string& fieldValue, const std::string& pattern) {
  const std::string v = lower(fieldValue);
  if (pattern.find('*') != std::string::npos) return wildcardMatch(v, pattern);
  if (v == pattern) return true;
  const auto a = number(v), b = number(pattern);
  if (a && b) return std::fabs(*a - *b) <= 1e-9 * std::max({1.0, std::fabs(*a), std::fabs(*b)});
  return false;
}

// Keys holding a model's label (describe(): "cnn[8,16]fc64", "mlp[128]",
// "torchscript:t.pt"), where "=cnn" means the model family.
bool isModelLabelKey(const std::string& key) {
  return key == "student" || key == "teacher" || key == "summary.model" || key == "summary.teacher_model";
}

// The family of a model label: its leading name, "cnn" of "cnn[8,16]fc64".
std::string modelFamily(const std::string& label) {
  size_t end = 0;
  while (end < label.size() && (std::isalnum(static_cast<unsigned char>(label[end])) || label[end] == '_')) ++end;
  return lower(label.substr(0, end));
}

bool keyValueEquals(const std::string& key, const std::string& fieldValue, const std::string& pattern) {
  if (valueEquals(fieldValue, pattern)) return true;
  return isModelLabelKey(key) && pattern.find('*') == std::string::npos && !pattern.empty() &&
         modelFamily(fieldValue) == pattern;
}

const std::map<std::string, std::vector<std::string>>& aliases() {
  static const std::map<std::string, std::vector<std::string>> table = {
      {"method", {"method.name"}},
      {"student", {"student", "student.zoo", "model.zoo"}},
      {"model", {"student", "model.zoo", "student.zoo"}},
      {"teacher", {"teacher", "teacher.zoo", "teacher.run", "summary.teacher_model"}},
      {"dataset", {"data.dataset"}},
      {"data", {"data.dataset", "data.path"}},
      {"lr", {"optim.lr"}},
      {"optim", {"optim.name"}},
      {"optimizer", {"optim.name"}},
      {"schedule", {"optim.schedule"}},
      {"t", {"method.temperature"}},
      {"temp", {"method.temperature"}},
      {"acc", {"summary.best_val_accuracy"}},
      {"accuracy", {"summary.best_val_accuracy"}},
      {"val_acc", {"summary.best_val_accuracy"}},
      {"test_acc", {"summary.test_accuracy"}},
      {"agreement", {"summary.test_agreement"}},
      {"kl", {"summary.test_kl"}},
      {"params", {"summary.params"}},
  };
  return table;
}

// A model spec's short label without the config parser's strictness about
// the teacher's "train" block.
std::string modelLabel(const nlohmann::json& spec) {
  if (!spec.is_object()) return {};
  if (spec.contains("run")) return "run #" + scalarText(spec["run"]);
  nlohmann::json bare = spec;
  bare.erase("train");
  try {
    return describe(modelSpecFromJson(bare, "model"));
  } catch (const std::exception&) {
    return spec.contains("zoo") ? scalarText(spec["zoo"]) : std::string();
  }
}

struct Token {
  std::string text;
  std::vector<bool> quoted; // per character: was it inside quotes
};

std::vector<Token> tokenize(const std::string& input, bool& unclosedQuote) {
  std::vector<Token> tokens;
  Token current;
  bool inQuotes = false, started = false;
  for (char c : input) {
    if (c == '"') {
      inQuotes = !inQuotes;
      started = true; // `""` is an (empty) token of its own
      continue;
    }
    if (!inQuotes && std::isspace(static_cast<unsigned char>(c))) {
      if (started) tokens.push_back(std::move(current));
      current = Token{};
      started = false;
      continue;
    }
    current.text.push_back(c);
    current.quoted.push_back(inQuotes);
    started = true;
  }
  if (started) tokens.push_back(std::move(current));
  unclosedQuote = inQuotes;
  return tokens;
}

bool isFieldName(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  });
}

// Splits on commas outside quotes, except in JSON arrays ("[128,64]").
std::vector<std::string> splitValues(const std::string& value, const std::vector<bool>& quoted) {
  if (value.empty() || value[0] == '[') return {value};
  std::vector<std::string> out;
  std::string part;
  int depth = 0; // inside a model label's brackets: cnn[8,16]fc64 is one value
  for (size_t i = 0; i < value.size(); ++i) {
    if (!quoted[i] && value[i] == '[') ++depth;
    if (!quoted[i] && value[i] == ']' && depth > 0) --depth;
    if (value[i] == ',' && !quoted[i] && depth == 0) {
      if (!part.empty()) out.push_back(part);
      part.clear();
    } else {
      part.push_back(value[i]);
    }
  }
  if (!part.empty()) out.push_back(part);
  if (out.empty()) out.push_back({});
  return out;
}

bool isOperatorChar(char c) { return c == '=' || c == '<' || c == '>' || c == '~' || c == ':' || c == '!'; }

// Why a field term cannot mean anything, or "" when it is fine.
std::string termError(const RunFilterTerm& term, const std::string& typed, const std::string& op,
                      const std::string& value) {
  const std::string quotedTerm = "\"" + typed + "\"";
  const bool numeric = term.op == RunFilterTerm::Op::Less || term.op == RunFilterTerm::Op::LessEqual ||
                       term.op == RunFilterTerm::Op::Greater || term.op == RunFilterTerm::Op::GreaterEqual;
  if (!value.empty() && isOperatorChar(value[0]))
    return quotedTerm + ": \"" + std::string(1, value[0]) + "\" after \"" + op +
           "\"; one operator per term (=, !=, ~, <, <=, >, >=)";
  if (value.empty() && (numeric || term.op == RunFilterTerm::Op::Contains || term.kind == RunFilterTerm::Kind::Tag))
    return quotedTerm + ": a value is missing after \"" + op + "\"";
  if (numeric)
    for (const std::string& v : term.values)
      if (!number(v))
        return quotedTerm + ": \"" + v + "\" is not a number; " + op + " compares numbers, e.g. " + term.field + op +
               "0.8 (or 80% for an accuracy)";
  if (term.field == "status" && (term.op == RunFilterTerm::Op::Equal || term.op == RunFilterTerm::Op::NotEqual))
    for (const std::string& v : term.values)
      if (v.find('*') == std::string::npos && !runStatusFromString(v))
        return quotedTerm + ": no status \"" + v +
               "\"; expected queued, running, finished, failed, cancelled, interrupted or diverged";
  return {};
}

RunFilterTerm parseToken(const Token& token, std::string& error) {
  RunFilterTerm term;
  std::string text = lower(token.text);
  std::vector<bool> quoted = token.quoted;
  if (text.size() > 1 && (text[0] == '-' || text[0] == '!') && !quoted[0]) {
    term.negated = true;
    text.erase(0, 1);
    quoted.erase(quoted.begin());
  }
  const bool anyQuoted = std::find(quoted.begin(), quoted.end(), true) != quoted.end();
  if (!anyQuoted) {
    if (text == "starred" || text == "star" || text == "is:starred") {
      term.kind = RunFilterTerm::Kind::Starred;
      return term;
    }
    if (text == "diverged" || text == "is:diverged") {
      term.kind = RunFilterTerm::Kind::Diverged;
      return term;
    }
    // "#12": the run with that id.
    if (text.size() > 1 && text[0] == '#' &&
        std::all_of(text.begin() + 1, text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      term.kind = RunFilterTerm::Kind::Field;
      term.field = "id";
      term.values = {text.substr(1)};
      return term;
    }
  }

  // The first operator outside quotes, after a field name.
  size_t at = std::string::npos, width = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (quoted[i]) break;
    const char c = text[i], next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (c == '=' || c == '<' || c == '>' || c == '~' || c == ':' || (c == '!' && next == '=')) {
      at = i;
      width = ((c == '<' || c == '>' || c == '!') && next == '=') ? 2 : 1;
      break;
    }
  }
  if (at == std::string::npos || !isFieldName(text.substr(0, at))) {
    term.kind = RunFilterTerm::Kind::Text;
    term.values = {text};
    return term;
  }

  const std::string field = text.substr(0, at);
  const std::string op = text.substr(at, width);
  const std::string value = text.substr(at + width);
  const std::vector<bool> valueQuoted(quoted.begin() + std::ptrdiff_t(at + width), quoted.end());
  term.kind = RunFilterTerm::Kind::Field;
  term.field = field;
  term.values = splitValues(value, valueQuoted);
  if (op == "=" || op == ":") term.op = RunFilterTerm::Op::Equal;
  else if (op == "!=") term.op = RunFilterTerm::Op::NotEqual;
  else if (op == "~") term.op = RunFilterTerm::Op::Contains;
  else if (op == "<") term.op = RunFilterTerm::Op::Less;
  else if (op == "<=") term.op = RunFilterTerm::Op::LessEqual;
  else if (op == ">") term.op = RunFilterTerm::Op::Greater;
  else term.op = RunFilterTerm::Op::GreaterEqual;

  if ((field == "tag" || field == "tags") &&
      (term.op == RunFilterTerm::Op::Equal || term.op == RunFilterTerm::Op::NotEqual)) {
    if (term.op == RunFilterTerm::Op::NotEqual) term.negated = !term.negated;
    term.kind = RunFilterTerm::Kind::Tag;
    term.op = RunFilterTerm::Op::Equal;
  } else if (field == "is" && term.op == RunFilterTerm::Op::Equal) {
    // is:running, is:failed; is:starred and is:diverged were handled above.
    term.field = "status";
  }
  error = termError(term, token.text, op, value);
  return term;
}

bool compareNumbers(double a, RunFilterTerm::Op op, double b) {
  switch (op) {
    case RunFilterTerm::Op::Less: return a < b;
    case RunFilterTerm::Op::LessEqual: return a <= b;
    case RunFilterTerm::Op::Greater: return a > b;
    case RunFilterTerm::Op::GreaterEqual: return a >= b;
    default: return false;
  }
}

bool matchField(const RunFilterTerm& term, const RunFilterSubject& run) {
  const std::vector<std::string> keys = RunFilter::resolveField(term.field, run);
  const std::string* currentKey = nullptr;
  auto anyValue = [&](auto&& predicate) {
    for (const std::string& key : keys) {
      currentKey = &key;
      const std::string& fieldValue = run.fields.at(key);
      for (const std::string& wanted : term.values)
        if (predicate(fieldValue, wanted)) return true;
    }
    return false;
  };
  auto equals = [&](const std::string& v, const std::string& w) { return keyValueEquals(*currentKey, v, w); };
  switch (term.op) {
    case RunFilterTerm::Op::Equal:
      // "notes=" finds runs without notes, also runs that lack the field.
      if (keys.empty()) return term.values.size() == 1 && term.values[0].empty();
      return anyValue(equals);
    case RunFilterTerm::Op::NotEqual: return !anyValue(equals);
    case RunFilterTerm::Op::Contains:
      return anyValue([](const std::string& v, const std::string& w) { return lower(v).find(w) != std::string::npos; });
    default:
      return anyValue([&](const std::string& v, const std::string& w) {
        const auto a = number(v);
        auto b = number(w);
        // The table shows accuracies and agreements as percentages, so "acc>80" means 80 %.
        if (b && isFractionFigure(*currentKey) && !w.empty() && w.back() != '%' && *b > 1.0 && *b <= 100.0) *b /= 100.0;
        return a && b && compareNumbers(*a, term.op, *b);
      });
  }
}

bool matchTerm(const RunFilterTerm& term, const RunFilterSubject& run) {
  switch (term.kind) {
    case RunFilterTerm::Kind::Text: return run.text.find(term.values.front()) != std::string::npos;
    case RunFilterTerm::Kind::Starred: return run.starred;
    case RunFilterTerm::Kind::Diverged: return run.diverged;
    case RunFilterTerm::Kind::Tag:
      for (const std::string& tag : run.tags)
        for (const std::string& wanted : term.values)
          if (valueEquals(tag, wanted)) return true;
      return false;
    case RunFilterTerm::Kind::Field: return matchField(term, run);
  }
  return false;
}

} // namespace

RunFilterSubject runFilterSubject(const RunRecord& run) {
  RunFilterSubject s;
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(run.config_json);
  } catch (const std::exception&) {
    config = nlohmann::json::object(); // an unreadable config still leaves the run's own fields
  }
  if (config.is_object()) s.fields = flattenJson(config);
  if (run.summary.is_object())
    for (const auto& [key, value] : flattenJson(run.summary)) s.fields["summary." + key] = value;

  // The run's own fields win over the config's copies (a renamed run keeps its config name).
  s.fields["id"] = std::to_string(run.id);
  s.fields["name"] = run.name;
  s.fields["status"] = toString(run.status);
  s.fields["task"] = run.task;
  s.fields["notes"] = run.notes;
  s.fields["created"] = run.created_at;
  s.fields["error"] = run.error;
  if (run.teacher_run_id) s.fields["teacher_run"] = std::to_string(run.teacher_run_id);
  if (run.parent_run_id) s.fields["parent_run"] = std::to_string(run.parent_run_id);
  if (run.sweep_id) s.fields["sweep"] = std::to_string(run.sweep_id);

  std::string student, teacher, method;
  if (config.is_object()) {
    const bool distill = config.value("task", std::string("distill")) == "distill";
    if (const auto it = config.find(distill ? "student" : "model"); it != config.end()) student = modelLabel(*it);
    if (const auto it = config.find("teacher"); distill && it != config.end()) teacher = modelLabel(*it);
    if (const auto it = config.find("method"); distill && it != config.end() && it->is_object())
      method = it->value("name", std::string());
  }
  if (!student.empty()) s.fields["student"] = student;
  if (!teacher.empty()) s.fields["teacher"] = teacher;

  for (const std::string& tag : run.tags) s.tags.push_back(lower(tag));
  s.starred = run.starred;
  s.diverged = endedDiverged(run);

  std::string text = "#" + std::to_string(run.id) + "\n" + run.name + "\n" + run.notes + "\n" + run.task + "\n" +
                     toString(run.status) + "\n" + method + "\n" + student + "\n" + teacher + "\n";
  if (const auto it = s.fields.find("data.dataset"); it != s.fields.end()) text += it->second + "\n";
  for (const std::string& tag : run.tags) text += tag + "\n";
  s.text = lower(text);
  return s;
}

const char* runFilterHelp() {
  return "Free text matches name, notes, tags, method and models. Field terms:\n"
         "  method=kd  student=mlp  teacher=cnn  dataset=cifar10  status!=failed\n"
         "  method=kd,dkd (any of)   name=sweep* (wildcard)   name~ablation (contains)\n"
         "  teacher=cnn is the model family (cnn[8,16]fc64 ...); teacher=cnn[8,16]fc64 the exact model\n"
         "  acc>0.8  acc>=80%  acc>80 (accuracies as fractions or percentages)  lr<1e-3  temperature=4  summary.test_kl<0.3\n"
         "  tag:baseline  starred  diverged  #12   -term negates, \"quoted values\"\n"
         "Fields: run fields, any config key (method.temperature) or its last part (temperature).";
}

RunFilter RunFilter::parse(const std::string& text) {
  RunFilter filter;
  bool unclosedQuote = false;
  for (const Token& token : tokenize(text, unclosedQuote)) {
    if (token.text.empty()) continue;
    std::string error;
    RunFilterTerm term = parseToken(token, error);
    if (error.empty()) filter.terms_.push_back(std::move(term));
    else filter.errors_.push_back(std::move(error));
  }
  if (unclosedQuote) filter.errors_.push_back("a quote is not closed: add the closing \"");
  return filter;
}

std::vector<std::string> RunFilter::resolveField(const std::string& field, const RunFilterSubject& run) {
  std::vector<std::string> keys;
  const auto alias = aliases().find(field);
  if (alias != aliases().end()) {
    for (const std::string& key : alias->second)
      if (run.fields.count(key)) keys.push_back(key);
    return keys;
  }
  if (run.fields.count(field)) return {field};
  const std::string suffix = "." + field;
  for (const auto& [key, value] : run.fields)
    if (endsWith(key, suffix)) keys.push_back(key);
  return keys;
}

bool RunFilter::matches(const RunFilterSubject& run) const {
  for (const RunFilterTerm& term : terms_)
    if (matchTerm(term, run) == term.negated) return false;
  return true;
}

std::vector<std::string> RunFilter::unknownFields(const std::vector<const RunFilterSubject*>& runs) const {
  std::vector<std::string> unknown;
  if (runs.empty()) return unknown;
  for (const RunFilterTerm& term : terms_) {
    if (term.kind != RunFilterTerm::Kind::Field) continue;
    const bool known = std::any_of(runs.begin(), runs.end(),
                                   [&](const RunFilterSubject* run) { return !resolveField(term.field, *run).empty(); });
    if (!known && std::find(unknown.begin(), unknown.end(), term.field) == unknown.end())
      unknown.push_back(term.field);
  }
  return unknown;
}

} // namespace distillery
