#include "core/api/api_server_info.h"
#include "core/base/number_format.h"

#include "core/base/errors.h"
#include "core/base/sha256.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace distillery {

namespace {

const nlohmann::json& field(const nlohmann::json& j, const char* key, const std::string& url, const char* path) {
  if (!j.is_object() || !j.contains(key)) throw ApiError(url, std::string("/v1/info lacks \"") + path + "\"");
  return j.at(key);
}

// "name(a=1, b=2)" from an object with "name" or "mode" and parameters.
std::string step(const nlohmann::json& j, const char* name_key) {
  std::string params;
  for (const auto& [k, v] : j.items()) {
    if (k == name_key || k == "transforms") continue;
    params += (params.empty() ? "" : ", ") + k + "=" + (v.is_number() ? plainNumber(v.get<double>()) : v.dump());
  }
  const std::string name = j.value(name_key, std::string("?"));
  return params.empty() ? name : name + "(" + params + ")";
}

} // namespace

std::string ApiServerInfo::mismatchWith(const std::vector<int64_t>& shape, int64_t classes) const {
  std::string differs;
  if (!shape.empty() && input_shape != shape) {
    differs = "takes inputs of shape [";
    for (size_t i = 0; i < input_shape.size(); ++i) differs += (i ? ", " : "") + std::to_string(input_shape[i]);
    differs += "]";
  }
  if (classes > 0 && this->classes != classes)
    differs += (differs.empty() ? "" : " and ") + std::string("answers over ") + std::to_string(this->classes) +
               " classes";
  return differs;
}

std::string ApiServerInfo::defenseLabel() const {
  std::string label;
  if (output.contains("transforms") && output["transforms"].is_array())
    for (const auto& t : output["transforms"]) label += step(t, "name") + " + ";
  return label + step(output, "mode");
}

ApiServerInfo ApiServerInfo::fromJson(const nlohmann::json& j, const std::string& url) {
  ApiServerInfo info;
  info.url = url;
  try {
    const auto& input = field(j, "input", url, "input");
    for (const auto& d : field(input, "shape", url, "input.shape")) info.input_shape.push_back(d.get<int64_t>());
    if (info.input_shape.empty()) throw ApiError(url, "/v1/info: input.shape is empty");
    for (const auto& d : field(input, "dtypes", url, "input.dtypes"))
      if (d.get<std::string>() == "uint8") info.accepts_uint8 = true;
    if (input.contains("preprocessing")) {
      const auto& p = input["preprocessing"];
      info.divide_by = p.value("divide_by", 255.0);
      info.mean = p.value("mean", std::vector<double>{});
      info.std = p.value("std", std::vector<double>{});
    }
    for (const auto& c : field(j, "classes", url, "classes")) info.class_names.push_back(c.get<std::string>());
    info.classes = int64_t(info.class_names.size());
    if (info.classes < 2) throw ApiError(url, "/v1/info: expected at least 2 classes");
    info.output = field(j, "output", url, "output");
    info.output_mode = field(info.output, "mode", url, "output.mode").get<std::string>();
    if (j.contains("teacher")) info.teacher = j["teacher"];
    if (j.contains("price")) {
      info.price_per_1000 = j["price"].value("per_1000_queries", 0.0);
      info.currency = j["price"].value("currency", info.currency);
    }
    if (j.contains("limits")) info.max_batch = j["limits"].value("max_batch", info.max_batch);
    if (j.contains("budget")) info.budget_remaining = j["budget"].value("remaining", int64_t(-1));
  } catch (const nlohmann::json::exception& e) {
    throw ApiError(url, std::string("/v1/info is not what a Distillery API returns (") + e.what() + ")");
  }
  const nlohmann::json identity = {{"teacher", info.teacher}, {"input", j["input"]}, {"classes", info.class_names},
                                   {"output", info.output}};
  info.identity = sha256Hex(identity.dump());
  return info;
}

std::vector<float> answersToProbabilities(const nlohmann::json& reply, int64_t n, int64_t classes,
                                          const std::string& url) {
  std::vector<float> probs(size_t(n * classes), 0.0f);
  if (!reply.is_object() || !reply.contains("outputs") || !reply["outputs"].is_array() ||
      int64_t(reply["outputs"].size()) != n)
    throw ApiError(url, "/v1/classify: expected \"outputs\" with " + std::to_string(n) + " entries");
  try {
    for (int64_t i = 0; i < n; ++i) {
      const auto& o = reply["outputs"][size_t(i)];
      float* row = &probs[size_t(i * classes)];
      const int64_t label = o.at("label").get<int64_t>();
      if (label < 0 || label >= classes) throw ApiError(url, "/v1/classify: output " + std::to_string(i) + ": label out of range");
      if (!o.contains("probs")) { // label only
        row[label] = 1.0f;
        continue;
      }
      const auto& p = o["probs"];
      if (o.contains("classes")) { // top-k: the rest of the mass spread over the classes not shown
        const auto& cls = o["classes"];
        if (!cls.is_array() || cls.size() != p.size() || int64_t(cls.size()) > classes)
          throw ApiError(url, "/v1/classify: output " + std::to_string(i) + ": classes and probs differ in length");
        double shown = 0;
        std::vector<bool> seen(size_t(classes), false);
        for (size_t k = 0; k < cls.size(); ++k) {
          const int64_t c = cls[k].get<int64_t>();
          if (c < 0 || c >= classes || seen[size_t(c)])
            throw ApiError(url, "/v1/classify: output " + std::to_string(i) + ": bad class " + std::to_string(c));
          seen[size_t(c)] = true;
          const double v = std::max(0.0, p[k].get<double>());
          row[c] = float(v);
          shown += v;
        }
        const int64_t rest = classes - int64_t(cls.size());
        if (rest > 0) {
          const float each = float(std::max(0.0, 1.0 - shown) / double(rest));
          for (int64_t c = 0; c < classes; ++c)
            if (!seen[size_t(c)]) row[c] = each;
        }
      } else {
        if (!p.is_array() || int64_t(p.size()) != classes)
          throw ApiError(url, "/v1/classify: output " + std::to_string(i) + ": expected " + std::to_string(classes) +
                                  " probabilities");
        for (int64_t c = 0; c < classes; ++c) row[c] = float(std::max(0.0, p[size_t(c)].get<double>()));
      }
      double sum = 0;
      for (int64_t c = 0; c < classes; ++c) sum += row[c];
      if (!(sum > 0) || !std::isfinite(sum)) { // nothing usable (rounded to zeros): the label alone
        std::fill(row, row + classes, 0.0f);
        row[label] = 1.0f;
      } else {
        for (int64_t c = 0; c < classes; ++c) row[c] = float(row[c] / sum);
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw ApiError(url, std::string("/v1/classify: an output is not what a Distillery API returns (") + e.what() + ")");
  }
  return probs;
}

} // namespace distillery
