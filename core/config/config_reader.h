#pragma once
// Field-checked access to one JSON object: typed getters with range checks,
// and a final check that rejects keys nobody asked for.
#include "core/base/errors.h"

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <set>
#include <string>
#include <vector>

namespace distillery {

class ConfigReader {
public:
  ConfigReader(const nlohmann::json& object, std::string path);

  bool has(const std::string& key) const;
  std::string string(const std::string& key, const std::string& fallback);
  std::string oneOf(const std::string& key, const std::string& fallback,
                    std::initializer_list<const char*> allowed);
  std::string oneOf(const std::string& key, const std::string& fallback, const std::vector<std::string>& allowed);
  bool boolean(const std::string& key, bool fallback);
  double number(const std::string& key, double fallback, double min, double max);
  int64_t integer(const std::string& key, int64_t fallback, int64_t min, int64_t max);
  std::vector<int> intList(const std::string& key, const std::vector<int>& fallback,
                           int min, int max);
  // A nested object; missing keys give an empty object.
  const nlohmann::json& object(const std::string& key);
  // Marks a key as known without reading it.
  void accept(const std::string& key);
  // Throws for any key that was never read or accepted, listing the allowed ones.
  void finish() const;

  std::string field(const std::string& key) const;

private:
  const nlohmann::json* get(const std::string& key);

  const nlohmann::json& object_;
  std::string path_;
  std::set<std::string> known_;
};

std::string jsonTypeName(const nlohmann::json& value);

// A JSON library error as a user reads it: the position and what was wrong,
// without the library's "[json.exception.parse_error.101]" and parser states.
std::string jsonErrorText(const nlohmann::json::exception& e);

} // namespace distillery
