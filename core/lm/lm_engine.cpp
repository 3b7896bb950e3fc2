#include "core/lm/lm_engine.h"

#include "core/training/device.h"
#include "core/base/errors.h"
#include "core/lm/gpt_model.h"
#include "core/lm/lm_generation.h"
#include "core/lm/lm_trainer.h"
#include "core/methods/method_registry.h"
#include "core/base/progress_reporter.h"
#include "core/store/run_store.h"
#include "core/lm/text_corpus.h"
#include "core/base/version.h"
#include "core/training/teacher_run.h"

#include <chrono>
#include <cmath>

namespace distillery {

namespace {

struct LmModel {
  Gpt model{nullptr};
  GptSpec spec;
  int64_t params = 0;
  double flops_per_token = 0.0;
  int64_t run_id = 0;
  double val_loss = -1.0; // on this run's validation windows
};

class LmExecution {
public:
  LmExecution(RunStore& store, int64_t run_id, const RunConfig& config, RunObserver& observer, const StopToken& stop,
              RunRecorder& recorder, const TrainingCheckpoint* resume, DataParallelGroup* parallel)
      : store_(store), run_id_(run_id), config_(config), observer_(observer), stop_(stop), recorder_(recorder),
        progress_(observer, run_id), resume_(resume), parallel_(parallel) {}

  nlohmann::json execute() {
    device_ = resolveDevice(config_.device);
    recorder_.log("info", "device " + device_.str() + ", LibTorch " + libtorchVersion());
    corpus_ = loadTextCorpus(config_.lm.corpus);
    recorder_.log("info", "corpus " + corpus_.path + ": " + std::to_string(corpus_.files.size()) + " file(s), " +
                              std::to_string(corpus_.bytes) + " bytes, " + corpus_.vocab.describe() + ", " +
                              std::to_string(corpus_.train.numel()) + " train and " +
                              std::to_string(corpus_.val.numel()) + " validation tokens" +
                              (corpus_.skipped_files ? ", " + std::to_string(corpus_.skipped_files) +
                                                           " binary or non-UTF-8 file(s) left out"
                                                     : std::string()));
    store_.saveArtifact(run_id_, "vocab.json", corpus_.vocab.toJson().dump());
    const MethodInfo* method = findMethod(config_.method.name);
    if (!method || !method->appliesTo("lm"))
      throw ConfigError("method.name", "\"" + config_.method.name + "\" is not a language-model method");

    LmModel teacher;
    const auto& source = config_.lm.teacher;
    if (source.kind == LmTeacherSource::Kind::Run) {
      teacher = teacherFromRun(source.run_id);
      store_.setTeacher(run_id_, teacher.run_id);
    } else if (source.kind == LmTeacherSource::Kind::Zoo) {
      teacher = teacherFromZoo();
    }
    const bool has_teacher = bool(teacher.model);
    if (method->needs_teacher && !has_teacher)
      throw ConfigError("teacher", "required for method \"" + method->name + "\"");

    LmModel student = build(config_.lm.student, config_.seed + 1);
    student.run_id = run_id_;
    LmTeacherModel view;
    view.model = teacher.model;
    view.flops_per_token = teacher.flops_per_token;
    view.watermark = source.watermark;
    const int64_t offset = teacher_steps_;
    LmTrainer trainer(corpus_, device_, recorder_, stop_, [&](int64_t step, int64_t, double epoch) {
      progress_.report(method->needs_teacher ? "distill" : "train", offset + step, offset + config_.lm.steps, epoch, step,
                       config_.lm.steps);
    });
    recorder_.log("info", "student " + describe(student.spec) + ", " + std::to_string(student.params) +
                              " parameters, method " + method->name);
    LmTrainSettings student_settings = settings(config_, method->name);
    student_settings.checkpoint_every = config_.checkpoint_every;
    student_settings.checkpoint_seconds = 60.0 * config_.checkpoint_minutes;
    student_settings.on_checkpoint = [this](const TrainingCheckpoint& c) {
      store_.saveArtifact(run_id_, kCheckpointArtifact, encodeCheckpoint(c));
    };
    student_settings.resume = resume_;
    student_settings.parallel = parallel_;
    LmTrainResult r = trainer.train(student.model, student.flops_per_token, has_teacher ? &view : nullptr,
                                    student_settings);
    if (r.cancelled) throw RunCancelled{};
    store_.saveArtifact(run_id_, "model.pt", saveGptBytes(student.model));
    logSample(student.model, "student");

    nlohmann::json s = summary(student, r);
    s["method"] = method->name;
    s["teacher_access"] = method->teacher_access;
    if (has_teacher) {
      s["teacher_run_id"] = teacher.run_id;
      s["teacher_model"] = describe(teacher.spec);
      s["teacher_params"] = teacher.params;
      s["teacher_flops_per_sample"] = teacher.flops_per_token;
      s["teacher_val_loss"] = r.teacher_val_loss;
      s["teacher_val_perplexity"] = std::exp(r.teacher_val_loss);
      s["compression"] = double(teacher.params) / double(std::max<int64_t>(1, student.params));
      s["val_agreement"] = r.final.agreement;
      s["val_kl"] = r.final.kl;
      s["initial_val_agreement"] = r.initial.agreement;
      // The teacher's logits on the validation windows were computed once; they count too.
      s["teacher_queries"] = r.cost.teacher_queries + double(r.val_tokens);
    }
    if (has_teacher && source.watermark.enabled) {
      // The key is the secret: a fingerprint tells runs with different keys apart.
      const auto& w = source.watermark;
      s["watermark"] = {{"key_fingerprint", watermarkKeyFingerprint(w.params.key)}, {"gamma", w.params.gamma},
                        {"delta", w.delta}, {"context", w.params.context}, {"fraction", w.fraction},
                        {"watermarked_tokens", r.watermark_tokens}};
      if (r.watermark_tokens > 0)
        s["watermark"]["teacher_green_share"] = double(r.watermark_green) / double(r.watermark_tokens);
    }
    return s;
  }

private:
  LmModel build(const GptSpec& spec, uint64_t seed) const {
    LmModel m;
    m.spec = spec;
    m.model = buildGpt(spec, corpus_.vocab.size(), seed);
    m.params = countGptParameters(m.model);
    m.flops_per_token = gptFlopsPerToken(spec, corpus_.vocab.size());
    return m;
  }

  static LmTrainSettings settings(const RunConfig& c, const std::string& method) {
    LmTrainSettings s;
    s.steps = c.lm.steps;
    s.batch_size = c.batch_size;
    s.context = c.lm.student.context;
    s.optim = c.optim;
    s.seed = c.seed;
    s.eval_every = c.lm.eval_every;
    s.eval_tokens = c.lm.eval_tokens;
    s.log_every = c.log_every;
    s.select_best = c.select_best;
    s.method = method;
    s.method_params = findMethod(method)->resolve(c.method.params);
    return s;
  }

  nlohmann::json summary(const LmModel& m, const LmTrainResult& r) const {
    nlohmann::json s;
    s["best_val_loss"] = r.best_val_loss;
    s["best_val_perplexity"] = std::exp(r.best_val_loss);
    s["final_val_loss"] = r.final.loss;
    s["final_val_perplexity"] = std::exp(r.final.loss);
    s["initial_val_loss"] = r.initial.loss;
    s["params"] = m.params;
    s["flops_per_sample"] = m.flops_per_token; // a sample is a token here
    s["model"] = describe(m.spec);
    s["wall_s"] = r.wall_s;
    s["samples"] = r.cost.samples;
    s["tokens"] = r.cost.samples;
    s["samples_per_s"] = r.wall_s > 0 ? r.cost.samples / r.wall_s : 0.0;
    // Training throughput: validation passes left out.
    s["tokens_per_s"] = r.wall_s > r.eval_s ? r.cost.samples / (r.wall_s - r.eval_s) : 0.0;
    s["eval_s"] = r.eval_s;
    s["train_flops"] = r.cost.flops;
    s["teacher_queries"] = r.cost.teacher_queries;
    s["money"] = r.cost.money;
    s["steps"] = r.cost.step;
    s["selected_step"] = r.selected_step;
    s["epochs"] = r.cost.epoch;
    s["device"] = device_.str();
    s["dataset"] = "text";
    s["dataset_path"] = corpus_.path;
    s["dataset_hash"] = corpus_.content_hash;
    s["tokenizer"] = corpus_.vocab.kind();
    s["vocab_size"] = corpus_.vocab.size();
    s["train_tokens"] = corpus_.train.numel();
    s["val_tokens"] = r.val_tokens;
    s["app_version"] = appVersion();
    s["libtorch_version"] = libtorchVersion();
    return s;
  }

  // A short greedy-free sample for the log, so a CLI user sees what the model writes.
  void logSample(Gpt model, const std::string& who) {
    const int64_t n = std::min<int64_t>(corpus_.val.numel() > 16 ? corpus_.val.numel() : corpus_.train.numel(), 16);
    const auto& source = corpus_.val.numel() > 16 ? corpus_.val : corpus_.train;
    auto gen = seededGenerator(config_.seed);
    auto tokens = generateTokens(model, source.slice(0, 0, n).unsqueeze(0), 160, 0.8, gen, device_);
    std::vector<int64_t> ids(tokens.data_ptr<int64_t>(), tokens.data_ptr<int64_t>() + tokens.numel());
    recorder_.log("info", who + " sample (temperature 0.8, seed " + std::to_string(config_.seed) + "): " +
                              corpus_.vocab.decode(ids));
  }

  LmModel teacherFromRun(int64_t id) {
    const std::string which = "run " + std::to_string(id);
    const RunRecord record = finishedTeacherRun(store_, id);
    if (record.task != "lm")
      throw ConfigError("teacher.run", which + " is an image run (task \"" + record.task +
                                           "\"); a language-model teacher comes from a task \"lm\" run");
    auto vocab_bytes = store_.loadArtifact(id, "vocab.json");
    auto model_bytes = store_.loadArtifact(id, "model.pt");
    if (!vocab_bytes || !model_bytes) throw ConfigError("teacher.run", which + " has no saved model and vocabulary");
    const TextVocabulary vocab =
        TextVocabulary::fromJson(nlohmann::json::parse(*vocab_bytes, nullptr, false), which + " vocab.json");
    const std::string mismatch = vocabularyMismatch(vocab, corpus_.vocab);
    if (!mismatch.empty()) throw ConfigError("teacher.run", which + ": " + mismatch);
    const RunConfig tc = RunConfig::fromJsonText(record.config_json);
    LmModel t = build(tc.lm.student, config_.seed);
    t.run_id = id;
    try {
      loadGptBytes(t.model, *model_bytes);
    } catch (const c10::Error& e) {
      throw ConfigError("teacher.run", "the model of " + which + " does not match its config (" +
                                           e.what_without_backtrace() + ")");
    }
    recorder_.log("info", "teacher: run #" + std::to_string(id) + " (" + describe(t.spec) + ", " +
                              std::to_string(t.params) + " parameters)");
    return t;
  }

  // The teacher GPT is trained first, on the same corpus, as a run of its own (method "none").
  LmModel teacherFromZoo() {
    const auto& source = config_.lm.teacher;
    RunConfig tc = config_;
    tc.name = config_.name + "-teacher";
    tc.method = MethodConfig{"none", {}};
    tc.lm.teacher = LmTeacherSource{};
    tc.lm.student = source.model;
    tc.lm.steps = source.train_steps;
    tc.batch_size = source.train_batch_size;
    tc.optim = source.train_optim;
    const int64_t total = source.train_steps + config_.lm.steps;
    LmModel t;
    const TeacherRun child = trainTeacherRun(
        store_, observer_, recorder_, run_id_, tc, describe(source.model),
        [&](int64_t id, RunRecorder& child_recorder, const TrainingCheckpoint* resume) {
          t = build(source.model, config_.seed);
          t.run_id = id;
          ProgressReporter child_progress(observer_, id);
          store_.saveArtifact(id, "vocab.json", corpus_.vocab.toJson().dump());
          LmTrainer trainer(corpus_, device_, child_recorder, stop_, [&](int64_t step, int64_t steps, double epoch) {
            progress_.report("teacher", step, total, epoch, step, steps);
            child_progress.report("train", step, steps, epoch);
          });
          child_recorder.log("info", "GPT " + describe(t.spec) + ", " + std::to_string(t.params) + " parameters, " +
                                         corpus_.vocab.describe());
          LmTrainSettings teacher_settings = settings(tc, "none");
          teacher_settings.lr_field = "teacher.train.optim.lr";
          teacher_settings.checkpoint_every = tc.checkpoint_every;
          teacher_settings.checkpoint_seconds = 60.0 * tc.checkpoint_minutes;
          teacher_settings.on_checkpoint = [this, id](const TrainingCheckpoint& c) {
            store_.saveArtifact(id, kCheckpointArtifact, encodeCheckpoint(c));
          };
          teacher_settings.resume = resume;
          teacher_settings.parallel = parallel_; // every rank ends with rank 0's teacher
          LmTrainResult r = trainer.train(t.model, t.flops_per_token, nullptr, teacher_settings);
          if (r.cancelled) throw RunCancelled{};
          store_.saveArtifact(id, "model.pt", saveGptBytes(t.model));
          nlohmann::json s = summary(t, r);
          s["method"] = "none";
          s["teacher_access"] = "none";
          return s;
        });
    if (child.reused) t = teacherFromRun(child.run_id);
    teacher_steps_ = source.train_steps;
    return t;
  }

  RunStore& store_;
  int64_t run_id_;
  const RunConfig& config_;
  RunObserver& observer_;
  const StopToken& stop_;
  RunRecorder& recorder_;
  ProgressReporter progress_;
  torch::Device device_{torch::kCPU};
  TextCorpus corpus_;
  int64_t teacher_steps_ = 0;
  const TrainingCheckpoint* resume_ = nullptr;
  DataParallelGroup* parallel_ = nullptr; // data-parallel runs only
};

} // namespace

LmRunResult executeLmRun(RunStore& store, int64_t run_id, const RunConfig& config, RunObserver& observer,
                         const StopToken& stop, RunRecorder& recorder, const TrainingCheckpoint* resume,
                         DataParallelGroup* parallel) {
  LmRunResult result;
  LmExecution execution(store, run_id, config, observer, stop, recorder, resume, parallel);
  try {
    result.summary = execution.execute();
  } catch (const RunCancelled&) {
    result.cancelled = true;
  }
  return result;
}

} // namespace distillery
