#include "core/serve/classify_request.h"

#include "core/config/config_reader.h"

#include "core/base/base64.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>

namespace distillery {

std::string ClassifyRequest::inputBytes(int64_t i) const {
  const size_t size = size_t(inputNumel() * elementSize());
  return bytes.substr(size_t(i) * size, size);
}

namespace {

std::string shapeText(const std::vector<int64_t>& shape) {
  std::string s = "[N";
  for (int64_t d : shape) s += ", " + std::to_string(d);
  return s + "]";
}

float readFloatLE(const char* p) {
  uint8_t b[4];
  std::memcpy(b, p, 4);
  const uint32_t bits = uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

} // namespace

ClassifyRequest parseClassifyRequest(const std::string& body, const std::vector<int64_t>& input_shape,
                                     int64_t max_batch) {
  // Also what a POST without Content-Length gets (http_server.cpp): curl -X POST without -d.
  if (body.empty())
    throw RequestError(400, "body", "empty; send a JSON object {\"dtype\", \"shape\", \"data\"} "
                                    "with a Content-Length header");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    throw RequestError(400, "body", "not valid JSON (" + jsonErrorText(e) + ")");
  }
  if (!j.is_object()) throw RequestError(400, "body", "expected a JSON object, got " + jsonTypeName(j));
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "dtype" && it.key() != "shape" && it.key() != "data")
      throw RequestError(400, it.key().empty() ? "body" : it.key(),
                         "unknown key " + nlohmann::json(it.key()).dump() + "; allowed: dtype, shape, data");

  ClassifyRequest r;
  if (!j.contains("dtype")) throw RequestError(400, "dtype", "missing; expected \"uint8\" or \"float32\"");
  if (!j["dtype"].is_string() || (j["dtype"] != "uint8" && j["dtype"] != "float32"))
    throw RequestError(400, "dtype", "expected \"uint8\" or \"float32\", got " + j["dtype"].dump());
  r.dtype = j["dtype"].get<std::string>();

  const std::string expected = "expected " + shapeText(input_shape);
  if (!j.contains("shape")) throw RequestError(400, "shape", "missing; " + expected);
  const auto& shape = j["shape"];
  if (!shape.is_array()) throw RequestError(400, "shape", expected + ", got " + jsonTypeName(shape));
  if (shape.size() != input_shape.size() + 1)
    throw RequestError(400, "shape", expected + ", got " + std::to_string(shape.size()) + " dimensions");
  for (size_t d = 0; d < shape.size(); ++d) {
    const std::string field = "shape[" + std::to_string(d) + "]";
    if (!shape[d].is_number_integer() || shape[d].get<int64_t>() < 0)
      throw RequestError(400, field, "expected a non-negative integer, got " + shape[d].dump());
    const int64_t v = shape[d].get<int64_t>();
    if (d == 0) {
      if (v < 1) throw RequestError(400, field, "the batch needs at least one input");
      if (v > max_batch)
        throw RequestError(413, field, "a batch of " + std::to_string(v) + " inputs; at most " +
                                           std::to_string(max_batch) + " per request");
      r.batch = v;
    } else if (v != input_shape[d - 1]) {
      throw RequestError(400, field, "expected " + std::to_string(input_shape[d - 1]) + ", got " + std::to_string(v) +
                                         " (inputs are " + shapeText(input_shape) + ")");
    }
    r.shape.push_back(v);
  }

  if (!j.contains("data")) throw RequestError(400, "data", "missing; expected the inputs as base64");
  if (!j["data"].is_string()) throw RequestError(400, "data", "expected a base64 string, got " + jsonTypeName(j["data"]));
  auto bytes = decodeBase64(j["data"].get_ref<const std::string&>());
  if (!bytes) throw RequestError(400, "data", "not valid base64 (standard alphabet, optional '=' padding)");
  int64_t numel = 1;
  for (int64_t d : input_shape) numel *= d;
  const int64_t want = r.batch * numel * r.elementSize();
  if (int64_t(bytes->size()) != want)
    throw RequestError(400, "data", "holds " + std::to_string(bytes->size()) + " bytes; shape and dtype give " +
                                        std::to_string(want));
  r.bytes = std::move(*bytes);
  r.values.resize(size_t(r.batch * numel));
  if (r.dtype == "uint8") {
    for (size_t i = 0; i < r.values.size(); ++i) r.values[i] = float(uint8_t(r.bytes[i]));
  } else {
    for (size_t i = 0; i < r.values.size(); ++i) {
      r.values[i] = readFloatLE(r.bytes.data() + 4 * i);
      if (!std::isfinite(r.values[i]))
        throw RequestError(400, "data", "element " + std::to_string(i) + " (NaN or Inf): inputs must be finite numbers");
    }
  }
  return r;
}

} // namespace distillery
