#include "core/methods/method_registry.h"

namespace distillery {

const MethodParam* MethodInfo::param(const std::string& key) const {
  for (const auto& p : params)
    if (p.name == key) return &p;
  return nullptr;
}

std::map<std::string, double> MethodInfo::resolve(const std::map<std::string, double>& given) const {
  std::map<std::string, double> out;
  for (const auto& p : params) {
    if (p.isText()) continue;
    auto it = given.find(p.name);
    out[p.name] = it == given.end() ? p.default_value : it->second;
  }
  return out;
}

std::map<std::string, std::string> MethodInfo::resolveText(const std::map<std::string, std::string>& given) const {
  std::map<std::string, std::string> out;
  for (const auto& p : params) {
    if (!p.isText()) continue;
    auto it = given.find(p.name);
    out[p.name] = it == given.end() ? p.default_text : it->second;
  }
  return out;
}

namespace {

// The parameters every feature method shares: where to tap and how to mix in CE and KD.
std::vector<MethodParam> featureParams(std::vector<MethodParam> own) {
  own.push_back({"ce_weight", "number", 1.0, 0.0, 100.0, "Weight of the cross-entropy on labels (gamma)"});
  own.push_back({"kd_weight", "number", 0.0, 0.0, 100.0,
                 "Weight of Hinton KD on the logits (alpha), 0 = feature term and CE only"});
  own.push_back({"temperature", "number", 4.0, 0.05, 100.0, "Softmax temperature of the optional KD term"});
  own.push_back({"teacher_layer", "layer", 0, 0, 0,
                 "Teacher layer to read (e.g. \"layer3\", \"features\"); empty: its last feature stage before the head",
                 ""});
  own.push_back({"student_layer", "layer", 0, 0, 0,
                 "Student layer to read; empty: its last feature stage before the head", ""});
  return own;
}

} // namespace

const std::vector<MethodInfo>& methodRegistry() {
  static const std::vector<MethodInfo> registry = {
      {"kd", "Hinton KD",
       "alpha * T^2 * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) * CE(s, y)", "logits", true,
       {{"temperature", "number", 4.0, 0.05, 100.0, "Softmax temperature T for both models"},
        {"alpha", "number", 0.9, 0.0, 1.0, "Weight of the soft (teacher) term; 1 - alpha weighs CE"}}},
      {"dkd", "Decoupled KD (Zhao et al. 2022)",
       "ce_weight * CE(s, y) + min(epoch / warmup, 1) * (alpha * TCKD + beta * NCKD): KL split into "
       "target-vs-rest (TCKD) and among the non-target classes (NCKD), both times T^2",
       "logits", true,
       {{"alpha", "number", 1.0, 0.0, 100.0, "Weight of TCKD, the target-vs-rest binary KL"},
        {"beta", "number", 8.0, 0.0, 100.0, "Weight of NCKD, the KL among the non-target classes"},
        {"temperature", "number", 4.0, 0.05, 100.0, "Softmax temperature T for both models"},
        {"warmup", "integer", 20, 0, 1000,
         "Epochs over which the distillation term ramps linearly from 0 to full; 0 = no warm-up"},
        {"ce_weight", "number", 1.0, 0.0, 100.0, "Weight of the cross-entropy on labels"}}},
      {"dist", "DIST (Huang et al. 2022)",
       "ce_weight * CE(s, y) + tau^2 * (beta * inter + gamma * intra): 1 - Pearson correlation of the "
       "softmax(./tau) outputs, per sample across classes (inter) and per class across the batch (intra)",
       "logits", true,
       {{"beta", "number", 1.0, 0.0, 100.0, "Weight of the inter-class relation (rows: per sample)"},
        {"gamma", "number", 1.0, 0.0, 100.0, "Weight of the intra-class relation (columns: per class)"},
        {"tau", "number", 1.0, 0.05, 100.0, "Softmax temperature tau for both models"},
        {"ce_weight", "number", 1.0, 0.0, 100.0, "Weight of the cross-entropy on labels"}}},
      {"logit_mse", "Logit matching (MSE)",
       "alpha * mean((s - t)^2) + (1 - alpha) * CE(s, y): regresses the raw logits", "logits", true,
       {{"alpha", "number", 0.9, 0.0, 1.0, "Weight of the logit MSE; 1 - alpha weighs CE"}},
       "distill", false, /*reads_raw_logits=*/true},
      {"hard_label", "Teacher top-1 labels",
       "alpha * CE(s, argmax t) + (1 - alpha) * CE(s, y): only the teacher's predicted class is seen",
       "top1", true,
       {{"alpha", "number", 1.0, 0.0, 1.0, "Weight of the CE on the teacher's labels; 1 - alpha weighs CE on y"}}},
      {"topk_probs", "Teacher top-k probabilities",
       "alpha * T^2 * KL(teacher's top-k view || student's) + (1 - alpha) * CE(s, y): only the teacher's k "
       "highest probabilities are seen; the missing mass goes to a tail bucket (tail=1) or is spread "
       "evenly over the other classes (tail=0)",
       "topk", true,
       {{"k", "integer", 5, 1, 100000, "Number of teacher probabilities visible (clamped to the class count)"},
        {"temperature", "number", 1.0, 0.05, 100.0, "Softmax temperature T for both models"},
        {"alpha", "number", 0.9, 0.0, 1.0, "Weight of the soft (teacher) term; 1 - alpha weighs CE"},
        {"tail", "integer", 1, 0, 1,
         "1: compare k + 1 bins (top-k plus one tail bucket); 0: spread the missing mass evenly"}}},
      {"none", "No teacher (from scratch)",
       "Cross-entropy on labels only (for language models: on the corpus's next tokens): the baseline a "
       "distilled student must beat",
       "none", false, {}, "any"},
      // ---- feature-based (core/methods/feature_losses.h, core/methods/feature_distiller.h): the teacher runs live
      // per batch; each adds beta * feature term to ce_weight * CE + kd_weight * KD.
      {"fitnets", "FitNets hint regression (Romero et al. 2015)",
       "ce_weight * CE + kd_weight * KD + beta * MSE(adapter(student feature), teacher feature): a 1x1 conv "
       "(linear for vectors) maps the student's channels to the teacher's, maps are pooled to the smaller size",
       "features", true,
       featureParams({{"beta", "number", 100.0, 0.0, 100000.0, "Weight of the hint (feature MSE) term"}}),
       "distill", true},
      {"at", "Attention transfer (Zagoruyko & Komodakis 2017)",
       "ce_weight * CE + kd_weight * KD + beta * mean((a_s - a_t)^2), a = L2-normalised mean over channels of "
       "|feature|^p per position; needs no adapter, the larger map is pooled to the smaller",
       "features", true,
       featureParams({{"beta", "number", 1000.0, 0.0, 100000.0, "Weight of the attention term"},
                      {"p", "number", 2.0, 1.0, 8.0, "Exponent of the activations in the attention map"}}),
       "distill", true},
      {"rkd", "Relational KD (Park et al. 2019)",
       "ce_weight * CE + kd_weight * KD + beta * (distance_weight * smoothL1(d_s, d_t) + angle_weight * "
       "smoothL1(angle_s, angle_t)): pairwise distances normalised by their mean and triplet angles of the "
       "(globally pooled) features in the batch",
       "features", true,
       featureParams({{"beta", "number", 1.0, 0.0, 100000.0, "Weight of the relational term"},
                      {"distance_weight", "number", 25.0, 0.0, 1000.0, "Weight of the distance term"},
                      {"angle_weight", "number", 50.0, 0.0, 1000.0, "Weight of the angle term"}}),
       "distill", true},
      {"crd", "Contrastive representation distillation (Tian et al. 2020)",
       "ce_weight * CE + kd_weight * KD + beta * (contrast(student -> teacher bank) + contrast(teacher -> "
       "student bank)): linear embeddings of the pooled features, L2-normalised; softmax at temperature "
       "nce_t over the positive memory row and k negatives drawn per batch; banks updated with momentum",
       "features", true,
       featureParams({{"beta", "number", 0.8, 0.0, 100000.0, "Weight of the contrastive term"},
                      {"feat_dim", "integer", 128, 2, 4096, "Embedding size of both heads and memory banks"},
                      {"k", "integer", 16384, 1, 1000000,
                       "Negatives per batch, drawn from the memory bank (clamped to the training set size)"},
                      {"nce_t", "number", 0.07, 0.001, 10.0, "Temperature of the contrastive softmax"},
                      {"momentum", "number", 0.5, 0.0, 1.0, "Memory bank update: m * old + (1 - m) * new"}}),
       "distill", true},
      // ---- language models (task "lm"): per-token losses of core/lm/lm_losses.h, averaged over
      // the positions that carry a target; formulas and conventions in docs/methods.md.
      {"forward_kl", "Forward KL (token level)",
       "alpha * T^2 * KL(p_teacher || p_student) per token at temperature T + (1 - alpha) * CE on the "
       "corpus's next tokens: mean-seeking, the classic KD loss",
       "logits", true,
       {{"temperature", "number", 1.0, 0.05, 100.0, "Softmax temperature T for both models"},
        {"alpha", "number", 1.0, 0.0, 1.0, "Weight of the KL term; 1 - alpha weighs CE on the corpus"}},
       "lm"},
      {"reverse_kl", "Reverse KL (token level)",
       "alpha * T^2 * KL(p_student || p_teacher) per token at temperature T + (1 - alpha) * CE: "
       "mode-seeking (MiniLLM's divergence, here on corpus text)",
       "logits", true,
       {{"temperature", "number", 1.0, 0.05, 100.0, "Softmax temperature T for both models"},
        {"alpha", "number", 1.0, 0.0, 1.0, "Weight of the KL term; 1 - alpha weighs CE on the corpus"}},
       "lm"},
      {"gkd_jsd", "Generalised JSD (GKD, token level)",
       "alpha * T^2 * JSD_beta + (1 - alpha) * CE, JSD_beta = beta * KL(p_t || m) + (1 - beta) * KL(p_s || m), "
       "m = beta * p_t + (1 - beta) * p_s (GKD paper, TRL); beta = 0 is forward KL, beta = 1 reverse KL",
       "logits", true,
       {{"beta", "number", 0.5, 0.0, 1.0, "Interpolation: 0 = KL(teacher || student), 1 = KL(student || teacher)"},
        {"temperature", "number", 1.0, 0.05, 100.0, "Softmax temperature T for both models"},
        {"alpha", "number", 1.0, 0.0, 1.0, "Weight of the JSD term; 1 - alpha weighs CE on the corpus"}},
       "lm"},
      {"topk_logits", "Teacher top-k log-probabilities (API view)",
       "alpha * KL(teacher's top-k + tail || student's same k + tail) per token + (1 - alpha) * CE: only the "
       "teacher's k most likely tokens and their log-probabilities are seen, as an API exposes them; the "
       "remaining mass of each model forms one tail bucket",
       "topk", true,
       {{"k", "integer", 5, 1, 100000, "Teacher log-probabilities visible per position (clamped to the vocabulary)"},
        {"alpha", "number", 1.0, 0.0, 1.0, "Weight of the top-k KL; 1 - alpha weighs CE on the corpus"}},
       "lm"},
      {"seq_kd", "Sequence-level KD (teacher text)",
       "CE of the student on text the teacher generated: each batch's first prompt_tokens corpus tokens are "
       "the prompt, the teacher samples the rest of the window at the given temperature (0: greedy), and "
       "the student learns the generated tokens. All an API that returns only text allows",
       "text", true,
       {{"prompt_tokens", "integer", 8, 1, 100000, "Corpus tokens that prompt each generation (< context)"},
        {"temperature", "number", 1.0, 0.0, 100.0, "Teacher sampling temperature; 0 picks the most likely token"}},
       "lm"},
      {"on_policy", "On-policy GKD (student generates, teacher scores)",
       "JSD_beta on student-generated text in a fraction lambda of the batches (the student samples after a "
       "prompt of prompt_tokens corpus tokens and the teacher scores every generated token), and on corpus "
       "text in the others",
       "logits", true,
       {{"lambda", "number", 0.5, 0.0, 1.0, "Fraction of batches the student generates (GKD's lambda)"},
        {"beta", "number", 0.5, 0.0, 1.0, "JSD interpolation: 0 = forward KL, 1 = reverse KL"},
        {"temperature", "number", 1.0, 0.0, 100.0, "Student sampling temperature; 0 picks the most likely token"},
        {"prompt_tokens", "integer", 8, 1, 100000, "Corpus tokens that prompt each generation (< context)"}},
       "lm"},
  };
  return registry;
}

const MethodInfo* findMethod(const std::string& name) {
  for (const auto& m : methodRegistry())
    if (m.name == name) return &m;
  return nullptr;
}

std::vector<const MethodInfo*> methodsForTask(const std::string& task) {
  std::vector<const MethodInfo*> out;
  for (const auto& m : methodRegistry())
    if (m.appliesTo(task)) out.push_back(&m);
  return out;
}

std::vector<std::string> methodNamesForTask(const std::string& task) {
  std::vector<std::string> names;
  for (const MethodInfo* m : methodsForTask(task)) names.push_back(m->name);
  return names;
}

std::vector<std::string> methodNames() {
  std::vector<std::string> names;
  for (const auto& m : methodRegistry()) names.push_back(m.name);
  return names;
}

} // namespace distillery
