#include "widgets/summary_table_view.h"

#include "core/errors.h"
#include "widgets/run_colors.h"
#include "widgets/table_data_model.h"
#include "widgets/table_export_bar.h"

#include <QHeaderView>
#include <QTableView>
#include <QVBoxLayout>

namespace distillery::gui {

SummaryTableView::SummaryTableView(distillery::RunStore& store, QWidget* parent) : QWidget(parent), store_(store) {
  model_ = new TableDataModel(this);
  view_ = new QTableView(this);
  view_->setObjectName(QStringLiteral("summaryTable"));
  view_->setModel(model_);
  view_->setAlternatingRowColors(true);
  view_->setWordWrap(false);
  view_->verticalHeader()->hide();
  view_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  bar_ = new TableExportBar([this] { return table(); }, QStringLiteral("summary"), this);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(view_, 1);
  layout->addWidget(bar_);
}

void SummaryTableView::setRuns(const std::vector<int64_t>& runIds) {
  try {
    rows_ = distillery::summarizeRuns(store_, runIds);
  } catch (const distillery::DistilleryError&) {
    rows_.clear(); // the store is unreadable; the compare view reports that itself
  }
  // As the compared runs' curves: colours unique within the set.
  const auto colorOf = runColors(QList<int64_t>(runIds.begin(), runIds.end()));
  std::vector<QColor> colors;
  for (const auto& row : rows_) {
    const auto it = colorOf.find(row.run_id);
    colors.push_back(it != colorOf.end() ? it->second : runColor(row.run_id));
  }
  model_->setTable(distillery::summaryTable(rows_), std::move(colors));
}

distillery::TableData SummaryTableView::table() const { return model_->table(); }

} // namespace distillery::gui
