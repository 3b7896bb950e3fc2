#include "core/store/run_provenance.h"

#include "core/base/json_flatten.h"
#include "core/base/sha256.h"

namespace distillery {

namespace {
std::string text(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return {};
  return scalarText(j[key]);
}

const nlohmann::json& member(const nlohmann::json& j, const char* key) {
  static const nlohmann::json none;
  return j.is_object() && j.contains(key) ? j[key] : none;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}
} // namespace

std::vector<ProvenanceItem> runProvenance(const RunRecord& run, RunStore* store) {
  std::vector<ProvenanceItem> items;
  auto add = [&](const std::string& label, const std::string& value) {
    if (!value.empty()) items.push_back({label, value});
  };
  const nlohmann::json config = nlohmann::json::parse(run.config_json, nullptr, false);
  const nlohmann::json& s = run.summary;

  std::string task = run.task;
  const std::string method = !text(s, "method").empty() ? text(s, "method") : text(member(config, "method"), "name");
  if (run.task == "distill" && !method.empty()) task += " (method " + method + ")";
  add("Task", task);
  add("Status", toString(run.status) + (run.error.empty() ? "" : ": " + run.error));

  // Teacher: where it came from and which exact file or stored model it was.
  if (run.task == "distill") {
    const nlohmann::json& recorded = member(s, "teacher");
    const nlohmann::json& configured = member(config, "teacher");
    if (configured.contains("api")) { // seen only through its answers; a reference run is for evaluation
      const nlohmann::json& api = member(s, "api");
      add("Teacher", "API " + text(member(configured, "api"), "url") +
                         (text(api, "defense").empty() ? "" : " (" + text(api, "defense") + ")"));
      if (!text(api, "server_identity").empty()) add("Teacher API identity", text(api, "server_identity"));
      if (member(api, "reference_run").is_number_integer())
        add("Evaluation reference", "run #" + std::to_string(api["reference_run"].get<int64_t>()) +
                                        " (the undefended teacher; never used in training)");
    } else if (text(recorded, "kind") == "torchscript" || configured.contains("torchscript")) {
      const std::string path = !text(recorded, "path").empty() ? text(recorded, "path") : text(configured, "torchscript");
      add("Teacher", "TorchScript file " + path);
      add("Teacher file SHA-256", text(recorded, "sha256").empty() ? "not recorded" : text(recorded, "sha256"));
    } else {
      int64_t teacher_id = run.teacher_run_id;
      if (!teacher_id && member(s, "teacher_run_id").is_number_integer()) teacher_id = s["teacher_run_id"].get<int64_t>();
      std::string source;
      if (configured.contains("run")) source = "stored run";
      else if (configured.is_object()) source = "zoo spec " + configured.dump() + ", trained first";
      if (teacher_id) {
        std::string name;
        if (store)
          if (auto t = store->run(teacher_id)) name = " " + t->name;
        source += (source.empty() ? "" : ": ") + std::string("run #") + std::to_string(teacher_id) + name;
      }
      add("Teacher", source);
      add("Teacher model", text(s, "teacher_model"));
      if (teacher_id && store)
        if (auto bytes = store->loadArtifact(teacher_id, "model.pt"))
          add("Teacher model SHA-256", sha256Hex(*bytes) + " (stored model.pt of run #" + std::to_string(teacher_id) + ")");
    }
  }
  add("Model", text(s, "model"));
  const nlohmann::json& source = member(s, "source");
  if (text(source, "kind") == "torchscript") {
    add("Model file", text(source, "path"));
    add("Model file SHA-256", text(source, "sha256"));
  }

  // Data.
  const nlohmann::json& data = member(config, "data");
  add("Dataset", !text(s, "dataset").empty() ? text(s, "dataset") : text(data, "dataset"));
  add("Dataset path", !text(s, "dataset_path").empty() ? text(s, "dataset_path") : text(data, "path"));
  add("Dataset hash", text(s, "dataset_hash").empty() ? "not recorded" : text(s, "dataset_hash"));

  // Software and hardware.
  add("Distillery version", text(s, "app_version").empty() ? "not recorded" : text(s, "app_version"));
  add("LibTorch version", text(s, "libtorch_version").empty() ? "not recorded" : text(s, "libtorch_version"));
  std::string device = text(s, "device");
  if (device.empty() && !text(config, "device").empty()) device = text(config, "device") + " (requested)";
  if (!device.empty() && !text(s, "device_name").empty()) device += " (" + text(s, "device_name") + ")";
  add("Device", device);
  add("Seed", text(config, "seed"));

  add("Created", run.created_at);
  add("Started", run.started_at);
  add("Finished", run.finished_at);
  if (run.sweep_id) add("Sweep", "#" + std::to_string(run.sweep_id));
  if (run.starred) add("Starred", "yes");
  add("Tags", joined(run.tags));
  add("Notes", run.notes);
  return items;
}

} // namespace distillery
