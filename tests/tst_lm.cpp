// Language-model distillation: losses against an independent computation and
// finite differences, the tokenizer and corpus split, the GPT (causality, KV
// cache, size), seeded generation, config checks, and end-to-end runs: a tiny
// teacher overfits a tiny corpus, then every method raises a tiny student's
// agreement with it; a teacher with another vocabulary is refused by name.
#include "core/store/checkpoint.h"
#include "core/training/engine.h"
#include "core/base/errors.h"
#include "core/lm/generation_comparison.h"
#include "core/lm/gpt_model.h"
#include "core/config/lm_config.h"
#include "core/lm/lm_generation.h"
#include "core/lm/lm_losses.h"
#include "core/methods/method_losses.h"
#include "core/methods/method_registry.h"
#include "core/config/run_config.h"
#include "core/store/run_store.h"
#include "core/lm/text_corpus.h"

#include "test_support.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace distillery;

namespace {

// The same numbers as tests/lm_loss_reference.py.
const std::vector<std::vector<double>> kS = {{1.0, 2.0, 3.0, -0.5, 0.2, 1.5, -1.0},
                                             {0.5, -1.0, 2.5, 0.3, -2.0, 1.0, 0.0},
                                             {-1.2, 0.4, 0.0, 2.2, 1.1, -0.3, 0.9},
                                             {2.0, 1.8, -0.7, 0.6, -1.5, 0.9, 0.4},
                                             {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7}};
const std::vector<std::vector<double>> kT = {{3.0, 1.0, 0.5, -1.0, 2.0, 0.1, -0.4},
                                             {0.0, 0.2, 4.0, 1.5, -0.5, 0.8, 1.2},
                                             {0.3, -0.8, 1.9, 2.6, 0.7, -1.4, 0.0},
                                             {1.1, 3.2, -0.2, 0.4, 2.1, -0.9, 0.6},
                                             {-2.0, 0.0, 2.0, -1.0, 1.0, 0.5, 3.0}};
const std::vector<int64_t> kTargets = {2, 3, 3, 1, 6};
const std::vector<double> kMask = {1, 1, 0, 1, 1};

torch::Tensor rows(const std::vector<std::vector<double>>& r) {
  auto t = torch::empty({int64_t(r.size()), int64_t(r[0].size())}, torch::kDouble);
  for (size_t i = 0; i < r.size(); ++i)
    for (size_t j = 0; j < r[i].size(); ++j) t[int64_t(i)][int64_t(j)] = r[i][j];
  return t;
}
torch::Tensor targets() { return torch::tensor(kTargets, torch::kLong); }
torch::Tensor mask() { return torch::tensor(kMask, torch::kDouble); }

using LossFn = std::function<torch::Tensor(const torch::Tensor& student)>;

struct Case {
  const char* key;
  LossFn loss;
};

std::vector<Case> cases() {
  const auto t = rows(kT);
  return {
      {"ce", [](const torch::Tensor& s) { return tokenCrossEntropy(s, targets(), mask()); }},
      {"forward_kl-T1", [t](const torch::Tensor& s) { return forwardKl(s, t, mask(), 1.0); }},
      {"forward_kl-T2", [t](const torch::Tensor& s) { return forwardKl(s, t, mask(), 2.0); }},
      {"reverse_kl-T1", [t](const torch::Tensor& s) { return reverseKl(s, t, mask(), 1.0); }},
      {"reverse_kl-T3", [t](const torch::Tensor& s) { return reverseKl(s, t, mask(), 3.0); }},
      {"gkd_jsd-b0", [t](const torch::Tensor& s) { return generalizedJsd(s, t, mask(), 0.0); }},
      {"gkd_jsd-b0.1", [t](const torch::Tensor& s) { return generalizedJsd(s, t, mask(), 0.1); }},
      {"gkd_jsd-b0.5", [t](const torch::Tensor& s) { return generalizedJsd(s, t, mask(), 0.5); }},
      {"gkd_jsd-b0.9-T2", [t](const torch::Tensor& s) { return generalizedJsd(s, t, mask(), 0.9, 2.0); }},
      {"gkd_jsd-b1", [t](const torch::Tensor& s) { return generalizedJsd(s, t, mask(), 1.0); }},
      {"topk-k1", [t](const torch::Tensor& s) { return topkTailKl(s, teacherTopk(t, 1), mask()); }},
      {"topk-k3", [t](const torch::Tensor& s) { return topkTailKl(s, teacherTopk(t, 3), mask()); }},
      {"topk-k7", [t](const torch::Tensor& s) { return topkTailKl(s, teacherTopk(t, 7), mask()); }},
  };
}

// A tiny corpus with a lot of structure: a few sentences in a fixed cycle.
std::string tinyText(int repeats) {
  const char* lines[] = {"the cat sat on the mat. ", "a dog ran to the park. ", "we like tea and cake. ",
                         "it rains in the north. "};
  std::string s;
  for (int i = 0; i < repeats; ++i) s += lines[i % 4];
  return s;
}

void writeText(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

nlohmann::json tinyGpt(int layers, int heads, int embed, int context) {
  return {{"zoo", "gpt"}, {"layers", layers}, {"heads", heads}, {"embed", embed}, {"context", context}};
}

class NullObserver : public RunObserver {};

// Asks the run to stop once it has delivered a train_loss point at or past `step`.
class StopAtStep : public RunObserver {
public:
  StopAtStep(StopToken& stop, int64_t step) : stop_(stop), step_(step) {}
  void onPoints(const std::vector<MetricPoint>& points) override {
    for (const auto& p : points)
      if (p.metric == "train_loss" && p.step >= step_) stop_.requestStop();
  }

private:
  StopToken& stop_;
  int64_t step_;
};

// Asks the run to stop at its first progress report of `phase`.
class StopInPhase : public RunObserver {
public:
  StopInPhase(StopToken& stop, std::string phase) : stop_(stop), phase_(std::move(phase)) {}
  void onProgress(const RunProgress& p) override {
    if (p.phase == phase_) stop_.requestStop();
  }

private:
  StopToken& stop_;
  std::string phase_;
};

} // namespace

class TestLm : public QObject {
  Q_OBJECT

private:
  QTemporaryDir dir_;
  std::string corpus_;                 // tiny char corpus file
  std::unique_ptr<RunStore> store_;
  int64_t teacher_run_ = 0;

  std::string path(const char* name) const { return (dir_.path() + "/" + name).toStdString(); }

  nlohmann::json lmConfig(const std::string& method, nlohmann::json teacher) const {
    nlohmann::json c = {{"name", "tiny-" + method}, {"task", "lm"},
                        {"corpus", {{"path", corpus_}, {"val_fraction", 0.1}}},
                        {"student", tinyGpt(1, 1, 16, 16)},
                        {"method", {{"name", method}}},
                        {"steps", 60}, {"batch_size", 16}, {"eval_every", 30}, {"eval_tokens", 2048},
                        {"optim", {{"name", "adam"}, {"lr", 0.01}}},
                        {"seed", 3}, {"device", "cpu"}, {"select_best", false}};
    if (!teacher.is_null()) c["teacher"] = teacher;
    return c;
  }

  RunOutcome run(const nlohmann::json& config) {
    const RunConfig c = RunConfig::fromJson(config);
    const int64_t id = queueRun(*store_, c);
    NullObserver observer;
    StopToken stop;
    return executeRun(*store_, id, c, observer, stop);
  }

private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    // Tiny models: one thread. With two, every small op waits for the other thread,
    // which on a busy machine costs more than the op (30x slower here).
    torch::set_num_threads(1);
    corpus_ = path("tiny.txt");
    writeText(corpus_, tinyText(160));
    store_ = std::make_unique<RunStore>(path("runs.sqlite"));
  }

  // ---- losses ---------------------------------------------------------------------------

  void lossesMatchPythonReference() {
    SKIP_WITHOUT_PYTHON_TORCH();
    QString error;
    const QJsonObject ref = testsupport::pythonReference(QStringLiteral("lm_loss_reference.py"), error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    const QJsonObject inputs = ref["_inputs"].toObject();
    QCOMPARE(inputs["student"].toArray().size(), int(kS.size()));
    QCOMPARE(inputs["student"].toArray()[4].toArray()[6].toDouble(), kS[4][6]);
    QCOMPARE(inputs["teacher"].toArray()[1].toArray()[2].toDouble(), kT[1][2]);
    QCOMPARE(inputs["mask"].toArray()[2].toInt(), 0);
    for (const Case& c : cases()) {
      QVERIFY2(ref.contains(c.key), c.key);
      const double mine = c.loss(rows(kS)).item<double>();
      const double theirs = ref[c.key].toDouble();
      QVERIFY2(std::abs(mine - theirs) < 1e-10,
               qPrintable(QStringLiteral("%1: %2 vs python %3").arg(c.key).arg(mine, 0, 'g', 12).arg(theirs, 0, 'g', 12)));
    }
    // The plain formula agrees with torch's own kl_div there too.
    QVERIFY(std::abs(ref["forward_kl-T1"].toDouble() - ref["torch_forward_kl-T1"].toDouble()) < 1e-12);
  }

  // Hand derivation on two tokens and the JSD conventions: ends are the pure KLs,
  // the interior tends to 0 there (beta * KL(t || s) to first order).
  void lossesMatchHandDerivation() {
    auto s = torch::tensor({{0.0, std::log(3.0)}}, torch::kDouble); // p_s = (1/4, 3/4)
    auto t = torch::tensor({{std::log(3.0), 0.0}}, torch::kDouble); // p_t = (3/4, 1/4)
    auto one = torch::ones({1}, torch::kDouble);
    const double kl = 0.75 * std::log(3.0) + 0.25 * std::log(1.0 / 3.0); // KL(t||s) = KL(s||t) = log(3)/2
    QVERIFY(std::abs(forwardKl(s, t, one).item<double>() - kl) < 1e-12);
    QVERIFY(std::abs(reverseKl(s, t, one).item<double>() - kl) < 1e-12);
    // beta = 1/2: m = (1/2, 1/2), JSD = KL(t || m) = 3/4 log(3/2) + 1/4 log(1/2).
    const double js = 0.75 * std::log(1.5) + 0.25 * std::log(0.5);
    QVERIFY(std::abs(generalizedJsd(s, t, one, 0.5).item<double>() - js) < 1e-12);
    QVERIFY(std::abs(generalizedJsd(s, t, one, 0.0).item<double>() - kl) < 1e-12);
    QVERIFY(std::abs(generalizedJsd(s, t, one, 1.0).item<double>() - kl) < 1e-12);
    const double tiny = generalizedJsd(s, t, one, 1e-4).item<double>();
    QVERIFY2(std::abs(tiny / 1e-4 - kl) < 1e-3 * kl, "JSD(beta) ~ beta * KL(t || s) for small beta");
    // Top-1 with its tail bucket: bins (3/4, 1/4) vs (1/4, 3/4): the same KL.
    QVERIFY(std::abs(topkTailKl(s, teacherTopk(t, 1), one).item<double>() - kl) < 1e-12);
    // Masked-out rows do not count, whatever they hold; the mean is per counted token.
    auto two_s = torch::cat({s, torch::tensor({{5.0, -5.0}}, torch::kDouble)});
    auto two_t = torch::cat({t, torch::tensor({{-5.0, 5.0}}, torch::kDouble)});
    QVERIFY(std::abs(forwardKl(two_s, two_t, torch::tensor({1.0, 0.0}, torch::kDouble)).item<double>() - kl) < 1e-12);
    auto dup_s = torch::cat({s, s}), dup_t = torch::cat({t, t});
    QVERIFY(std::abs(forwardKl(dup_s, dup_t, torch::ones({2}, torch::kDouble)).item<double>() - kl) < 1e-12);
  }

  void lossesComposeWithAlphaAndTemperature() {
    const auto s = rows(kS), t = rows(kT);
    const double T = 2.0, alpha = 0.7;
    LmLossParts p = lmTokenLoss("forward_kl", {{"temperature", T}, {"alpha", alpha}}, s, t, targets(), mask());
    const double expected = alpha * T * T * forwardKl(s, t, mask(), T).item<double>() +
                            (1 - alpha) * tokenCrossEntropy(s, targets(), mask()).item<double>();
    QVERIFY(std::abs(p.total.item<double>() - expected) < 1e-12);
    LmLossParts none = lmTokenLoss("none", {}, s, torch::Tensor(), targets(), mask());
    QVERIFY(std::abs(none.total.item<double>() - tokenCrossEntropy(s, targets(), mask()).item<double>()) < 1e-12);
    LmLossParts topk = lmTokenLoss("topk_logits", {{"k", 3}, {"alpha", 1.0}}, s, t, targets(), mask());
    QVERIFY(std::abs(topk.total.item<double>() - topkTailKl(s, teacherTopk(t, 3), mask()).item<double>()) < 1e-12);
    QVERIFY_THROWS_EXCEPTION(ConfigError, lmTokenLoss("seq_kd", {}, s, t, targets(), mask()));
  }

  // Autograd gradients against central differences, for every loss.
  void gradientsMatchFiniteDifferences() {
    for (const Case& c : cases()) {
      auto s = rows(kS).requires_grad_(true);
      c.loss(s).backward();
      auto grad = s.grad().clone();
      const double h = 1e-6;
      double worst = 0.0;
      for (int64_t i = 0; i < s.size(0); ++i)
        for (int64_t j = 0; j < s.size(1); ++j) {
          auto plus = rows(kS), minus = rows(kS);
          plus[i][j] += h;
          minus[i][j] -= h;
          const double numeric = (c.loss(plus).item<double>() - c.loss(minus).item<double>()) / (2 * h);
          worst = std::max(worst, std::abs(numeric - grad[i][j].item<double>()));
        }
      QVERIFY2(worst < 1e-6, qPrintable(QStringLiteral("%1: gradient off by %2").arg(c.key).arg(worst)));
      // A masked-out row gets no gradient.
      QVERIFY2(grad[2].abs().max().item<double>() == 0.0, c.key);
    }
  }

  // ---- tokenizer and corpus ----------------------------------------------------------------

  void vocabularyEncodesAndNamesMismatches() {
    std::u32string text;
    QVERIFY(decodeUtf8("héllo wörld\n", text));
    const TextVocabulary chars = TextVocabulary::charsOf(text);
    QCOMPARE(chars.size(), int64_t(10)); // h é l o space w ö r d \n
    QCOMPARE(chars.decode(chars.encode("wörld", "test")), std::string("wörld"));
    try {
      chars.encode("hox", "prompt 1");
      QFAIL("an unknown character must be refused");
    } catch (const DataError& e) {
      QVERIFY2(std::string(e.what()).find("'x'") != std::string::npos, e.what());
      QVERIFY2(std::string(e.what()).find("prompt 1") != std::string::npos, e.what());
    }
    const TextVocabulary back = TextVocabulary::fromJson(chars.toJson(), "vocab.json");
    QVERIFY(back == chars);
    QVERIFY(vocabularyMismatch(chars, back).empty());
    const std::string kinds = vocabularyMismatch(TextVocabulary::bytes(), chars);
    QVERIFY2(kinds.find("byte") != std::string::npos && kinds.find("char") != std::string::npos, kinds.c_str());
    std::u32string other;
    decodeUtf8("hello world!\n", other);
    const std::string sets = vocabularyMismatch(TextVocabulary::charsOf(other), chars);
    QVERIFY2(sets.find("'!'") != std::string::npos, sets.c_str());   // only the teacher has '!'
    QVERIFY2(sets.find("U+00E9") != std::string::npos, sets.c_str()); // only this run has 'é'
    QVERIFY(!decodeUtf8(std::string("\xC3\x28", 2), text));           // invalid UTF-8
    const TextVocabulary bytes = TextVocabulary::bytes();
    QCOMPARE(bytes.decode(bytes.encode("é", "x")), std::string("é"));
    QCOMPARE(bytes.encode("é", "x").size(), size_t(2));
  }

  void corpusReadsFoldersAndSplitsDeterministically() {
    const std::string folder = path("folder");
    std::filesystem::create_directories(folder + "/sub");
    writeText(folder + "/b.txt", tinyText(40));
    writeText(folder + "/sub/a.txt", tinyText(20));
    writeText(folder + "/index.dat", std::string("\0\1\2binary", 9));
    std::filesystem::create_symlink(folder + "/b.txt", folder + "/b.u8");
    TextCorpusConfig config;
    config.path = folder;
    const TextCorpus c = loadTextCorpus(config);
    QCOMPARE(c.files.size(), size_t(2)); // the link counts once, the binary file not at all
    QCOMPARE(c.skipped_files, int64_t(1));
    // Each file's text, plus the newline that ends a file without one.
    QCOMPARE(c.train.numel() + c.val.numel(), int64_t(tinyText(40).size() + tinyText(20).size() + 2));
    const double share = double(c.val.numel()) / double(c.train.numel() + c.val.numel());
    QVERIFY2(share > 0.05 && share < 0.15, qPrintable(QString::number(share)));
    const TextCorpus again = loadTextCorpus(config);
    QVERIFY(torch::equal(c.val, again.val));
    QCOMPARE(c.content_hash, again.content_hash);
    config.max_bytes = 100;
    QCOMPARE(loadTextCorpus(config).bytes, int64_t(100));
    config.path = path("missing");
    QVERIFY_THROWS_EXCEPTION(DataError, loadTextCorpus(config));
    const LmWindows w = makeWindows(c.val, 8, 0);
    QVERIFY(w.tokens() > 0);
    QVERIFY(torch::equal(w.inputs.slice(1, 1), w.targets.slice(1, 0, 7)));
  }

  // ---- the GPT and generation ------------------------------------------------------------------

  void gptIsCausalCachedAndCounted() {
    for (bool tied : {true, false}) {
      GptSpec spec;
      spec.layers = 2, spec.heads = 2, spec.embed = 16, spec.context = 12, spec.tie_weights = tied;
      Gpt model = buildGpt(spec, 11, 5);
      QCOMPARE(countGptParameters(model), gptParameterCount(spec, 11));
      model->eval();
      torch::NoGradGuard no_grad;
      auto idx = torch::randint(0, 11, {2, 12}, torch::kLong);
      auto full = model->forward(idx);
      QCOMPARE(full.sizes().vec(), (std::vector<int64_t>{2, 12, 11}));
      // Changing the last token changes nothing before it.
      auto changed = idx.clone();
      changed[0][11] = (changed[0][11].item<int64_t>() + 1) % 11;
      QVERIFY(torch::allclose(model->forward(changed).slice(1, 0, 11), full.slice(1, 0, 11), 1e-5, 1e-6));
      // Feeding the tokens through the key/value cache gives the same logits.
      GptKvCache cache;
      auto first = model->forward(idx.slice(1, 0, 5), &cache);
      std::vector<torch::Tensor> parts{first};
      for (int64_t i = 5; i < 12; ++i) parts.push_back(model->forward(idx.slice(1, i, i + 1), &cache));
      QVERIFY(torch::allclose(torch::cat(parts, 1), full, 1e-4, 1e-5));
    }
  }

  void generationIsDeterministicForASeed() {
    GptSpec spec;
    spec.layers = 1, spec.heads = 2, spec.embed = 16, spec.context = 8;
    Gpt model = buildGpt(spec, 13, 1);
    auto prompt = torch::tensor({{1, 2, 3}}, torch::kLong).repeat({3, 1});
    auto sample = [&](uint64_t seed, double temperature) {
      auto gen = seededGenerator(seed);
      return generateTokens(model, prompt, 20, temperature, gen, torch::kCPU); // past the context: the window slides
    };
    const auto a = sample(7, 1.0), b = sample(7, 1.0), c = sample(8, 1.0);
    QCOMPARE(a.sizes().vec(), (std::vector<int64_t>{3, 23}));
    QVERIFY(torch::equal(a, b));
    QVERIFY(!torch::equal(a, c));
    QVERIFY(torch::equal(a.slice(1, 0, 3), prompt));
    QVERIFY(torch::equal(sample(1, 0.0), sample(2, 0.0))); // temperature 0: the most likely token, any seed
    QVERIFY(model->is_training());                          // the model's mode is restored
  }

  // ---- config -------------------------------------------------------------------------------------

  void configRoundTripsAndNamesErrors() {
    const RunConfig d = defaultLmConfig();
    QVERIFY(d.isLm());
    QCOMPARE(QString::fromStdString(RunConfig::fromJson(d.toJson()).toJson().dump()), QString::fromStdString(d.toJson().dump()));
    QCOMPARE(d.lm.corpus.path, std::string(kDefaultCorpusPath));
    auto fieldOf = [](const nlohmann::json& j) -> std::string {
      try {
        RunConfig::fromJson(j);
      } catch (const ConfigError& e) {
        return e.field();
      }
      return "(accepted)";
    };
    nlohmann::json c = lmConfig("forward_kl", {{"run", 1}});
    QCOMPARE(fieldOf(c), std::string("(accepted)"));
    nlohmann::json bad = c;
    bad["method"] = {{"name", "kd"}};
    QCOMPARE(fieldOf(bad), std::string("method.name")); // an image method
    bad = c;
    bad.erase("teacher");
    QCOMPARE(fieldOf(bad), std::string("teacher"));
    bad = c;
    bad["method"] = {{"name", "seq_kd"}, {"prompt_tokens", 16}};
    QCOMPARE(fieldOf(bad), std::string("method.prompt_tokens")); // no room left to generate
    bad = c;
    bad["epochs"] = 2;
    QCOMPARE(fieldOf(bad), std::string("epochs"));
    bad = c;
    bad["student"]["heads"] = 3;
    QCOMPARE(fieldOf(bad), std::string("student.embed"));
    // And the image side refuses a language-model method.
    nlohmann::json image = RunConfig::defaultDistill().toJson();
    image["method"] = {{"name", "gkd_jsd"}};
    QCOMPARE(fieldOf(image), std::string("method.name"));
    // The registry keeps the two lists apart; "none" is in both.
    const auto lm = methodNamesForTask("lm");
    for (const char* m : {"none", "forward_kl", "reverse_kl", "gkd_jsd", "topk_logits", "seq_kd", "on_policy"})
      QVERIFY2(std::find(lm.begin(), lm.end(), m) != lm.end(), m);
    QCOMPARE(lm.size(), size_t(7));
    const auto image_methods = methodNamesForTask("distill");
    QVERIFY(std::find(image_methods.begin(), image_methods.end(), "forward_kl") == image_methods.end());
  }

  // ---- runs ---------------------------------------------------------------------------------------

  // A tiny teacher, trained first as its own run, overfits the tiny corpus.
  void teacherOverfitsTinyCorpus() {
    nlohmann::json c = lmConfig("none", nullptr);
    c["name"] = "tiny-teacher";
    c["student"] = tinyGpt(2, 2, 32, 16);
    c["steps"] = 250;
    c["eval_every"] = 250;
    c["optim"] = {{"name", "adam"}, {"lr", 0.01}, {"schedule", "cosine"}};
    const RunOutcome out = run(c);
    QVERIFY2(out.kind == RunOutcome::Kind::Success, out.message.c_str());
    teacher_run_ = out.run_id;
    const double initial = out.summary["initial_val_loss"].get<double>();
    const double final = out.summary["final_val_loss"].get<double>();
    const double vocab = out.summary["vocab_size"].get<double>();
    // From about log(vocab) at initialisation to a small fraction of a nat per character.
    QVERIFY2(initial > 0.8 * std::log(vocab), qPrintable(QString::number(initial)));
    QVERIFY2(final < 0.25, qPrintable(QString::number(final)));
    QVERIFY(store_->loadArtifact(teacher_run_, "vocab.json").has_value());
    QVERIFY(!store_->points(teacher_run_, "val_perplexity").empty());
  }

  void eachMethodRaisesStudentAgreement_data() {
    QTest::addColumn<QString>("method");
    for (const char* m : {"forward_kl", "reverse_kl", "gkd_jsd", "topk_logits", "seq_kd", "on_policy"})
      QTest::newRow(m) << QString(m);
  }
  void eachMethodRaisesStudentAgreement() {
    QFETCH(QString, method);
    if (teacher_run_ == 0) QSKIP("the teacher run failed");
    const RunOutcome out = run(lmConfig(method.toStdString(), {{"run", teacher_run_}}));
    QVERIFY2(out.kind == RunOutcome::Kind::Success, out.message.c_str());
    const double before = out.summary["initial_val_agreement"].get<double>();
    const double after = out.summary["val_agreement"].get<double>();
    QVERIFY2(after > before + 0.2,
             qPrintable(QStringLiteral("%1: agreement %2 -> %3").arg(method).arg(before).arg(after)));
    QVERIFY(out.summary["teacher_queries"].get<double>() > 0);
    QCOMPARE(out.summary["teacher_run_id"].get<int64_t>(), teacher_run_);
    // Points carry the teacher tokens queried so far, rising with the steps.
    const auto points = store_->points(out.run_id, "val_agreement");
    QVERIFY(points.size() >= 2);
    QVERIFY(points.back().teacher_queries > points.front().teacher_queries);
  }

  // Checkpoint bytes keep the language-model fields; checkpoints written
  // before them (four sections) still read; damaged ones are named.
  void checkpointBytesRoundTrip() {
    TrainingCheckpoint c;
    c.step = 42;
    c.total_steps = 90;
    c.optimizer_name = "adam";
    c.model_state = "weights";
    c.optimizer_state = "adam state";
    c.loop_state = {{"eval_s", 1.5}, {"best_val_loss", 0.25}};
    c.rng_state = "generators";
    const std::string bytes = encodeCheckpoint(c);
    const TrainingCheckpoint back = decodeCheckpoint(bytes, "test");
    QCOMPARE(back.step, int64_t(42));
    QCOMPARE(back.loop_state["best_val_loss"].get<double>(), 0.25);
    QCOMPARE(back.rng_state, std::string("generators"));
    QCOMPARE(back.model_state, std::string("weights"));
    // Without the last section (an image checkpoint from before): no generator states.
    const std::string older = bytes.substr(0, bytes.size() - 8 - c.rng_state.size());
    QVERIFY(decodeCheckpoint(older, "old").rng_state.empty());
    for (size_t cut : {bytes.size() - 3, size_t(40), size_t(5)}) {
      try {
        decodeCheckpoint(bytes.substr(0, cut), "the checkpoint of run 7");
        QFAIL("a truncated checkpoint was accepted");
      } catch (const DataError& e) {
        QVERIFY2(QString(e.what()).startsWith("the checkpoint of run 7: "), e.what());
      }
    }
  }

  // A language-model run cancelled part way resumes from the checkpoint it
  // kept, and ends exactly where the same run without the break ends: the
  // same loss at every step (so the weights, the Adam state and both random
  // generators came back) and one point per step, none lost or repeated.
  // on_policy draws windows and generates samples, so both generators matter.
  void cancelledRunResumesAsIfNeverStopped() {
    if (teacher_run_ == 0) QSKIP("the teacher run failed");
    nlohmann::json c = lmConfig("on_policy", {{"run", teacher_run_}});
    c["steps"] = 90;
    c["log_every"] = 1;
    c["checkpoint_minutes"] = 0; // checkpoints after validation passes and at the cancel only
    const RunOutcome whole = run(c);
    QVERIFY2(whole.kind == RunOutcome::Kind::Success, whole.message.c_str());

    const RunConfig config = RunConfig::fromJson(c);
    const int64_t id = queueRun(*store_, config);
    StopToken stop;
    StopAtStep stopper(stop, 20);
    const RunOutcome first = executeRun(*store_, id, config, stopper, stop);
    QCOMPARE(QString::fromStdString(toString(first.kind)), QString("cancelled"));
    const auto bytes = store_->loadArtifact(id, kCheckpointArtifact);
    QVERIFY(bytes);
    const TrainingCheckpoint checkpoint = decodeCheckpoint(*bytes, "checkpoint");
    QVERIFY2(checkpoint.step >= 20 && checkpoint.step < 90, qPrintable(QString::number(checkpoint.step)));
    QVERIFY(!checkpoint.rng_state.empty());

    NullObserver observer;
    StopToken no_stop;
    const RunOutcome resumed = resumeRun(*store_, id, observer, no_stop);
    QVERIFY2(resumed.kind == RunOutcome::Kind::Success, resumed.message.c_str());
    QCOMPARE(QString::fromStdString(toString(store_->run(id)->status)), QString("finished"));
    const auto expected = store_->points(whole.run_id, "train_loss");
    const auto got = store_->points(id, "train_loss");
    QCOMPARE(got.size(), size_t(90));
    QCOMPARE(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      QCOMPARE(got[i].step, int64_t(i + 1));
      QVERIFY2(std::abs(got[i].value - expected[i].value) <= 1e-5 * std::max(1.0, std::abs(expected[i].value)),
               qPrintable(QStringLiteral("step %1: %2 resumed, %3 uninterrupted")
                              .arg(i + 1).arg(got[i].value).arg(expected[i].value)));
    }
    const double a = whole.summary["final_val_loss"].get<double>(), b = resumed.summary["final_val_loss"].get<double>();
    QVERIFY2(std::abs(a - b) <= 1e-5, qPrintable(QStringLiteral("%1 vs %2").arg(a).arg(b)));
    // The cost counters continue too: the resumed run counted every token once.
    QCOMPARE(resumed.summary["tokens"].get<double>(), whole.summary["tokens"].get<double>());
    QCOMPARE(resumed.summary["teacher_queries"].get<double>(), whole.summary["teacher_queries"].get<double>());
  }

  // Issue 15 item 4 / issue 23, for language models: a distill run cancelled
  // while its GPT teacher trains as a child run resumes that teacher run
  // (same id, from the checkpoint it kept at the cancel, every step's point
  // once), then distils from step 0; no second teacher is trained.
  void distillCancelledInItsTeacherPhaseResumes() {
    nlohmann::json teacher = tinyGpt(1, 1, 16, 16);
    teacher["train"] = {{"steps", 40}, {"batch_size", 8}};
    nlohmann::json c = lmConfig("forward_kl", teacher);
    c["name"] = "tiny-teacher-phase";
    c["steps"] = 20;
    c["eval_every"] = 20;
    c["log_every"] = 1;
    c["checkpoint_minutes"] = 0;
    const RunConfig config = RunConfig::fromJson(c);
    const int64_t id = queueRun(*store_, config);
    StopToken stop;
    StopInPhase stopper(stop, "teacher");
    const RunOutcome first = executeRun(*store_, id, config, stopper, stop);
    QCOMPARE(QString::fromStdString(toString(first.kind)), QString("cancelled"));
    const int64_t child = store_->run(id)->teacher_run_id;
    QVERIFY(child > 0);
    QCOMPARE(QString::fromStdString(toString(store_->run(child)->status)), QString("cancelled"));
    QVERIFY(store_->loadArtifact(child, kCheckpointArtifact)); // the teacher's checkpoint at the cancel
    QVERIFY(!store_->loadArtifact(id, kCheckpointArtifact));
    const size_t runs_before = store_->runs().size();

    NullObserver observer;
    StopToken no_stop;
    const RunOutcome resumed = resumeRun(*store_, id, observer, no_stop);
    QVERIFY2(resumed.kind == RunOutcome::Kind::Success, resumed.message.c_str());
    QCOMPARE(store_->runs().size(), runs_before);
    QCOMPARE(store_->run(id)->teacher_run_id, child);
    QCOMPARE(resumed.summary["teacher_run_id"].get<int64_t>(), child);
    for (const auto& [run, steps] : {std::pair<int64_t, int64_t>{child, 40}, std::pair<int64_t, int64_t>{id, 20}}) {
      QCOMPARE(QString::fromStdString(toString(store_->run(run)->status)), QString("finished"));
      const auto loss = store_->points(run, "train_loss");
      QCOMPARE(int64_t(loss.size()), steps);
      for (size_t i = 0; i < loss.size(); ++i) QCOMPARE(loss[i].step, int64_t(i + 1));
    }
  }

  void teacherWithAnotherVocabularyIsRefused() {
    if (teacher_run_ == 0) QSKIP("the teacher run failed");
    // The same text plus one character the teacher never saw.
    const std::string other = path("other.txt");
    writeText(other, tinyText(160) + "#");
    nlohmann::json c = lmConfig("forward_kl", {{"run", teacher_run_}});
    c["corpus"]["path"] = other;
    RunOutcome out = run(c);
    QVERIFY(out.kind == RunOutcome::Kind::Failed);
    QVERIFY2(out.message.find("vocabulary mismatch") != std::string::npos, out.message.c_str());
    QVERIFY2(out.message.find("'#'") != std::string::npos, out.message.c_str());
    c["corpus"] = {{"path", corpus_}, {"tokenizer", "byte"}};
    out = run(c);
    QVERIFY(out.kind == RunOutcome::Kind::Failed);
    QVERIFY2(out.message.find("byte") != std::string::npos && out.message.find("char") != std::string::npos,
             out.message.c_str());
  }

  void generationsSideBySide() {
    if (teacher_run_ == 0) QSKIP("the teacher run failed");
    const RunOutcome out = run(lmConfig("forward_kl", {{"run", teacher_run_}}));
    QVERIFY2(out.kind == RunOutcome::Kind::Success, out.message.c_str());
    LmRunGenerator generator(*store_, out.run_id);
    QVERIFY(generator.hasTeacher());
    GenerationRequest request;
    request.prompts = {"the cat", "a dog"};
    request.new_tokens = 30;
    request.temperature = 0.8;
    request.seed = 4;
    const auto a = generator.generate(request);
    const auto b = generator.generate(request);
    QCOMPARE(a.size(), size_t(2));
    for (size_t i = 0; i < a.size(); ++i) {
      QCOMPARE(a[i].teacher.text(), b[i].teacher.text());
      QCOMPARE(a[i].student.text(), b[i].student.text());
      QCOMPARE(a[i].student.pieces.size(), size_t(30));
      QVERIFY(a[i].student.agreement >= 0.0 && a[i].student.agreement <= 1.0);
      int agreeing = 0;
      for (const auto& p : a[i].teacher.pieces) agreeing += p.agrees;
      QVERIFY(std::abs(a[i].teacher.agreement - agreeing / 30.0) < 1e-12);
    }
    // The overfitted teacher continues the corpus's sentences.
    QVERIFY2(a[0].teacher.text().find(" the ") != std::string::npos || a[0].teacher.text().find("mat") != std::string::npos,
             a[0].teacher.text().c_str());
    request.prompts = {"the cat~"};
    QVERIFY_THROWS_EXCEPTION(DataError, generator.generate(request));
  }
};

QTEST_GUILESS_MAIN(TestLm)
#include "tst_lm.moc"
