#pragma once
// Side by side, the generations of a finished language-model run (the student)
// and of its teacher for the same prompts, temperature and seed. Each generated
// character is highlighted by whether the other model's most likely next token
// on the same prefix is the same (core/lm/generation_comparison.h). Generation
// runs on a worker thread with its own store connection.
#include <QDialog>

#include <cstdint>
#include <memory>
#include <vector>

class QDoubleSpinBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTextBrowser;

namespace distillery {
class RunStore;
struct GenerationPair;
} // namespace distillery

namespace distillery::gui {

class GenerationView : public QDialog {
  Q_OBJECT

public:
  // Throws ConfigError when run_id is not a finished language-model run.
  GenerationView(distillery::RunStore& store, int64_t run_id, QWidget* parent = nullptr);
  ~GenerationView() override;

  int64_t runId() const { return run_id_; }
  // The last results, as shown (for tests).
  const std::vector<distillery::GenerationPair>& results() const { return results_; }
  QString resultsHtml() const;

public Q_SLOTS:
  // Starts a generation with the form's prompts, temperature, seed and length.
  void generate();

Q_SIGNALS:
  void generated(); // results() and the view are updated, or an error is shown

private:
  void showResults(std::vector<distillery::GenerationPair> results, const QString& error);

  distillery::RunStore& store_;
  int64_t run_id_;
  bool has_teacher_ = false;
  QLabel* header_ = nullptr;
  QPlainTextEdit* prompts_ = nullptr;
  QDoubleSpinBox* temperature_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QSpinBox* tokens_ = nullptr;
  QPushButton* generateButton_ = nullptr;
  QLabel* status_ = nullptr;
  QTextBrowser* output_ = nullptr;
  std::vector<distillery::GenerationPair> results_;
  std::shared_ptr<bool> alive_; // cleared on destruction, so a late worker result is dropped
};

// Opens the view for run_id (non-modal, deleted on close), or explains in a
// message box why that run has no generations to show.
void openGenerationView(distillery::RunStore& store, int64_t run_id, QWidget* parent);

} // namespace distillery::gui
