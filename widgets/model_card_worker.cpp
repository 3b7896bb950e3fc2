#include "widgets/model_card_worker.h"

#include <exception>
#include <sstream>

namespace distillery::gui {

ModelCardWorker::ModelCardWorker() = default;

distillery::ModelCard ModelCardWorker::cardFor(const QString& spec_json, const CardRequest& request) {
  std::ostringstream key;
  key << spec_json.toStdString() << '|' << request.input.channels << 'x' << request.input.height << 'x'
      << request.input.width << '|' << request.input.classes << '|' << request.device.toStdString() << '|'
      << request.latency;
  auto it = cache_.find(key.str());
  if (it != cache_.end()) return it->second;
  const distillery::ModelSpec spec =
      distillery::modelSpecFromJson(nlohmann::json::parse(spec_json.toStdString()), "model");
  distillery::CardOptions options;
  options.device = request.device.toStdString();
  options.measure_latency = request.latency;
  options.cancel = &obsolete_;
  distillery::ModelCard card = distillery::makeModelCard(spec, request.input, options);
  // An abandoned measurement is incomplete: not worth keeping.
  if (!obsolete_.load()) {
    if (cache_.size() > 64) cache_.clear();
    cache_[key.str()] = card;
  }
  return card;
}

void ModelCardWorker::measure(const CardRequest& request) {
  if (request.ticket < latest_.load() || cancel_.load()) return;
  obsolete_.store(false); // polled between timed forwards, through CardOptions::cancel
  QString json, text, error;
  try {
    distillery::ModelCard card = cardFor(request.spec_json, request);
    if (!request.teacher_json.isEmpty()) {
      try {
        distillery::compareWithTeacher(card, cardFor(request.teacher_json, request));
      } catch (const std::exception&) {
        // A teacher that cannot be measured leaves the card without comparison.
      }
    }
    json = QString::fromStdString(distillery::toJson(card).dump());
    text = QString::fromStdString(distillery::formatModelCard(card));
  } catch (const std::exception& e) {
    error = QString::fromUtf8(e.what());
  }
  if (request.ticket < latest_.load() || cancel_.load()) return;
  Q_EMIT measured(request.ticket, json, text, error);
}

} // namespace distillery::gui
