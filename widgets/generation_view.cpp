#include "widgets/generation_view.h"

#include "core/base/errors.h"
#include "core/lm/generation_comparison.h"
#include "core/store/run_store.h"

#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QShortcut>
#include <QSpinBox>
#include <QTextBrowser>
#include <QThread>
#include <QVBoxLayout>

#include <exception>

namespace distillery::gui {

namespace {

const char* kAgreeColor = "#c6efce";    // the other model's top-1 is this token
const char* kDisagreeColor = "#ffd6d6"; // it is not

QString escapeText(const std::string& text) {
  QString s = QString::fromUtf8(text.data(), int(text.size())).toHtmlEscaped();
  s.replace(QLatin1Char('\n'), QStringLiteral("↵<br>"));
  s.replace(QLatin1Char(' '), QStringLiteral("&nbsp;"));
  return s;
}

QString textCell(const std::string& prompt, const distillery::GeneratedText& text, bool marked) {
  QString html = QStringLiteral("<span style='color:#555; font-weight:bold'>%1</span>").arg(escapeText(prompt));
  for (const auto& piece : text.pieces) {
    if (!marked) {
      html += escapeText(piece.text);
      continue;
    }
    html += QStringLiteral("<span style='background-color:%1'>%2</span>")
                .arg(QLatin1String(piece.agrees ? kAgreeColor : kDisagreeColor), escapeText(piece.text));
  }
  return html;
}

QString percent(double fraction) {
  return fraction < 0 ? QStringLiteral("—") : QString::number(100.0 * fraction, 'f', 1) + QLatin1Char('%');
}

// What the highlight and the percentages measure, and why they are lower than
// the charts' val_agreement (docs/methods.md, "Two agreements").
QString highlightLegend() {
  return QCoreApplication::translate(
             "GenerationView",
             "Highlight: <span style='background-color:%1'>&nbsp;the other model's most likely next token is the "
             "same&nbsp;</span> <span style='background-color:%2'>&nbsp;it is not&nbsp;</span><br><small>Measured "
             "on sampled text: a sampled token is often not even its own model's top choice, so these shares run "
             "far below the charts' <i>val_agreement</i>, which compares both models' top choices on held-out "
             "text.</small>")
      .arg(QLatin1String(kAgreeColor), QLatin1String(kDisagreeColor));
}

// Generation with the store connection of the calling thread.
std::vector<distillery::GenerationPair> runGeneration(distillery::RunStore& store, int64_t run_id,
                                                      const distillery::GenerationRequest& request) {
  distillery::LmRunGenerator generator(store, run_id);
  return generator.generate(request);
}

} // namespace

GenerationView::GenerationView(distillery::RunStore& store, int64_t run_id, QWidget* parent)
    : QDialog(parent), store_(store), run_id_(run_id), alive_(std::make_shared<bool>(true)) {
  setObjectName(QStringLiteral("generationView"));
  setWindowTitle(tr("Generations — run #%1").arg(run_id));
  // Loading checks the run and names its models; failures reach the caller.
  distillery::LmRunGenerator probe(store, run_id);
  has_teacher_ = probe.hasTeacher();

  header_ = new QLabel(this);
  header_->setObjectName(QStringLiteral("generationHeader"));
  header_->setWordWrap(true);
  header_->setText(tr("<b>Teacher:</b> %1<br><b>Student:</b> %2<br><b>Vocabulary:</b> %3")
                       .arg(has_teacher_ ? QString::fromStdString(probe.teacherLabel()) : tr("none (this run has no teacher)"),
                            QString::fromStdString(probe.studentLabel()),
                            QString::fromStdString(probe.vocabularyLabel())));

  prompts_ = new QPlainTextEdit(this);
  prompts_->setObjectName(QStringLiteral("generationPrompts"));
  QStringList defaults;
  for (const auto& p : distillery::LmRunGenerator::defaultPrompts()) defaults << QString::fromStdString(p);
  prompts_->setPlainText(defaults.join(QLatin1Char('\n')));
  prompts_->setToolTip(tr("One prompt per line"));
  prompts_->setMaximumHeight(90);

  temperature_ = new QDoubleSpinBox(this);
  temperature_->setObjectName(QStringLiteral("generationTemperature"));
  temperature_->setRange(0.0, 3.0);
  temperature_->setSingleStep(0.1);
  temperature_->setValue(0.8);
  temperature_->setToolTip(tr("Sampling temperature; 0 takes the most likely token"));
  seed_ = new QSpinBox(this);
  seed_->setObjectName(QStringLiteral("generationSeed"));
  seed_->setRange(0, 1'000'000);
  seed_->setToolTip(tr("Prompt i samples from seed + i; teacher and student draw the same random numbers"));
  tokens_ = new QSpinBox(this);
  tokens_->setObjectName(QStringLiteral("generationTokens"));
  tokens_->setRange(1, 2000);
  tokens_->setValue(120);
  generateButton_ = new QPushButton(tr("&Generate"), this);
  generateButton_->setObjectName(QStringLiteral("generateButton"));
  generateButton_->setDefault(true);
  connect(generateButton_, &QPushButton::clicked, this, &GenerationView::generate);

  auto* controls = new QHBoxLayout;
  auto* form = new QFormLayout;
  form->addRow(tr("Temperature"), temperature_);
  form->addRow(tr("Seed"), seed_);
  form->addRow(tr("Tokens"), tokens_);
  controls->addWidget(prompts_, 1);
  controls->addLayout(form);
  controls->addWidget(generateButton_, 0, Qt::AlignBottom);

  status_ = new QLabel(this);
  status_->setObjectName(QStringLiteral("generationStatus"));
  status_->setWordWrap(true);
  status_->setText(highlightLegend());
  output_ = new QTextBrowser(this);
  output_->setObjectName(QStringLiteral("generationOutput"));
  output_->setOpenLinks(false);

  // A non-modal window of its own: a Close button, and Esc or Ctrl+W close it
  // wherever the focus is (the text fields would otherwise keep those keys).
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  buttons->setObjectName(QStringLiteral("generationButtons"));
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  for (const QKeySequence& key : {QKeySequence(Qt::Key_Escape), QKeySequence(Qt::CTRL | Qt::Key_W)}) {
    auto* shortcut = new QShortcut(key, this);
    shortcut->setContext(Qt::WindowShortcut);
    connect(shortcut, &QShortcut::activated, this, &QDialog::reject);
  }

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(header_);
  layout->addLayout(controls);
  layout->addWidget(status_);
  layout->addWidget(output_, 1);
  layout->addWidget(buttons);
  resize(980, 640);
}

GenerationView::~GenerationView() { *alive_ = false; }

void GenerationView::generate() {
  distillery::GenerationRequest request;
  for (const QString& line : prompts_->toPlainText().split(QLatin1Char('\n')))
    if (!line.isEmpty()) request.prompts.push_back(line.toStdString());
  if (request.prompts.empty()) request.prompts.push_back("");
  request.temperature = temperature_->value();
  request.seed = uint64_t(seed_->value());
  request.new_tokens = tokens_->value();
  generateButton_->setEnabled(false);
  status_->setText(tr("Generating…"));

  const std::string path = store_.path();
  if (path == ":memory:") { // no second connection can see an in-memory store: generate here
    try {
      showResults(runGeneration(store_, run_id_, request), QString());
    } catch (const std::exception& e) {
      showResults({}, QString::fromStdString(e.what()));
    }
    return;
  }
  const int64_t run_id = run_id_;
  std::shared_ptr<bool> alive = alive_;
  QThread* worker = QThread::create([this, alive, path, run_id, request] {
    std::vector<distillery::GenerationPair> results;
    QString error;
    try {
      distillery::RunStore store(path); // a connection belongs to the thread that opened it
      results = runGeneration(store, run_id, request);
    } catch (const std::exception& e) {
      error = QString::fromStdString(e.what());
    }
    QMetaObject::invokeMethod(
        qApp, [this, alive, results = std::move(results), error]() mutable {
          if (*alive) showResults(std::move(results), error);
        },
        Qt::QueuedConnection);
  });
  connect(worker, &QThread::finished, worker, &QObject::deleteLater);
  worker->start();
}

void GenerationView::showResults(std::vector<distillery::GenerationPair> results, const QString& error) {
  generateButton_->setEnabled(true);
  results_ = std::move(results);
  if (!error.isEmpty()) {
    status_->setText(tr("<span style='color:#b00'>%1</span>").arg(error.toHtmlEscaped()));
  } else {
    status_->setText(highlightLegend());
  }
  output_->setHtml(resultsHtml());
  Q_EMIT generated();
}

QString GenerationView::resultsHtml() const {
  QString html = QStringLiteral("<table width='100%' cellspacing='0' cellpadding='6' border='1' "
                                "style='border-collapse:collapse; font-family:monospace'>");
  html += QStringLiteral("<tr><th width='50%'>%1</th><th width='50%'>%2</th></tr>")
              .arg(tr("Teacher"), tr("Student"));
  for (const auto& pair : results_) {
    html += QStringLiteral("<tr><td valign='top'>");
    if (has_teacher_) {
      html += tr("<small>student's top choice = the teacher's sampled token at %1 of positions</small><br>")
                  .arg(percent(pair.teacher.agreement));
      html += textCell(pair.prompt, pair.teacher, true);
    } else {
      html += tr("<i>no teacher</i>");
    }
    html += QStringLiteral("</td><td valign='top'>");
    if (has_teacher_)
      html += tr("<small>teacher's top choice = the student's sampled token at %1 of positions</small><br>")
                  .arg(percent(pair.student.agreement));
    html += textCell(pair.prompt, pair.student, has_teacher_);
    html += QStringLiteral("</td></tr>");
  }
  html += QStringLiteral("</table>");
  return html;
}

void openGenerationView(distillery::RunStore& store, int64_t run_id, QWidget* parent) {
  if (run_id <= 0) {
    QMessageBox::information(parent, QObject::tr("Generations"),
                             QObject::tr("Select a finished language-model run (task \"lm\") first."));
    return;
  }
  try {
    auto* view = new GenerationView(store, run_id, parent);
    view->setAttribute(Qt::WA_DeleteOnClose);
    view->show();
    view->generate();
  } catch (const std::exception& e) {
    QMessageBox::information(parent, QObject::tr("Generations"),
                             QObject::tr("No generations for run #%1: %2").arg(run_id).arg(QString::fromStdString(e.what())));
  }
}

} // namespace distillery::gui
