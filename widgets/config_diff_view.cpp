#include "widgets/config_diff_view.h"

#include "widgets/run_colors.h"
#include "widgets/table_data_model.h"
#include "widgets/table_export_bar.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

namespace distillery::gui {

ConfigDiffView::ConfigDiffView(QWidget* parent) : QWidget(parent) {
  only_ = new QCheckBox(tr("Only what differs"), this);
  only_->setObjectName(QStringLiteral("onlyDiffersCheck"));
  only_->setChecked(true);
  only_->setToolTip(tr("Hide the config keys that are the same in every compared run"));
  note_ = new QLabel(this);
  note_->setObjectName(QStringLiteral("diffNote"));
  model_ = new TableDataModel(this);
  view_ = new QTableView(this);
  view_->setObjectName(QStringLiteral("configDiffTable"));
  view_->setModel(model_);
  view_->setAlternatingRowColors(true);
  view_->setWordWrap(false);
  view_->verticalHeader()->hide();
  view_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  view_->horizontalHeader()->setStretchLastSection(true);
  view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  bar_ = new TableExportBar([this] { return table(); }, QStringLiteral("config_diff"), this);

  auto* top = new QHBoxLayout;
  top->addWidget(only_);
  top->addSpacing(12);
  top->addWidget(note_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(view_, 1);
  layout->addWidget(bar_);
  connect(only_, &QCheckBox::toggled, this, &ConfigDiffView::rebuild);
}

void ConfigDiffView::setRuns(const std::vector<distillery::RunRecord>& runs) {
  runs_ = runs;
  rebuild();
}

void ConfigDiffView::setOnlyDiffering(bool only) { only_->setChecked(only); }
bool ConfigDiffView::onlyDiffering() const { return only_->isChecked(); }

distillery::TableData ConfigDiffView::table() const { return model_->table(); }
int ConfigDiffView::rowCount() const { return model_->rowCount(); }

void ConfigDiffView::rebuild() {
  std::vector<nlohmann::json> configs;
  std::vector<std::string> headers;
  std::vector<QColor> colors{QColor()};
  QList<int64_t> ids;
  for (const distillery::RunRecord& run : runs_) ids.append(run.id);
  const auto runColorOf = runColors(ids); // as the compared runs' curves
  for (const distillery::RunRecord& run : runs_) {
    // Unreadable configs show as missing keys. The name stays a row, as in
    // `distillery-cli table --kind diff` and the reports: the same keys differ everywhere.
    configs.push_back(distillery::currentRunConfig(run));
    headers.push_back("#" + std::to_string(run.id) + " " + run.name);
    colors.push_back(runColorOf.at(run.id));
  }
  const auto rows = distillery::diffConfigs(configs, only_->isChecked());
  distillery::TableData table = distillery::configDiffTable(rows, headers);
  std::vector<bool> marked;
  int differing = 0;
  for (const auto& row : rows) {
    marked.push_back(row.differs && !only_->isChecked());
    differing += row.differs ? 1 : 0;
  }
  model_->setTable(std::move(table), {}, std::move(colors), std::move(marked));
  note_->setText(runs_.size() < 2 ? tr("Compare at least two runs to see differences.")
                                  : differing == 1 ? tr("1 key differs")
                                                   : tr("%1 keys differ").arg(differing));
}

} // namespace distillery::gui
