#pragma once
// The body of POST /v1/classify, parsed and checked into a plain struct:
//   {"dtype": "uint8" | "float32", "shape": [N, ...input shape], "data": BASE64}
// `data` holds N inputs back to back, row-major, float32 little-endian. The
// values are raw, in the units of the data the model was trained on (pixels
// 0-255, table features as in the CSV); the server applies the run's
// preprocessing to both dtypes. Torch-free; fuzzed by fuzz/fuzz_serve_request.cpp.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace distillery {

// A request the server refuses: the HTTP status (400, 413) and a message
// naming the field at fault, e.g. "shape[2]: expected 28, got 32".
class RequestError : public std::runtime_error {
public:
  RequestError(int status, std::string field, const std::string& what)
      : std::runtime_error(field + ": " + what), status_(status), field_(std::move(field)) {}
  int status() const { return status_; }
  const std::string& field() const { return field_; }

private:
  int status_;
  std::string field_;
};

struct ClassifyRequest {
  std::string dtype;          // "uint8" or "float32"
  int64_t batch = 0;          // N
  std::vector<int64_t> shape; // [N, ...]
  std::string bytes;          // the decoded data, N * numel * element size
  std::vector<float> values;  // the same values as float32, N * numel, raw (not normalised)

  int64_t elementSize() const { return dtype == "uint8" ? 1 : 4; }
  int64_t inputNumel() const { return batch == 0 ? 0 : int64_t(values.size()) / batch; }
  // The bytes of input i as sent, for its hash.
  std::string inputBytes(int64_t i) const;
};

// Throws RequestError: 400 for malformed JSON, a missing or mistyped field, a
// shape other than [N, ...input_shape], bad base64, a byte count that does not
// match the shape, a non-finite float; 413 when N exceeds max_batch.
ClassifyRequest parseClassifyRequest(const std::string& body, const std::vector<int64_t>& input_shape,
                                     int64_t max_batch);

} // namespace distillery
