#include "widgets/gpt_spec_form.h"

#include "core/base/number_format.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSpinBox>

namespace distillery::gui {

namespace {

QSpinBox* spin(QWidget* parent, const char* name, int min, int max, const QString& tip) {
  auto* box = new QSpinBox(parent);
  box->setObjectName(QString::fromLatin1(name));
  box->setRange(min, max);
  box->setToolTip(tip);
  return box;
}

} // namespace

GptSpecForm::GptSpecForm(QWidget* parent) : QWidget(parent) {
  layers_ = spin(this, "layersSpin", 1, 256, tr("Transformer blocks (layers)"));
  heads_ = spin(this, "headsSpin", 1, 256, tr("Attention heads (heads); the width must be a multiple of them"));
  embed_ = spin(this, "embedSpin", 1, 1 << 16, tr("Width of the residual stream (embed)"));
  context_ = spin(this, "contextSpin", 2, 1 << 16,
                  tr("Longest sequence the model reads (context); a teacher's must be at least its student's"));
  dropout_ = new QDoubleSpinBox(this);
  dropout_->setObjectName(QStringLiteral("dropoutSpin"));
  dropout_->setRange(0.0, 0.9);
  dropout_->setSingleStep(0.05);
  dropout_->setToolTip(tr("Dropout after embeddings, attention weights and each residual branch (dropout)"));
  tie_ = new QCheckBox(tr("tie output to embedding"), this);
  tie_->setObjectName(QStringLiteral("tieCheck"));
  tie_->setToolTip(tr("The output projection reuses the token embedding matrix (tie_weights)"));
  size_ = new QLabel(this);
  size_->setObjectName(QStringLiteral("sizeLabel"));
  size_->setStyleSheet(QStringLiteral("color: #555;"));

  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(0, 0, 0, 0);
  grid->addWidget(new QLabel(tr("Layers:"), this), 0, 0);
  grid->addWidget(layers_, 0, 1);
  grid->addWidget(new QLabel(tr("Heads:"), this), 0, 2);
  grid->addWidget(heads_, 0, 3);
  grid->addWidget(new QLabel(tr("Width:"), this), 1, 0);
  grid->addWidget(embed_, 1, 1);
  grid->addWidget(new QLabel(tr("Context:"), this), 1, 2);
  grid->addWidget(context_, 1, 3);
  grid->addWidget(new QLabel(tr("Dropout:"), this), 2, 0);
  grid->addWidget(dropout_, 2, 1);
  grid->addWidget(tie_, 2, 2, 1, 2);
  grid->addWidget(size_, 3, 0, 1, 4);
  grid->setColumnStretch(1, 1);
  grid->setColumnStretch(3, 1);

  for (QSpinBox* box : {layers_, heads_, embed_, context_})
    connect(box, &QSpinBox::valueChanged, this, [this] {
      updateSize();
      Q_EMIT changed();
    });
  connect(dropout_, &QDoubleSpinBox::valueChanged, this, &GptSpecForm::changed);
  connect(tie_, &QCheckBox::toggled, this, [this] {
    updateSize();
    Q_EMIT changed();
  });
  setSpec(distillery::GptSpec{});
}

distillery::GptSpec GptSpecForm::spec() const {
  distillery::GptSpec s;
  s.layers = layers_->value();
  s.heads = heads_->value();
  s.embed = embed_->value();
  s.context = context_->value();
  s.dropout = dropout_->value();
  s.tie_weights = tie_->isChecked();
  return s;
}

void GptSpecForm::setSpec(const distillery::GptSpec& s) {
  {
    const QSignalBlocker b1(layers_), b2(heads_), b3(embed_), b4(context_), b5(dropout_), b6(tie_);
    layers_->setValue(s.layers);
    heads_->setValue(s.heads);
    embed_->setValue(s.embed);
    context_->setValue(s.context);
    dropout_->setValue(s.dropout);
    tie_->setChecked(s.tie_weights);
  }
  updateSize();
}

void GptSpecForm::setVocabularyHint(int64_t vocab_size) {
  vocab_ = vocab_size;
  updateSize();
}

void GptSpecForm::updateSize() {
  const distillery::GptSpec s = spec();
  size_->setText(tr("%1 parameters, %2 FLOPs per token (vocabulary of %3)")
                     .arg(QString::fromStdString(distillery::formatSi(double(distillery::gptParameterCount(s, vocab_)))))
                     .arg(QString::fromStdString(distillery::formatSi(distillery::gptFlopsPerToken(s, vocab_))))
                     .arg(vocab_));
}

} // namespace distillery::gui
