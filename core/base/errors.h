#pragma once
// Error types that cross the engine boundary. Each message names the file or
// field at fault and what was expected, so the CLI can print it as one line.
#include <cstdint>
#include <stdexcept>
#include <string>

namespace distillery {

class DistilleryError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// A config value is missing, mistyped, unknown or out of range.
class ConfigError : public DistilleryError {
public:
  ConfigError(std::string field, const std::string& what)
      : DistilleryError(field + ": " + what), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

private:
  std::string field_;
};

// A data file is missing, truncated or not what it claims to be.
class DataError : public DistilleryError {
public:
  DataError(std::string file, const std::string& what)
      : DistilleryError(file + ": " + what), file_(std::move(file)) {}
  const std::string& file() const { return file_; }

private:
  std::string file_;
};

// The training loss stopped being finite: the run ends as "diverged". The
// message names the step and hints at the learning-rate field to lower.
class DivergedError : public DistilleryError {
public:
  DivergedError(double loss, int64_t step, const std::string& hint)
      : DistilleryError(std::string("diverged: the training loss became ") + (loss != loss ? "NaN" : "Inf") +
                        " at step " + std::to_string(step) + "; " + hint),
        step_(step) {}
  int64_t step() const { return step_; }

private:
  int64_t step_;
};

// The run store could not be opened, read or written.
class StoreError : public DistilleryError {
public:
  using DistilleryError::DistilleryError;
};

// A teacher API failed for good (gone after the retries, refused the key,
// budget spent, an answer that does not parse): the message starts with the
// API's URL and ends with the last error.
class ApiError : public DistilleryError {
public:
  ApiError(const std::string& url, const std::string& what) : DistilleryError("teacher API " + url + ": " + what) {}
};

} // namespace distillery
