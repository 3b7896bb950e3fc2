#pragma once
// Tables as text to paste into a paper: GitHub Markdown, and LaTeX with
// booktabs rules. Cell text is escaped for the target format.
#include "core/export/table_data.h"

#include <string>

namespace distillery {

std::string tableToMarkdown(const TableData& table);
// A complete `table` environment (\toprule/\midrule/\bottomrule, caption,
// label); needs \usepackage{booktabs}. fit_width scales the tabular to the
// text width (\resizebox{\linewidth}{!}{...}, needs \usepackage{graphicx}),
// for wide tables such as the 14-column summary.
std::string tableToLatex(const TableData& table, const std::string& label = "tab:distillery", bool fit_width = false);
std::string escapeLatex(const std::string& text);
std::string escapeMarkdownCell(const std::string& text);
// Running Markdown text (names, notes): every character Markdown or HTML
// would act on is escaped; line breaks are kept.
std::string escapeMarkdownText(const std::string& text);

// An HTML <table> (caption, thead, tbody; numeric columns right-aligned).
std::string tableToHtml(const TableData& table);
// & < > " ' as entities: safe in HTML and XML text and attribute values.
std::string escapeHtml(const std::string& text);

// RFC 4180 CSV: one header line, cells quoted when they hold , " or a line break.
std::string tableToCsv(const TableData& table);

} // namespace distillery
