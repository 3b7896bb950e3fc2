#include "core/store/checkpoint.h"

#include "core/base/errors.h"

#include <cstring>
#include <vector>

namespace distillery {

namespace {

// Layout: magic line, then length-prefixed sections (8-byte little-endian
// lengths): a JSON header with the scalars, then the three tensor blobs, then
// (since language-model checkpoints) the generator states, absent before.
constexpr char kMagic[] = "DISTILLERY-CHECKPOINT 1\n";

void putSection(std::string& out, const std::string& bytes) {
  uint64_t n = bytes.size();
  for (int i = 0; i < 8; ++i) out.push_back(char((n >> (8 * i)) & 0xff));
  out += bytes;
}

class SectionReader {
public:
  SectionReader(const std::string& bytes, const std::string& origin) : bytes_(bytes), origin_(origin) {}
  std::string next(const char* what) {
    if (bytes_.size() - pos_ < 8) fail(what);
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= uint64_t(uint8_t(bytes_[pos_ + size_t(i)])) << (8 * i);
    pos_ += 8;
    if (n > bytes_.size() - pos_) fail(what);
    std::string out = bytes_.substr(pos_, size_t(n));
    pos_ += size_t(n);
    return out;
  }
  void skip(size_t n) { pos_ += n; }
  bool atEnd() const { return pos_ >= bytes_.size(); }

private:
  [[noreturn]] void fail(const char* what) {
    throw DataError(origin_, std::string("checkpoint is truncated (") + what + " missing)");
  }
  const std::string& bytes_;
  const std::string& origin_;
  size_t pos_ = 0;
};

} // namespace

std::string encodeCheckpoint(const TrainingCheckpoint& c) {
  nlohmann::json header = {{"step", c.step},
                           {"epoch", c.epoch},
                           {"samples", c.samples},
                           {"flops", c.flops},
                           {"teacher_queries", c.teacher_queries},
                           {"money", c.money},
                           {"wall_s", c.wall_s},
                           {"lr", c.lr},
                           {"total_steps", c.total_steps},
                           {"best_val_accuracy", c.best_val_accuracy},
                           {"final_val_accuracy", c.final_val_accuracy},
                           {"final_val_agreement", c.final_val_agreement},
                           {"final_val_kl", c.final_val_kl},
                           {"best_test_accuracy", c.best_test_accuracy},
                           {"best_test_agreement", c.best_test_agreement},
                           {"selected_step", c.selected_step},
                           {"optimizer", c.optimizer_name},
                           {"loop_state", c.loop_state}};
  std::string out(kMagic);
  putSection(out, header.dump());
  putSection(out, c.model_state);
  putSection(out, c.optimizer_state);
  putSection(out, c.best_state);
  putSection(out, c.rng_state);
  return out;
}

TrainingCheckpoint decodeCheckpoint(const std::string& bytes, const std::string& origin) {
  const size_t magic = std::strlen(kMagic);
  if (bytes.compare(0, magic, kMagic) != 0)
    throw DataError(origin, "is not a Distillery training checkpoint");
  SectionReader reader(bytes, origin);
  reader.skip(magic);
  TrainingCheckpoint c;
  try {
    const nlohmann::json h = nlohmann::json::parse(reader.next("header"));
    c.step = h.at("step").get<int64_t>();
    c.epoch = h.at("epoch").get<double>();
    c.samples = h.at("samples").get<double>();
    c.flops = h.at("flops").get<double>();
    c.teacher_queries = h.at("teacher_queries").get<double>();
    c.money = h.value("money", 0.0); // absent from checkpoints written before API teachers
    c.wall_s = h.at("wall_s").get<double>();
    c.lr = h.at("lr").get<double>();
    c.total_steps = h.at("total_steps").get<int64_t>();
    c.best_val_accuracy = h.at("best_val_accuracy").get<double>();
    c.final_val_accuracy = h.at("final_val_accuracy").get<double>();
    c.final_val_agreement = h.at("final_val_agreement").get<double>();
    c.final_val_kl = h.at("final_val_kl").get<double>();
    // Absent from checkpoints written before track_test existed.
    c.best_test_accuracy = h.value("best_test_accuracy", -1.0);
    c.best_test_agreement = h.value("best_test_agreement", -1.0);
    c.selected_step = h.at("selected_step").get<int64_t>();
    c.optimizer_name = h.at("optimizer").get<std::string>();
    c.loop_state = h.value("loop_state", nlohmann::json::object());
    if (!c.loop_state.is_object()) throw DataError(origin, "checkpoint header is damaged (loop_state is not an object)");
  } catch (const nlohmann::json::exception& e) {
    throw DataError(origin, std::string("checkpoint header is damaged (") + e.what() + ")");
  }
  c.model_state = reader.next("weights");
  c.optimizer_state = reader.next("optimiser state");
  c.best_state = reader.next("best weights");
  if (!reader.atEnd()) c.rng_state = reader.next("generator states");
  return c;
}

} // namespace distillery
