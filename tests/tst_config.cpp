// Run configs: the documented JSON parses, round-trips, and every error names its field.
#include "core/data/data_probe.h"
#include "core/data/dataset_formats.h"
#include "core/base/errors.h"
#include "core/models/model_info.h"
#include "core/config/run_config.h"
#include "core/training/run_preflight.h"
#include "core/store/run_store.h"
#include "test_support.h"

#include <QtTest>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

using namespace distillery;
using json = nlohmann::json;

class TestConfig : public QObject {
  Q_OBJECT

private:
  static json documented() {
    return json::parse(R"({ "name": "kd-mlp128", "task": "distill",
      "data": {"dataset": "fashion-mnist", "path": "/usr/share/datasets/fashion-mnist", "train_limit": 60000, "val_size": 5000},
      "teacher": {"run": 3},
      "student": {"zoo": "mlp", "hidden": [128]},
      "method": {"name": "kd", "temperature": 4.0, "alpha": 0.9},
      "optim": {"name": "adam", "lr": 0.001},
      "batch_size": 128, "epochs": 1, "seed": 0, "device": "auto" })");
  }

  // Runs the preflight and returns the ConfigError's field ("<no error>" when it passes).
  static std::string preflightField(const RunConfig& c, RunStore* store, std::string* message = nullptr,
                                    PreflightDepth depth = PreflightDepth::Full) {
    try {
      preflightRun(c, store, depth);
    } catch (const ConfigError& e) {
      if (message) *message = e.what();
      return e.field();
    }
    return "<no error>";
  }

  static json lmConfig(const std::string& corpus, int student_context) {
    return {{"name", "lm"}, {"task", "lm"}, {"corpus", {{"path", corpus}}},
            {"student", {{"zoo", "gpt"}, {"layers", 1}, {"heads", 1}, {"embed", 16}, {"context", student_context}}},
            {"method", {{"name", "none"}}}};
  }

  // Parses and returns the ConfigError's field; fails the test when parsing succeeds.
  static std::string errorField(const json& j, std::string* message = nullptr) {
    try {
      RunConfig::fromJson(j);
    } catch (const ConfigError& e) {
      if (message) *message = e.what();
      return e.field();
    }
    return "<no error>";
  }

private Q_SLOTS:
  void parsesTheDocumentedConfig() {
    RunConfig c = RunConfig::fromJson(documented());
    QCOMPARE(QString::fromStdString(c.task), QString("distill"));
    QVERIFY(c.teacher.kind == TeacherSource::Kind::Run);
    QCOMPARE(c.teacher.run_id, int64_t(3));
    QCOMPARE(c.student.hidden, std::vector<int>{128});
    QCOMPARE(c.method.params.at("temperature"), 4.0);
    QCOMPARE(c.method.params.at("alpha"), 0.9);
    QCOMPARE(c.data.train_limit, int64_t(60000));
    QCOMPARE(c.batch_size, 128);
  }

  void roundTripsThroughJson() {
    RunConfig a = RunConfig::defaultDistill();
    json j = a.toJson();
    RunConfig b = RunConfig::fromJson(j);
    QCOMPARE(QString::fromStdString(b.toJson().dump()), QString::fromStdString(j.dump()));
    QCOMPARE(j["version"].get<int>(), kConfigVersion);
    QCOMPARE(j["teacher"]["train"]["epochs"].get<int>(), 1);
    QCOMPARE(j["teacher"]["channels"], json::array({32, 64}));
  }

  void fillsMethodDefaultsFromTheSchema() {
    json j = documented();
    j["method"] = {{"name", "kd"}};
    RunConfig c = RunConfig::fromJson(j);
    QCOMPARE(c.method.params.at("temperature"), 4.0);
    QCOMPARE(c.method.params.at("alpha"), 0.9);
  }

  void errorsNameTheField() {
    std::string msg;
    json j = documented();
    j["method"]["temperature"] = "hot";
    QCOMPARE(QString::fromStdString(errorField(j, &msg)), QString("method.temperature"));
    QVERIFY(msg.find("expected a number") != std::string::npos);

    j = documented();
    j["method"]["alpha"] = 1.5;
    QCOMPARE(QString::fromStdString(errorField(j, &msg)), QString("method.alpha"));
    QVERIFY(msg.find("out of range [0, 1]") != std::string::npos);

    j = documented();
    j["method"]["name"] = "magic";
    QCOMPARE(QString::fromStdString(errorField(j, &msg)), QString("method.name"));
    QVERIFY2(msg.find("allowed: kd") != std::string::npos, msg.c_str());

    j = documented();
    j["data"]["colour"] = true;
    QCOMPARE(QString::fromStdString(errorField(j, &msg)), QString("data.colour"));
    QVERIFY(msg.find("unknown key") != std::string::npos && msg.find("val_size") != std::string::npos);

    j = documented();
    j["student"]["hidden"] = json::array({128, -4});
    QCOMPARE(QString::fromStdString(errorField(j)), QString("student.hidden[1]"));

    j = documented();
    j["batch_size"] = 12.5;
    QCOMPARE(QString::fromStdString(errorField(j)), QString("batch_size"));

    j = documented();
    j["device"] = "tpu";
    QCOMPARE(QString::fromStdString(errorField(j)), QString("device"));

    j = documented();
    j["task"] = "finetune";
    QCOMPARE(QString::fromStdString(errorField(j)), QString("task"));

    j = documented();
    j.erase("teacher");
    QCOMPARE(QString::fromStdString(errorField(j)), QString("teacher"));

    j = documented();
    j["student"]["zoo"] = "transformer";
    QCOMPARE(QString::fromStdString(errorField(j)), QString("student.zoo"));
  }

  void trainTaskUsesModel() {
    json j = {{"task", "train"}, {"model", {{"zoo", "cnn"}, {"channels", {8}}, {"fc", 32}}}};
    RunConfig c = RunConfig::fromJson(j);
    QCOMPARE(QString::fromStdString(describe(c.trainedModel())), QString("cnn[8]fc32"));
    j["teacher"] = {{"run", 1}};
    QCOMPARE(QString::fromStdString(errorField(j)), QString("teacher"));
  }

  void baselineIsTheSameStudentWithoutTeacher() {
    RunConfig kd = RunConfig::defaultDistill();
    RunConfig b = kd.baseline();
    QCOMPARE(QString::fromStdString(b.task), QString("train"));
    QCOMPARE(QString::fromStdString(describe(b.model)), QString::fromStdString(describe(kd.student)));
    QCOMPARE(b.epochs, kd.epochs);
    QCOMPARE(b.seed, kd.seed);
    QCOMPARE(b.optim.lr, kd.optim.lr);
    QCOMPARE(QString::fromStdString(b.name), QString("kd-mlp128-baseline"));
    // The baseline's JSON is a valid train config of its own.
    RunConfig again = RunConfig::fromJson(b.toJson());
    QCOMPARE(QString::fromStdString(again.toJson().dump()), QString::fromStdString(b.toJson().dump()));
  }

  void invalidJsonTextIsAConfigError() {
    try {
      RunConfig::fromJsonText("{\"name\": ");
      QFAIL("no error");
    } catch (const ConfigError& e) {
      QVERIFY(std::string(e.what()).find("not valid JSON") != std::string::npos);
    }
    // Found by fuzz_config: a number too large for a double is the parser's
    // out_of_range, which used to escape as an unknown exception.
    try {
      RunConfig::fromJsonText("{\"epochs\": 1e30816}");
      QFAIL("no error");
    } catch (const ConfigError& e) {
      QVERIFY2(std::string(e.what()).find("not valid JSON") != std::string::npos, e.what());
    }
  }

  void modelInfoCountsParametersAndFlops() {
    ModelSpec mlp;
    mlp.zoo = "mlp";
    mlp.hidden = {128};
    ModelInfo info = describeModel(mlp, 1, 28, 28, 10);
    // 784*128 + 128 + 128*10 + 10, by hand.
    QCOMPARE(info.params, int64_t(101770));
    QCOMPARE(info.flops_per_sample, 2.0 * (784 * 128 + 128 * 10));
    ModelSpec cnn;
    cnn.zoo = "cnn";
    cnn.channels = {32, 64};
    cnn.fc = 256;
    ModelInfo c = describeModel(cnn, 1, 28, 28, 10);
    // conv1 320, conv2 18496, fc 3136*256+256, out 2570.
    QCOMPARE(c.params, int64_t(320 + 18496 + 803072 + 2570));
    QCOMPARE(int(c.layers.size()), 4);
    cnn.channels = {8, 8, 8, 8, 8};
    QVERIFY_THROWS_EXCEPTION(ConfigError, describeModel(cnn, 1, 28, 28, 10));
  }

  // Issue 15.3: a GPT teacher trained on the way must cover the student's context.
  void lmStudentContextLongerThanItsTeachersIsRefused() {
    json j = lmConfig("/tmp/corpus.txt", 64);
    j["method"] = {{"name", "forward_kl"}};
    j["teacher"] = {{"zoo", "gpt"}, {"layers", 1}, {"heads", 1}, {"embed", 16}, {"context", 32}, {"train", {{"steps", 10}}}};
    std::string msg;
    QCOMPARE(QString::fromStdString(errorField(j, &msg)), QString("student.context"));
    QVERIFY2(msg.find("32") != std::string::npos && msg.find("teacher.context") != std::string::npos, msg.c_str());
    j["teacher"]["context"] = 64;
    QCOMPARE(QString::fromStdString(errorField(j)), QString("<no error>"));
  }

  // Issues 15.6 and 15.21: what a config cannot start with is refused before a run row exists.
  void preflightRefusesWhatCannotStart() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string data = dir.filePath("data").toStdString();
    QVERIFY(QDir().mkpath(QString::fromStdString(data)));
    testsupport::writeSyntheticDataset(data, 600, 100);
    RunConfig good = RunConfig::defaultDistill();
    good.data.path = data;
    good.data.train_limit = 0;
    good.data.val_size = 100;
    QCOMPARE(QString::fromStdString(preflightField(good, nullptr)), QString("<no error>"));

    std::string msg;
    RunConfig c = good;
    c.name = "  ";
    QCOMPARE(QString::fromStdString(preflightField(c, nullptr, &msg)), QString("name"));

    c = good;
    c.data.path = data + "/missing";
    QCOMPARE(QString::fromStdString(preflightField(c, nullptr, &msg, PreflightDepth::Quick)), QString("data.path"));
    QVERIFY2(msg.find(data + "/missing") != std::string::npos, msg.c_str());
    // A path below a regular file (which root meets too): the file in the way is named.
    c.data.path = data + "/train-labels-idx1-ubyte.gz/images";
    QCOMPARE(QString::fromStdString(preflightField(c, nullptr, &msg, PreflightDepth::Quick)), QString("data.path"));
    QVERIFY2(msg.find(c.data.path + ": not found (" + data + "/train-labels-idx1-ubyte.gz is a file, not a folder)") !=
                 std::string::npos,
             msg.c_str());

    QVERIFY(QFile::remove(QString::fromStdString(data + "/t10k-labels-idx1-ubyte.gz")));
    QCOMPARE(QString::fromStdString(preflightField(good, nullptr, &msg)), QString("data.path"));
    QVERIFY2(msg.find("t10k-labels-idx1-ubyte") != std::string::npos, msg.c_str());
    testsupport::writeSyntheticDataset(data, 600, 100);

    // The validation split must leave training samples: under the train limit,
    // and under the file's own size (read from the IDX header: 600 here).
    c = good;
    c.data.train_limit = 300;
    c.data.val_size = 300;
    QCOMPARE(QString::fromStdString(preflightField(c, nullptr, &msg, PreflightDepth::Quick)), QString("data.val_size"));
    QVERIFY2(msg.find("out of 300 (data.train_limit)") != std::string::npos, msg.c_str());
    c.data.train_limit = 3000; // more than the file holds: its 600 samples count
    c.data.val_size = 5000;
    QCOMPARE(QString::fromStdString(preflightField(c, nullptr, &msg, PreflightDepth::Quick)), QString("data.val_size"));
    QVERIFY2(msg.find("out of 600") != std::string::npos, msg.c_str());
    c.data.train_limit = 0;
    QCOMPARE(QString::fromStdString(preflightField(c, nullptr, &msg, PreflightDepth::Quick)), QString("data.val_size"));
    QVERIFY2(msg.find("out of 600") != std::string::npos, msg.c_str());
    c.data.val_size = 599;
    QCOMPARE(QString::fromStdString(preflightField(c, nullptr)), QString("<no error>"));

    // Layer names exist on the models (built for this data's shape).
    c = good;
    c.method = RunConfig::fromJson(json{{"task", "distill"}, {"data", {{"path", data}}}, {"teacher", {{"run", 1}}},
                                        {"student", {{"zoo", "mlp"}}}, {"method", {{"name", "fitnets"}}}})
                   .method;
    QCOMPARE(QString::fromStdString(preflightField(c, nullptr)), QString("<no error>"));
    c.method.text_params["teacher_layer"] = "bogus";
    QCOMPARE(QString::fromStdString(preflightField(c, nullptr, &msg)), QString("method.teacher_layer"));
    QVERIFY2(msg.find("bogus") != std::string::npos, msg.c_str());
    c.method.text_params["teacher_layer"] = "";
    c.method.text_params["student_layer"] = "layers.9";
    QCOMPARE(QString::fromStdString(preflightField(c, nullptr, &msg)), QString("method.student_layer"));

    c = good;
    c.teacher.kind = TeacherSource::Kind::TorchScript;
    c.teacher.model.torchscript = data + "/absent.pt";
    QCOMPARE(QString::fromStdString(preflightField(c, nullptr, &msg, PreflightDepth::Quick)),
             QString("teacher.torchscript"));
  }

  // Issues 15.2 and 15.3: a teacher run must be finished, of the same kind of
  // task, and hold a model that fits the data (image) or the student (language model).
  void teacherRunMustFitTheTaskAndData() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string data = dir.filePath("data").toStdString();
    QVERIFY(QDir().mkpath(QString::fromStdString(data)));
    testsupport::writeSyntheticDataset(data, 300, 50);
    const std::string corpus = dir.filePath("text.txt").toStdString();
    std::ofstream(corpus) << "the cat sat on the mat. a dog ran in the park.\n";

    RunStore store(":memory:");
    auto finished = [&](const std::string& task, const json& config, const json& summary) {
      const int64_t id = store.createRun("r", task, config.dump());
      store.setSummary(id, summary);
      store.setStatus(id, RunStatus::Finished);
      return id;
    };
    RunConfig image = RunConfig::defaultDistill();
    image.data.path = data;
    image.data.val_size = 50;
    const json image_config = image.baseline().toJson();
    const int64_t fits = finished("train", image_config, {{"model", "mlp[128]"}, {"input_shape", {1, 28, 28}}, {"num_classes", 10}});
    const int64_t cifar = finished("train", image_config, {{"model", "resnet20"}, {"input_shape", {3, 32, 32}}, {"num_classes", 100}});
    const int64_t lm32 = finished("lm", lmConfig(corpus, 32), {{"model", "gpt L1 H1 d16 ctx32"}});
    const int64_t running = store.createRun("busy", "train", image_config.dump());

    const DataProbe probe = probeData(image.data);
    QVERIFY(teacherRunMismatch(*store.run(fits), image, probe).empty());
    const std::string lm_why = teacherRunMismatch(*store.run(lm32), image, probe);
    QVERIFY2(lm_why.find("language-model") != std::string::npos, lm_why.c_str());
    const std::string cifar_why = teacherRunMismatch(*store.run(cifar), image, probe);
    QVERIFY2(cifar_why.find("3x32x32") != std::string::npos && cifar_why.find("1x28x28") != std::string::npos,
             cifar_why.c_str());
    QVERIFY(!teacherRunMismatch(*store.run(running), image, probe).empty());

    std::string msg;
    image.teacher.kind = TeacherSource::Kind::Run;
    image.teacher.run_id = lm32;
    QCOMPARE(QString::fromStdString(preflightField(image, &store, &msg, PreflightDepth::Quick)), QString("teacher.run"));
    image.teacher.run_id = 999;
    QCOMPARE(QString::fromStdString(preflightField(image, &store, &msg, PreflightDepth::Quick)), QString("teacher.run"));
    QVERIFY2(msg.find("does not exist") != std::string::npos, msg.c_str());
    image.teacher.run_id = fits;
    QCOMPARE(QString::fromStdString(preflightField(image, &store, &msg, PreflightDepth::Quick)), QString("<no error>"));

    // A language-model student reads 64 positions; a context-32 teacher cannot score them.
    json lm = lmConfig(corpus, 64);
    lm["method"] = {{"name", "forward_kl"}};
    lm["teacher"] = {{"run", lm32}};
    QCOMPARE(QString::fromStdString(preflightField(RunConfig::fromJson(lm), &store, &msg, PreflightDepth::Quick)),
             QString("teacher.run"));
    QVERIFY2(msg.find("context 32") != std::string::npos && msg.find("64") != std::string::npos, msg.c_str());
    lm["student"]["context"] = 32;
    QCOMPARE(QString::fromStdString(preflightField(RunConfig::fromJson(lm), &store, &msg, PreflightDepth::Quick)),
             QString("<no error>"));
    lm["corpus"]["tokenizer"] = "byte";
    QCOMPARE(QString::fromStdString(preflightField(RunConfig::fromJson(lm), &store, &msg, PreflightDepth::Quick)),
             QString("teacher.run"));
    QVERIFY2(msg.find("tokenizer") != std::string::npos, msg.c_str());
    lm["teacher"] = {{"run", fits}};
    lm["corpus"]["tokenizer"] = "char";
    QCOMPARE(QString::fromStdString(preflightField(RunConfig::fromJson(lm), &store, &msg, PreflightDepth::Quick)),
             QString("teacher.run"));
    QVERIFY2(msg.find("image run") != std::string::npos, msg.c_str());
  }
  // Issue 16 item 4: the format table's allowed keys are exactly what parsing
  // accepts. For every format and every key any format reads (plus one no format
  // reads): accepted when allowedDataKeys lists it, else refused naming
  // data.<key>; an unknown key's message lists the keys read, which must be the
  // table's. Format keys survive a round trip through toJson.
  void formatKeysAreWhatTheConfigAccepts() {
    const std::map<std::string, json> examples = {
        {"path", "/data"}, {"train_limit", 100}, {"val_size", 10}, {"val_fraction", 0.2}, {"test_limit", 5},
        {"divide_by", 255.0}, {"mean", 0.5}, {"std", 0.25}, {"test_fraction", 0.3},
        {"augment", {{"horizontal_flip", true}}}, {"labels", "coarse"}, {"image_size", 16}, {"channels", 1},
        {"label_column", "species"}, {"separator", ";"}, {"header", true}, {"never_a_key", 1}};
    std::set<std::string> every_key = {"never_a_key"};
    for (const DatasetFormat& f : datasetFormats())
      for (const std::string& k : allowedDataKeys(f)) every_key.insert(k);
    every_key.erase("dataset");
    for (const std::string& k : every_key)
      QVERIFY2(examples.count(k), ("give the test an example value for data." + k).c_str());

    for (const DatasetFormat& f : datasetFormats()) {
      const std::vector<std::string> allowed = allowedDataKeys(f);
      auto allows = [&](const std::string& k) { return std::count(allowed.begin(), allowed.end(), k) > 0; };
      // The smallest accepted object: dataset and path, plus the keys the format requires.
      json base = {{"dataset", f.name}, {"path", "/data"}};
      for (int tries = 0;; ++tries) {
        try {
          dataConfigFromJson(base);
          break;
        } catch (const ConfigError& e) {
          const std::string key = e.field().substr(std::string("data.").size());
          QVERIFY2(tries < 5 && allows(key) && examples.count(key) && !base.contains(key), e.what());
          base[key] = examples.at(key);
        }
      }
      for (const std::string& key : every_key) {
        json d = base;
        d[key] = examples.at(key);
        if (key == "mean" || key == "std") d["mean"] = examples.at("mean"), d["std"] = examples.at("std"); // a pair
        const std::string what = f.name + " with data." + key;
        if (allows(key)) {
          try {
            const DataConfig parsed = dataConfigFromJson(d);
            const json written = toJson(parsed);
            if (std::count(f.keys.begin(), f.keys.end(), key)) QVERIFY2(written.contains(key), what.c_str());
            QCOMPARE(toJson(dataConfigFromJson(written)), written);
          } catch (const ConfigError& e) {
            QFAIL((what + " refused: " + e.what()).c_str());
          }
        } else {
          try {
            dataConfigFromJson(d);
            QFAIL((what + " accepted; the table does not allow it").c_str());
          } catch (const ConfigError& e) {
            QCOMPARE(QString::fromStdString(e.field()), QString::fromStdString("data." + key));
            if (key == "never_a_key") { // the message lists every key parsing read: the table's
              std::set<std::string> listed(allowed.begin(), allowed.end());
              std::string expected;
              for (const std::string& k : listed) expected += (expected.empty() ? "" : ", ") + k;
              QVERIFY2(std::string(e.what()).find("allowed here: " + expected) != std::string::npos, e.what());
            }
          }
        }
      }
    }
    // Another format's key is refused naming the formats that read it.
    try {
      dataConfigFromJson({{"dataset", "mnist"}, {"test_fraction", 0.1}});
      QFAIL("test_fraction accepted for mnist");
    } catch (const ConfigError& e) {
      QVERIFY2(std::string(e.what()).find("only used with datasets \"image-folder\" and \"csv\"") != std::string::npos,
               e.what());
    }
    // Under transfer.data the same checks name that object.
    try {
      RunConfig::fromJson({{"task", "distill"}, {"teacher", {{"run", 1}}}, {"student", {{"zoo", "mlp"}}},
                           {"transfer", {{"data", {{"dataset", "mnist"}, {"labels", "fine"}}}}}});
      QFAIL("labels accepted for mnist");
    } catch (const ConfigError& e) {
      QCOMPARE(QString::fromStdString(e.field()), QString("transfer.data.labels"));
      QVERIFY2(std::string(e.what()).find("only used with dataset \"cifar100\"") != std::string::npos, e.what());
    }
  }
};

QTEST_APPLESS_MAIN(TestConfig)
#include "tst_config.moc"
