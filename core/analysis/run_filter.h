#pragma once
// The run table's filter box: free text plus field terms, all of which must
// match (AND). Torch-free and Qt-free, so it is tested on its own.
//
//   kd mlp                  free text: name, notes, tags, method, models, "#id"
//   "kd run"                a quoted phrase
//   method=kd student=mlp   a field equals a value (case-insensitive; numbers numerically)
//   teacher=cnn             a model field also equals its family: cnn[8,16]fc64 is a cnn
//   method=kd,dkd           any of several values
//   name=kd*                wildcards
//   name~sweep              a field contains the text
//   status!=failed          differs (also true when the run lacks the field)
//   acc>0.8  acc>=80%  lr<1e-3   numeric comparisons
//   status:failed           same as status=failed
//   tag:baseline  starred  is:starred
//   -tag:old  !starred  -diverged   any term negated
//
// Fields are short aliases (method, student, teacher, model, dataset, lr,
// acc, ...), the run's own fields (name, status, task, notes, id, ...), any
// dotted config key ("method.temperature", "optim.lr") or summary key
// ("summary.test_accuracy"), or the last part of one ("temperature").
//
// A term that cannot mean anything (acc>abc, acc>, an unclosed quote) is
// left out of the filter and reported by errors(), so the box can say what
// is wrong instead of silently showing nothing.
#include "core/store/run_store.h"

#include <map>
#include <string>
#include <vector>

namespace distillery {

// Everything a filter looks at for one run, flattened once and reused for
// every keystroke. Keys are dotted: run fields ("name", "status", ...),
// config keys ("method.name") and summary keys ("summary.best_val_accuracy").
struct RunFilterSubject {
  std::map<std::string, std::string> fields;
  std::vector<std::string> tags; // lower-case
  bool starred = false;
  bool diverged = false; // failed with a non-finite loss, or a NaN/Inf seen in its points
  std::string text;      // lower-case haystack for free text
};

// Also gives "student"/"teacher" labels such as "mlp[128]" from the config.
RunFilterSubject runFilterSubject(const RunRecord& run);

struct RunFilterTerm {
  enum class Kind { Text, Field, Tag, Starred, Diverged };
  enum class Op { Equal, NotEqual, Contains, Less, LessEqual, Greater, GreaterEqual };
  Kind kind = Kind::Text;
  Op op = Op::Equal;
  bool negated = false;
  std::string field;               // Kind::Field, as typed (lower-case)
  std::vector<std::string> values; // lower-case; several: any of them
};

// The filter box's tooltip: the syntax with examples that tests/tst_compare.cpp
// checks against runs, so every example does what it says.
const char* runFilterHelp();

class RunFilter {
public:
  RunFilter() = default;
  // Never throws: what is not a field term is free text; what is malformed
  // goes to errors() and is not a term.
  static RunFilter parse(const std::string& text);

  bool empty() const { return terms_.empty(); }
  const std::vector<RunFilterTerm>& terms() const { return terms_; }
  // One message per malformed term, naming it and saying what was expected.
  const std::vector<std::string>& errors() const { return errors_; }
  bool matches(const RunFilterSubject& run) const;

  // Field names of the terms that none of the given runs has, to tell the
  // user about a typo instead of silently showing nothing.
  std::vector<std::string> unknownFields(const std::vector<const RunFilterSubject*>& runs) const;

  // The keys a field name stands for in one run (aliases, exact key, suffix).
  static std::vector<std::string> resolveField(const std::string& field, const RunFilterSubject& run);

private:
  std::vector<RunFilterTerm> terms_;
  std::vector<std::string> errors_;
};

} // namespace distillery
