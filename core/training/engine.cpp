#include "core/training/engine.h"
#include "core/base/number_format.h"

#include "core/api/api_teacher.h"
#include "core/api/query_plan.h"

#include "core/store/checkpoint.h"
#include "core/training/classification_metrics.h"
#include "core/data/dataset.h"
#include "core/training/channels_last_weights.h"
#include "core/training/device.h"
#include "core/base/errors.h"
#include "core/methods/feature_distiller.h"
#include "core/lm/lm_engine.h"
#include "core/methods/method_registry.h"
#include "core/models/model_artifact.h"
#include "core/models/model_zoo.h"
#include "core/base/progress_reporter.h"
#include "core/store/run_recorder.h"
#include "core/store/resume_check.h"
#include "core/store/run_store.h"
#include "core/models/scripted_classifier.h"
#include "core/methods/teacher_output_cache.h"
#include "core/methods/transfer_set.h"
#include "core/training/prepared_model.h"
#include "core/training/run_summary_json.h"
#include "core/training/teacher_run.h"
#include "core/training/teacher_sources.h"
#include "core/training/trainer.h"
#include "core/base/version.h"
#include "core/distributed/data_parallel_group.h"
#include "core/distributed/rank_environment.h"
#include "core/distributed/rank_lost_error.h"

#include <chrono>
#include <cstdio>
#include <optional>

namespace distillery {

std::string toString(RunOutcome::Kind kind) {
  switch (kind) {
  case RunOutcome::Kind::Success: return "success";
  case RunOutcome::Kind::Cancelled: return "cancelled";
  case RunOutcome::Kind::Failed: return "failed";
  case RunOutcome::Kind::Diverged: return "diverged";
  case RunOutcome::Kind::Interrupted: return "interrupted";
  }
  return "failed";
}

RunStatus storedStatus(RunOutcome::Kind kind) {
  switch (kind) {
  case RunOutcome::Kind::Success: return RunStatus::Finished;
  case RunOutcome::Kind::Cancelled: return RunStatus::Cancelled;
  case RunOutcome::Kind::Failed: return RunStatus::Failed;
  case RunOutcome::Kind::Diverged: return RunStatus::Diverged;
  case RunOutcome::Kind::Interrupted: return RunStatus::Interrupted;
  }
  return RunStatus::Failed;
}

int64_t queueRun(RunStore& store, const RunConfig& config) {
  return store.createRun(config.name, config.task, config.toJson().dump());
}

namespace {

class RunExecution {
public:
  RunExecution(RunStore& store, int64_t run_id, const RunConfig& config, RunObserver& observer,
               const StopToken& stop)
      : store_(store), run_id_(run_id), config_(config), observer_(observer), stop_(stop),
        recorder_(&store, &observer, run_id), progress_(observer, run_id) {}

  nlohmann::json execute() {
    if (config_.threads > 0) torch::set_num_threads(config_.threads);
    recorder_.setRecordPoints(config_.record_points);
    if (config_.isLm()) { // language models: core/lm/lm_engine.h
      if (config_.distributed.enabled()) {
        device_ = resolveDevice(config_.device);
        joinRanks();
      }
      LmRunResult lm = executeLmRun(store_, run_id_, config_, observer_, stop_, recorder_, resume_, group_.get());
      if (lm.cancelled) throw RunCancelled{};
      return lm.summary;
    }
    device_ = resolveDevice(config_.device);
    log("info", "device " + device_.str() + " (" + deviceHardwareName(device_) + "), LibTorch " + libtorchVersion());
    if (config_.distributed.enabled()) joinRanks();
    data_ = loadDataset(config_.data, config_.seed);
    log("info", "dataset " + data_.name + " from " + data_.path + ": " + std::to_string(data_.train.size()) +
                    " train, " + std::to_string(data_.val.size()) + " val, " + std::to_string(data_.test.size()) +
                    " test");
    if (!data_.skipped.empty()) log("warning", "dataset " + data_.path + ": " + describeSkipped(data_.skipped));
    student_data_ = makeTransferSet(data_, config_.transfer, config_.seed);
    if (!config_.transfer.isDefault())
      log("info", "transfer set: " + transferSummary(student_data_, config_.transfer).dump());
    if (device_.is_cuda()) { // page-locked host memory lets batch copies overlap compute
      for (Dataset* d : {&data_, &student_data_}) {
        d->train.x = d->train.x.pin_memory();
        d->train.y = d->train.y.pin_memory();
      }
    }
    if (config_.precision == "bf16" && !device_.is_cuda())
      log("warning", "precision bf16 applies on CUDA only; this run computes in fp32 on " + device_.str());
    return config_.isDistill() ? distill() : trainSupervised();
  }

  RunRecorder& recorder() { return recorder_; }
  // Continue the run's own training (not a teacher's) from this checkpoint.
  void resumeFrom(const TrainingCheckpoint* checkpoint) { resume_ = checkpoint; }

private:
  void log(const std::string& level, const std::string& message) { recorder_.log(level, message); }

  // Data-parallel: this process is one rank of config.distributed.world_size.
  void joinRanks() {
    const RankEnvironment env = checkedRankEnvironment(config_.distributed.world_size);
    group_ = DataParallelGroup::join(config_.distributed, env, device_);
    const int n = group_->worldSize();
    log("info", "data-parallel: rank " + std::to_string(env.rank) + " of " + std::to_string(n) + " (" +
                    group_->backend() + ", master " + env.master_addr + ":" + std::to_string(env.master_port) +
                    "); global batch " + std::to_string(config_.batch_size) + ", about " +
                    std::to_string((config_.batch_size + n - 1) / n) + " per rank");
  }

  TrainerSettings settingsFor(int epochs, int batch_size, const OptimConfig& optim) const {
    TrainerSettings s;
    s.epochs = epochs;
    s.batch_size = batch_size;
    s.optim = optim;
    s.seed = config_.seed;
    s.evals_per_epoch = config_.evals_per_epoch;
    s.log_every = config_.log_every;
    s.select_best = config_.select_best;
    s.track_test = config_.track_test;
    s.checkpoint_every = config_.checkpoint_every;
    s.checkpoint_seconds = 60.0 * config_.checkpoint_minutes;
    s.bf16_autocast = config_.precision == "bf16";
    s.parallel = group_.get();
    s.sync_batchnorm = config_.distributed.sync_batchnorm;
    return s;
  }

  // Checkpoints of `run_id`'s training go to its "checkpoint" artifact, replacing the last.
  void checkpointInto(TrainerSettings& s, int64_t run_id) {
    s.on_checkpoint = [this, run_id](const TrainingCheckpoint& c) {
      store_.saveArtifact(run_id, kCheckpointArtifact, encodeCheckpoint(c));
    };
  }

  nlohmann::json baseSummary(const TrainedModel& trained, const TrainerResult& r, double test_accuracy) const {
    return trainingSummary(trained, r, test_accuracy, device_, data_);
  }

  void recordFinal(RunRecorder& recorder, const CostCounters& c, double wall, const std::string& metric,
                   double value) {
    recorder.add(metricPointAt(c, wall, metric, value));
  }

  // Supervised training of one model under a given run record.
  // train_data: the run's data, or (the train task) its transfer set.
  TrainedModel trainModel(int64_t run_id, RunRecorder& recorder, const ModelSpec& spec, TrainerSettings settings,
                          const std::string& phase, int64_t step_offset, int64_t total_steps,
                          ProgressReporter* own_progress, TrainerResult& result, double& test_accuracy,
                          const Dataset& train_data) {
    TrainedModel t = prepareModel(spec, data_, config_.seed, "model");
    t.run_id = run_id;
    settings.method = "none";
    checkpointInto(settings, run_id);
    Trainer trainer(train_data, device_, recorder, stop_, [&](int64_t step, int64_t total, double epoch) {
      progress_.report(phase, step_offset + step, total_steps, epoch, step, total);
      if (own_progress) own_progress->report(phase, step, total, epoch);
    });
    result = trainer.train(t.model, t.info.flops_per_sample, nullptr, settings);
    if (result.cancelled) throw RunCancelled{};
    auto logits = predictLogits(t.model, data_.test.x, device_);
    test_accuracy = accuracy(logits, data_.test.y);
    recordFinal(recorder, result.cost, result.wall_s, "test_accuracy", test_accuracy);
    recorder.flush(true);
    return t;
  }

  nlohmann::json trainSupervised() {
    TrainerSettings s = settingsFor(config_.epochs, config_.batch_size, config_.optim);
    s.resume = resume_;
    TrainerResult r;
    double test_acc = 0;
    TrainedModel t = trainModel(run_id_, recorder_, config_.model, s, "train", 0,
                                trainingSteps(student_data_.train.size(), s), nullptr, r, test_acc, student_data_);
    store_.saveArtifact(run_id_, "model.pt", saveTrainedModel(t.model));
    log("info", "test accuracy " + std::to_string(test_acc));
    return baseSummary(t, r, test_acc);
  }

  TrainedModel teacherFromRun(int64_t teacher_run_id) {
    TrainedModel t = teacherFromStoredRun(store_, teacher_run_id, data_, device_);
    log("info", "teacher: run #" + std::to_string(teacher_run_id) + " (" + describe(t.spec) + ")");
    return t;
  }

  TrainedModel teacherFromTorchScript() {
    TrainedModel t = distillery::teacherFromTorchScript(config_.teacher.model, data_, device_);
    log("info", "teacher: TorchScript " + t.spec.torchscript + " (sha256 " + t.sha256 + ", " +
                    std::to_string(t.info.params) + " parameters)");
    return t;
  }

  TrainedModel teacherFromZoo(int64_t student_steps) {
    RunConfig tc = config_;
    tc.task = "train";
    tc.name = config_.name + "-teacher";
    tc.model = config_.teacher.model;
    tc.epochs = config_.teacher.train_epochs;
    tc.batch_size = config_.teacher.train_batch_size;
    tc.optim = config_.teacher.train_optim;
    tc.transfer = TransferConfig{}; // the teacher learns from the labelled training split
    TrainerSettings s = settingsFor(tc.epochs, tc.batch_size, tc.optim);
    s.lr_field = "teacher.train.optim.lr";
    const int64_t teacher_steps = trainingSteps(data_.train.size(), s);
    TrainedModel t;
    const TeacherRun child = trainTeacherRun(
        store_, observer_, recorder_, run_id_, tc, describe(tc.model),
        [&](int64_t id, RunRecorder& child_recorder, const TrainingCheckpoint* resume) {
          ProgressReporter child_progress(observer_, id);
          TrainerResult r;
          double test_acc = 0;
          s.resume = resume;
          t = trainModel(id, child_recorder, tc.model, s, "teacher", 0, teacher_steps + student_steps,
                         &child_progress, r, test_acc, data_);
          store_.saveArtifact(id, "model.pt", saveTrainedModel(t.model));
          return baseSummary(t, r, test_acc);
        });
    if (child.reused) t = teacherFromRun(child.run_id);
    teacher_steps_ = teacher_steps;
    return t;
  }

  nlohmann::json distill() {
    const MethodInfo* method = findMethod(config_.method.name);
    if (!method) throw ConfigError("method.name", "unknown method \"" + config_.method.name + "\"");
    TrainerSettings s = settingsFor(config_.epochs, config_.batch_size, config_.optim);
    s.method = method->name;
    s.method_params = method->resolve(config_.method.params);
    s.method_text_params = method->resolveText(config_.method.text_params);
    s.labels_from_teacher = config_.transfer.labelsHidden();
    if (config_.hasApiTeacher()) return distillThroughApi(*method, s);
    const int64_t student_steps = trainingSteps(student_data_.train.size(), s);
    if (method->needs_features) checkFeatureLayers(s.method_text_params);

    TrainedModel teacher = config_.teacher.kind == TeacherSource::Kind::Run ? teacherFromRun(config_.teacher.run_id)
                           : config_.teacher.kind == TeacherSource::Kind::TorchScript ? teacherFromTorchScript()
                                                                                      : teacherFromZoo(student_steps);
    if (config_.teacher.kind == TeacherSource::Kind::Run) store_.setTeacher(run_id_, teacher.run_id);

    // The teacher is fixed: its validation and test logits are computed once.
    TeacherOutputs outputs;
    outputs.model = method->needs_teacher ? teacher.model : nullptr;
    outputs.flops_per_sample = teacher.info.flops_per_sample;
    const auto eval_started = std::chrono::steady_clock::now();
    outputs.val_logits = predictLogits(teacher.model, data_.val.x, device_);
    outputs.test_logits = predictLogits(teacher.model, data_.test.x, device_);
    // The teacher's measured throughput, for a cache entry whose compute time was not kept.
    const TeacherThroughput throughput{
        double(data_.val.size() + data_.test.size()),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_started).count()};
    const double teacher_test_acc = accuracy(outputs.test_logits, data_.test.y);
    log("info", "teacher test accuracy " + std::to_string(teacher_test_acc));

    nlohmann::json cache_summary =
        attachTeacherCache(outputs, teacher, *method, throughput, teacher_steps_, teacher_steps_ + student_steps);

    TrainedModel student = prepareModel(config_.student, data_, config_.seed + 1, "student");
    student.run_id = run_id_;
    checkpointInto(s, run_id_);
    s.resume = resume_;
    const int64_t offset = teacher_steps_;
    Trainer trainer(student_data_, device_, recorder_, stop_, [&](int64_t step, int64_t, double epoch) {
      progress_.report("distill", offset + step, offset + student_steps, epoch, step, student_steps);
    });
    TrainerResult r = trainer.train(student.model, student.info.flops_per_sample, &outputs, s);
    if (r.cancelled) throw RunCancelled{};

    auto logits = predictLogits(student.model, data_.test.x, device_);
    const double test_acc = accuracy(logits, data_.test.y);
    const double test_agree = agreement(logits, outputs.test_logits);
    const double test_kl = teacherStudentKl(logits, outputs.test_logits);
    recordFinal(recorder_, r.cost, r.wall_s, "test_accuracy", test_acc);
    recordFinal(recorder_, r.cost, r.wall_s, "test_agreement", test_agree);
    recordFinal(recorder_, r.cost, r.wall_s, "test_kl", test_kl);
    recorder_.flush(true);
    store_.saveArtifact(run_id_, "model.pt", saveTrainedModel(student.model));

    nlohmann::json summary = baseSummary(student, r, test_acc);
    DistillFigures figures{teacher, student, r, *method};
    figures.test_agreement = test_agree;
    figures.test_kl = test_kl;
    figures.teacher_test_accuracy = teacher_test_acc;
    figures.transfer = transferSummary(student_data_, config_.transfer);
    figures.teacher_cache = cache_summary;
    figures.teacher_logit_rows = data_.val.size() + data_.test.size();
    addDistillSummary(summary, figures);
    log("info", "student test accuracy " + std::to_string(test_acc) + ", agreement " + std::to_string(test_agree));
    return summary;
  }

  // A teacher seen only through its API (core/api/): buy answers for the
  // strategy's inputs (cached on disk, so nothing is bought twice), train the
  // student on them alone, and measure it against the undefended reference
  // teacher when one is named (evaluation only).
  nlohmann::json distillThroughApi(const MethodInfo& method, TrainerSettings s) {
    const ApiTeacherConfig& api = config_.teacher.api;
    ApiTeacher teacher(api, data_, stop_, [this](const std::string& level, const std::string& m) { log(level, m); });
    const ApiServerInfo& info = teacher.info();
    const std::string mismatch = apiMethodMismatch(method.name, info.output_mode);
    if (!mismatch.empty()) throw ConfigError("method.name", mismatch);
    const int64_t budget = api.max_queries;
    const QueryConfig& q = config_.queries;
    const QueryPool pool = makeQueryPool(data_, q, budget, config_.seed);
    log("info", "queries: strategy \"" + q.strategy + "\", " + std::to_string(budget) + " of " +
                    std::to_string(pool.x.size(0)) + " inputs from " + pool.source);
    s.labels_from_teacher = true; // the run sees only what the API returns

    TeacherOutputs outputs;
    std::optional<TrainedModel> reference;
    double reference_test_acc = -1;
    if (api.reference_run > 0) {
      try {
        reference = teacherFromStoredRun(store_, api.reference_run, data_, device_);
      } catch (const ConfigError& e) { // it names teacher.run, the field of a teacher that trains
        throw ConfigError("teacher.api.reference_run", std::string(e.what()).substr(e.field().size() + 2));
      }
      outputs.val_logits = predictLogits(reference->model, data_.val.x, device_);
      outputs.test_logits = predictLogits(reference->model, data_.test.x, device_);
      reference_test_acc = accuracy(outputs.test_logits, data_.test.y);
      log("info", "evaluation against the undefended teacher, run #" + std::to_string(api.reference_run) +
                      " (test accuracy " + std::to_string(reference_test_acc) + "); it never reaches training");
    }
    auto buying = [this](const std::string& what) {
      return [this, what](int64_t done, int64_t total) { progress_.report(what, done, total, 0.0, done, total); };
    };

    Dataset& students = student_data_;
    if (q.strategy == "active") {
      students.train.x = pool.x;
      students.train.y = torch::full({pool.x.size(0)}, kHiddenLabel, torch::kLong);
      outputs.train_logits = torch::zeros({pool.x.size(0), info.classes}, torch::kFloat);
      s.epoch_samples = budget;
    } else {
      const torch::Tensor rows = pool.order.slice(0, 0, budget);
      students.train.x = pool.x.index_select(0, rows).contiguous();
      students.train.y = torch::full({budget}, kHiddenLabel, torch::kLong);
      outputs.train_logits = answersAsLogits(teacher.probabilities(students.train.x, buying("buying answers")));
      outputs.cache_queries = double(budget);
      outputs.cache_money = teacher.money(double(budget));
    }
    log("info", "answers: " + std::to_string(teacher.fromCache()) + " from the cache, " +
                    std::to_string(teacher.bought()) + " bought" +
                    (teacher.replayed() > 0 ? ", " + std::to_string(teacher.replayed()) + " replayed free" : ""));

    TrainedModel student = prepareModel(config_.student, data_, config_.seed + 1, "student");
    student.run_id = run_id_;
    if (q.strategy == "active") s.epoch_rows = activeLearning(teacher, pool, student, outputs.train_logits, budget);
    checkpointInto(s, run_id_);
    s.resume = resume_;
    const int64_t steps = trainingSteps(budget, s);
    Trainer trainer(students, device_, recorder_, stop_, [&](int64_t step, int64_t, double epoch) {
      progress_.report("distill", step, steps, epoch, step, steps);
    });
    TrainerResult r = trainer.train(student.model, student.info.flops_per_sample, &outputs, s);
    if (r.cancelled) throw RunCancelled{};

    const torch::Tensor logits = predictLogits(student.model, data_.test.x, device_);
    const double test_acc = accuracy(logits, data_.test.y);
    recordFinal(recorder_, r.cost, r.wall_s, "test_accuracy", test_acc);
    nlohmann::json summary = baseSummary(student, r, test_acc);
    nlohmann::json a = {{"url", api.url}, {"output", info.output}, {"defense", info.defenseLabel()},
                        {"strategy", q.strategy}, {"source", pool.source}, {"queries", r.cost.teacher_queries},
                        {"money", r.cost.money}, {"currency", info.currency}, {"price_per_1000", info.price_per_1000},
                        {"server_identity", info.identity}, {"answer_cache", teacher.cachePath()},
                        {"benign_accuracy", nullptr}, {"reference_run", nullptr},
                        {"reference_test_accuracy", nullptr}, {"fidelity", nullptr}};
    if (reference) {
      const double fidelity = agreement(logits, outputs.test_logits);
      const double kl = teacherStudentKl(logits, outputs.test_logits);
      recordFinal(recorder_, r.cost, r.wall_s, "test_agreement", fidelity);
      recordFinal(recorder_, r.cost, r.wall_s, "test_kl", kl);
      DistillFigures figures{*reference, student, r, method};
      figures.test_agreement = fidelity;
      figures.test_kl = kl;
      figures.teacher_test_accuracy = reference_test_acc;
      addDistillSummary(summary, figures);
      a["reference_run"] = api.reference_run;
      a["reference_test_accuracy"] = reference_test_acc;
      a["fidelity"] = fidelity;
    } else {
      summary["method"] = method.name;
      summary["teacher_access"] = method.teacher_access;
      summary["teacher_model"] = "API " + api.url;
    }
    summary["teacher"] = {{"kind", "api"}, {"url", api.url}, {"output", info.output}};
    summary["teacher_queries"] = r.cost.teacher_queries; // training answers; evaluation queries are apart
    summary["money"] = r.cost.money;
    int64_t bought_for_training = teacher.bought();
    if (api.measure_benign && data_.test.size() > 0) {
      // What an honest user gets: the defended answers' top-1 on the test split.
      const int64_t before = teacher.bought();
      const torch::Tensor answers = teacher.probabilities(data_.test.x, buying("measuring the API's accuracy"));
      const double benign = accuracy(answers, data_.test.y);
      a["benign_accuracy"] = benign;
      a["api_agreement"] = agreement(logits, answers); // with the answers the clone could see
      a["eval_queries"] = data_.test.size();
      a["eval_queries_bought"] = teacher.bought() - before;
      recordFinal(recorder_, r.cost, r.wall_s, "api_benign_accuracy", benign);
      log("info", "the API's answers on the test split: accuracy " + std::to_string(benign) +
                      (reference ? " (undefended teacher " + std::to_string(reference_test_acc) + ")" : std::string()));
    }
    a["queries_bought"] = bought_for_training;
    a["queries_bought_total"] = teacher.bought();
    summary["api"] = a;
    recorder_.flush(true);
    store_.saveArtifact(run_id_, "model.pt", saveTrainedModel(student.model));
    log("info", "clone test accuracy " + std::to_string(test_acc) +
                    (reference ? ", fidelity " + a["fidelity"].dump() : std::string()) + "; " +
                    std::to_string(int64_t(r.cost.teacher_queries)) + " queries, " + formatMoney(r.cost.money) + " " +
                    info.currency);
    return summary;
  }

  // Active learning's epoch hook: at each round's first epoch, buy the
  // round's queries (round 0: the pool's seeded order; later rounds: the
  // samples the student is least certain of), recorded in the "api_rounds"
  // artifact so that a resumed run replays them instead of choosing again.
  std::function<torch::Tensor(int, CostCounters&)> activeLearning(ApiTeacher& teacher, const QueryPool& pool,
                                                                  const TrainedModel& student,
                                                                  torch::Tensor& train_logits, int64_t budget) {
    auto rounds = std::make_shared<std::vector<torch::Tensor>>();
    if (resume_)
      if (auto bytes = store_.loadArtifact(run_id_, "api_rounds"))
        for (const auto& round : nlohmann::json::parse(*bytes).at("rounds"))
          rounds->push_back(torch::tensor(round.get<std::vector<int64_t>>(), torch::kLong));
    auto bought = std::make_shared<torch::Tensor>(torch::zeros({pool.x.size(0)}, torch::kBool));
    auto applied = std::make_shared<int>(0); // rounds whose answers are in train_logits
    const QueryConfig q = config_.queries;
    const int epochs = config_.epochs;
    return [this, &teacher, &pool, student, &train_logits, budget, rounds, bought, applied, q,
            epochs](int epoch, CostCounters& cost) {
      for (int r = 0; r < q.rounds && activeRoundEpoch(q, epochs, r) <= epoch; ++r) {
        if (r < *applied) continue;
        if (r >= int64_t(rounds->size())) { // a new round: choose it now
          const int64_t size = activeRoundSize(q, budget, r);
          torch::Tensor rows;
          if (r == 0) {
            rows = pool.order.slice(0, 0, size);
          } else {
            const torch::Tensor candidates = (~*bought).nonzero().view({-1});
            rows = leastCertain(student.model, pool.x, candidates, size, device_);
          }
          rounds->push_back(rows);
          nlohmann::json j = {{"rounds", nlohmann::json::array()}};
          for (const auto& t : *rounds) {
            const torch::Tensor c = t.contiguous();
            j["rounds"].push_back(std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()));
          }
          store_.saveArtifact(run_id_, "api_rounds", j.dump());
        }
        const torch::Tensor rows = (*rounds)[size_t(r)];
        const torch::Tensor probs = teacher.probabilities(pool.x.index_select(0, rows), [this, r](int64_t d, int64_t t) {
          progress_.report("buying answers, round " + std::to_string(r + 1), d, t, 0.0, d, t);
        });
        train_logits.index_copy_(0, rows, answersAsLogits(probs));
        bought->index_fill_(0, rows, true);
        *applied = r + 1;
        log("info", "active round " + std::to_string(r + 1) + " of " + std::to_string(q.rounds) + " (epoch " +
                        std::to_string(epoch + 1) + "): " + std::to_string(rows.size(0)) +
                        (r == 0 ? " random" : " least certain") + " inputs; " + std::to_string(teacher.fromCache()) +
                        " answers from the cache so far, " + std::to_string(teacher.bought()) + " bought");
      }
      const torch::Tensor rows = bought->nonzero().view({-1});
      cost.teacher_queries = double(rows.size(0));
      cost.money = teacher.money(cost.teacher_queries);
      return rows;
    };
  }

  // Layer names of zoo networks are known before anything is trained: check
  // them now rather than after training a teacher (TorchScript models are
  // checked when the trainer taps them).
  void checkFeatureLayers(const std::map<std::string, std::string>& text) {
    auto check = [&](const ModelSpec& spec, const char* key) {
      if (spec.isTorchScript()) return;
      const Classifier probe = buildSeeded(spec, data_, 0); // an untrained instance: only its layer names count
      auto it = text.find(key);
      resolveFeatureLayer(*probe, it == text.end() ? "" : it->second, std::string("method.") + key);
    };
    if (config_.teacher.kind == TeacherSource::Kind::Zoo) check(config_.teacher.model, "teacher_layer");
    check(config_.student, "student_layer");
  }

  struct TeacherThroughput {
    double rows = 0;
    double seconds = 0;
  };

  // Fills outputs.train_cache from the teacher-output cache when the method
  // reads teacher logits on training batches and those are deterministic.
  // Returns what the run view and summary show about it, with what the
  // teacher's answers cost this run: FLOPs for every row, and the seconds the
  // teacher took to compute them (measured now, recorded by the run that
  // computed the entry, or estimated from `throughput`, and "teacher_seconds_source" says which).
  nlohmann::json attachTeacherCache(TeacherOutputs& outputs, const TrainedModel& teacher, const MethodInfo& method,
                                    const TeacherThroughput& throughput, int64_t position, int64_t budget) {
    const TeacherCacheConfig& cc = config_.teacher_cache;
    nlohmann::json info = {{"enabled", cc.enabled}};
    if (!method.needs_teacher) return info["status"] = "unused (the method needs no teacher)", info;
    if (method.needs_features) return info["status"] = "unused (the method reads teacher features)", info;
    if (!cc.enabled) return info["status"] = "off", info;
    if (student_data_.augment.any()) return info["status"] = "off (augmented inputs are random)", info;

    TeacherCacheKey key;
    key.teacher = teacherDigest(teacher);
    key.data = student_data_.summaryJson().dump() + " transfer=" + transferSummary(student_data_, config_.transfer).dump();
    const nlohmann::json data_config = config_.toJson()["data"];
    key.preprocessing = data_.summaryJson()["preprocessing"].dump();
    key.samples = "seed=" + std::to_string(config_.seed) + " data=" + data_config.dump();
    key.format.fp16 = cc.fp16;
    key.format.topk = cc.topk >= data_.num_classes ? 0 : cc.topk;

    TeacherOutputCache cache(cc.dir.empty() ? TeacherOutputCache::defaultDir() : cc.dir);
    const int64_t rows = student_data_.train.size();
    log("info", "teacher-output cache: looking for " + key.format.describe() + " outputs in " + cache.entryPath(key));
    const auto started = std::chrono::steady_clock::now();
    // The fill is not part of the step budget: the bar holds at the student's start.
    progress_.report("teacher outputs", position, budget, 0.0, 0, 0);
    // Data-parallel: rank 0 fills the entry, the others wait and then read it (one pass, not N).
    if (group_ && !group_->isRoot()) group_->shareFromRoot("teacher cache", "");
    // On the CPU the fill runs with channels-last convolution weights (issue 20: 1.1x, docs/results/gpu.md).
    std::optional<ChannelsLastWeights> channels_last;
    if (device_.is_cpu() && student_data_.train.x.dim() == 4) channels_last.emplace(*teacher.model);
    TeacherCacheOutcome got = cache.getOrCompute(key, rows, data_.num_classes, [&](int64_t begin, int64_t end) {
      if (stop_.stopRequested()) throw RunCancelled{};
      return predictLogits(teacher.model, student_data_.train.x.slice(0, begin, end), device_).to(torch::kCPU);
    });
    channels_last.reset();
    if (group_ && group_->isRoot()) group_->shareFromRoot("teacher cache", "ready");
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    outputs.train_cache = got.entry;
    outputs.cache_queries = double(rows);
    double teacher_s = got.teacher_seconds;
    std::string source = got.rows_computed > 0 ? "measured by this run" : "recorded by the run that computed it";
    if (teacher_s < 0) {
      teacher_s = throughput.rows > 0 ? double(rows) * throughput.seconds / throughput.rows : 0.0;
      source = "estimated from the teacher's throughput on the validation and test splits";
    }
    info["status"] = got.hit ? "hit" : got.waited ? "hit (waited for another run)" : "miss (computed)";
    info["path"] = got.entry->path();
    info["bytes"] = got.entry->bytes();
    info["format"] = key.format.describe();
    info["rows"] = rows;
    info["rows_computed"] = got.rows_computed;
    info["seconds"] = secs;
    info["teacher_seconds"] = teacher_s;
    info["teacher_seconds_source"] = source;
    info["teacher_flops"] = outputs.flops_per_sample * double(rows);
    log("info", "teacher-output cache " + info["status"].get<std::string>() + ": " +
                    std::to_string(got.entry->bytes()) + " bytes, " + std::to_string(got.rows_computed) +
                    " teacher rows computed in " + std::to_string(secs) + " s");
    return info;
  }

  RunStore& store_;
  int64_t run_id_;
  const RunConfig& config_;
  RunObserver& observer_;
  const StopToken& stop_;
  RunRecorder recorder_;
  ProgressReporter progress_;
  torch::Device device_{torch::kCPU};
  Dataset data_;
  Dataset student_data_; // data_ with the transfer set as its training split
  int64_t teacher_steps_ = 0;
  const TrainingCheckpoint* resume_ = nullptr;
  std::unique_ptr<DataParallelGroup> group_; // data-parallel runs only
};

} // namespace

namespace {

// restart_note: the log line of a run that starts again from step 0.
RunOutcome executeFrom(RunStore& store, int64_t run_id, const RunConfig& config, RunObserver& observer,
                       const StopToken& stop, const TrainingCheckpoint* resume, const std::string& restart_note = {}) {
  RunOutcome outcome;
  outcome.run_id = run_id;
  std::string error;
  try {
    store.setStatus(run_id, RunStatus::Running);
    observer.onStarted(run_id);
    RunExecution execution(store, run_id, config, observer, stop);
    execution.resumeFrom(resume);
    if (!restart_note.empty()) execution.recorder().log("info", restart_note);
    try {
      outcome.summary = execution.execute();
      outcome.kind = RunOutcome::Kind::Success;
    } catch (const RunCancelled&) {
      outcome.kind = RunOutcome::Kind::Cancelled;
      outcome.message = "cancelled by the user";
    } catch (const DivergedError& e) {
      outcome.kind = RunOutcome::Kind::Diverged;
      outcome.message = e.what();
    } catch (const RankLostError& e) {
      outcome.kind = RunOutcome::Kind::Interrupted;
      outcome.message = e.what();
    } catch (const c10::Error& e) {
      outcome.message = e.what_without_backtrace();
    } catch (const std::exception& e) {
      outcome.message = e.what();
    }
    if (outcome.failed()) execution.recorder().log("error", outcome.message);
    execution.recorder().flush(true);
  } catch (const std::exception& e) {
    // The store itself failed (or the execution could not even start).
    outcome.kind = RunOutcome::Kind::Failed;
    outcome.message = e.what();
  }
  try {
    if (outcome.kind == RunOutcome::Kind::Success) {
      store.setSummary(run_id, outcome.summary);
      store.setStatus(run_id, RunStatus::Finished);
    } else {
      store.setStatus(run_id, storedStatus(outcome.kind), outcome.message);
    }
  } catch (const std::exception& e) {
    outcome.kind = RunOutcome::Kind::Failed;
    outcome.message += std::string(outcome.message.empty() ? "" : "; ") + "could not record the result: " + e.what();
  }
  return outcome;
}

} // namespace

RunOutcome executeRun(RunStore& store, int64_t run_id, const RunConfig& config, RunObserver& observer,
                      const StopToken& stop) {
  return executeFrom(store, run_id, config, observer, stop, nullptr);
}

RunOutcome resumeRun(RunStore& store, int64_t run_id, RunObserver& observer, const StopToken& stop) {
  RunOutcome refused;
  refused.run_id = run_id;
  const std::string run = "run " + std::to_string(run_id);
  auto record = store.run(run_id);
  if (!record) {
    refused.message = run + " does not exist in the store";
    return refused;
  }
  refused.message = resumeRefusal(store, *record);
  if (!refused.message.empty()) return refused;
  RunConfig config;
  std::optional<TrainingCheckpoint> checkpoint;
  try {
    config = RunConfig::fromJsonText(record->config_json);
    if (auto bytes = store.loadArtifact(run_id, kCheckpointArtifact))
      checkpoint = decodeCheckpoint(*bytes, "the checkpoint of " + run);
  } catch (const std::exception& e) {
    refused.message = e.what();
    return refused;
  }
  if (!checkpoint) {
    // It stopped before its first checkpoint: it starts again from step 0,
    // same id, config and seed, its partial points dropped. A teacher it was
    // training as a child run is reused or resumed first (teacher_run.h).
    const int64_t dropped = store.pointCount(run_id);
    store.deletePointsAfter(run_id, -1);
    return executeFrom(store, run_id, config, observer, stop, nullptr,
                       "no checkpoint (it stopped before its first one): restarted from step 0 with the same "
                       "config and seed; " +
                           (dropped == 0 ? std::string("it had recorded no points yet")
                                         : "its " + std::to_string(dropped) + " earlier point" +
                                               (dropped == 1 ? " was" : "s were") + " replaced"));
  }
  // Past its first checkpoint, a teacher trained on the way had finished: it is reused, not trained again.
  if (config.isDistill() && config.teacher.kind == TeacherSource::Kind::Zoo && record->teacher_run_id) {
    config.teacher.kind = TeacherSource::Kind::Run;
    config.teacher.run_id = record->teacher_run_id;
  }
  if (config.isLm() && config.lm.teacher.kind == LmTeacherSource::Kind::Zoo && record->teacher_run_id) {
    config.lm.teacher.kind = LmTeacherSource::Kind::Run;
    config.lm.teacher.run_id = record->teacher_run_id;
  }
  // Points recorded after the checkpoint are redone by the resumed run.
  store.deletePointsAfter(run_id, checkpoint->step);
  return executeFrom(store, run_id, config, observer, stop, &*checkpoint);
}

} // namespace distillery
