#include "core/config/gpt_spec.h"

#include "core/config/config_reader.h"
#include "core/base/errors.h"

#include <sstream>

namespace distillery {

GptSpec gptSpecFromJson(const nlohmann::json& json, const std::string& field) {
  ConfigReader r(json, field);
  const std::string zoo = r.string("zoo", "");
  if (zoo != "gpt")
    throw ConfigError(r.field("zoo"), zoo.empty() ? "required: \"gpt\" (language-model runs train decoder-only transformers)"
                                                  : "unknown model \"" + zoo + "\" for a language-model run; allowed: gpt");
  GptSpec s;
  s.layers = int(r.integer("layers", s.layers, 1, 256));
  s.heads = int(r.integer("heads", s.heads, 1, 256));
  s.embed = int(r.integer("embed", s.embed, 1, 1 << 16));
  s.context = int(r.integer("context", s.context, 2, 1 << 16));
  s.dropout = r.number("dropout", s.dropout, 0.0, 0.9);
  s.tie_weights = r.boolean("tie_weights", s.tie_weights);
  r.finish();
  if (s.embed % s.heads != 0)
    throw ConfigError(r.field("embed"), "embed " + std::to_string(s.embed) + " is not a multiple of heads " +
                                            std::to_string(s.heads) + " (each head gets embed / heads channels)");
  return s;
}

nlohmann::json toJson(const GptSpec& s) {
  return {{"zoo", "gpt"},          {"layers", s.layers},   {"heads", s.heads},
          {"embed", s.embed},      {"context", s.context}, {"dropout", s.dropout},
          {"tie_weights", s.tie_weights}};
}

std::string describe(const GptSpec& s) {
  std::ostringstream out;
  out << "gpt L" << s.layers << " H" << s.heads << " d" << s.embed << " ctx" << s.context;
  if (!s.tie_weights) out << " untied";
  return out.str();
}

int64_t gptParameterCount(const GptSpec& s, int64_t vocab) {
  const int64_t d = s.embed;
  // Per block: two LayerNorms (2d each), qkv (3d^2 + 3d), attention output (d^2 + d),
  // MLP d -> 4d -> d (8d^2 + 5d).
  const int64_t block = 12 * d * d + 13 * d;
  int64_t n = vocab * d + int64_t(s.context) * d + s.layers * block + 2 * d; // + final LayerNorm
  if (!s.tie_weights) n += vocab * d;                                         // separate output matrix, no bias
  return n;
}

double gptFlopsPerToken(const GptSpec& s, int64_t vocab) {
  const double d = s.embed;
  const double matmuls = s.layers * 12.0 * d * d + double(vocab) * d;  // multiply-adds
  const double attention = s.layers * 2.0 * d * (s.context + 1) / 2.0; // q.k and weights.v
  return 2.0 * (matmuls + attention);
}

} // namespace distillery
