#include "core/export/table_export.h"

#include <cctype>
#include <sstream>

namespace distillery {

std::string escapeHtml(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default: out += c;
    }
  }
  return out;
}

std::string escapeLatex(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    switch (c) {
    case '\\': out += "\\textbackslash{}"; break;
    case '{': out += "\\{"; break;
    case '}': out += "\\}"; break;
    case '$': out += "\\$"; break;
    case '&': out += "\\&"; break;
    case '#': out += "\\#"; break;
    case '%': out += "\\%"; break;
    case '_': out += "\\_"; break;
    case '^': out += "\\textasciicircum{}"; break;
    case '~': out += "\\textasciitilde{}"; break;
    case '<': out += "\\textless{}"; break;
    case '>': out += "\\textgreater{}"; break;
    case '|': out += "\\textbar{}"; break;
    // After a row's \\ LaTeX would read [ as a spacing argument and * as a variant.
    case '[': out += "{[}"; break;
    case ']': out += "{]}"; break;
    case '*': out += "{*}"; break;
    case '\n': case '\r': case '\t': out += ' '; break;
    default: out += c;
    }
  }
  return out;
}

namespace {
// Markdown acts on these anywhere in a line; a backslash makes each literal
// (CommonMark allows escaping any ASCII punctuation). < > & become entities
// so no renderer ever sees a tag. Digits, '.', '-' stay as typed, so numbers
// read normally in the source.
std::string escapeMarkdownInline(char c) {
  switch (c) {
  case '&': return "&amp;";
  case '<': return "&lt;";
  case '>': return "&gt;";
  case '\\': case '`': case '*': case '_': case '[': case ']': case '|': case '~':
    return std::string("\\") + c;
  default: return std::string(1, c);
  }
}
} // namespace

std::string escapeMarkdownCell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') out += ' '; // a line break would end the table row
    else out += escapeMarkdownInline(c);
  }
  return out;
}

std::string escapeMarkdownText(const std::string& text) {
  std::string out;
  size_t i = 0;
  while (i <= text.size()) {
    size_t end = text.find('\n', i);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(i, end - i);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // At the start of a line these make headings, lists, rules and quotes.
    size_t lead = line.find_first_not_of(' ');
    std::string escaped;
    for (size_t k = 0; k < line.size(); ++k) {
      const char c = line[k];
      const bool at_start = k == lead;
      if (at_start && (c == '#' || c == '-' || c == '+' || c == '=')) escaped += std::string("\\") + c;
      else escaped += escapeMarkdownInline(c);
    }
    // "1. text" would start a numbered list.
    if (lead != std::string::npos) {
      size_t k = lead;
      while (k < line.size() && std::isdigit(static_cast<unsigned char>(line[k]))) ++k;
      // Spaces and digits escape to themselves, so position k is the same in both strings.
      if (k > lead && k < line.size() && (line[k] == '.' || line[k] == ')')) escaped.insert(k, "\\");
    }
    out += escaped;
    if (end == text.size()) break;
    out += "  \n"; // a hard line break, as the user typed it
    i = end + 1;
  }
  return out;
}

std::string tableToMarkdown(const TableData& t) {
  std::ostringstream out;
  auto numeric = [&](size_t c) { return c < t.numeric.size() && t.numeric[c]; };
  out << "|";
  for (const std::string& h : t.headers) out << " " << escapeMarkdownCell(h) << " |";
  out << "\n|";
  for (size_t c = 0; c < t.headers.size(); ++c) out << (numeric(c) ? " ---: |" : " :--- |");
  out << "\n";
  for (const auto& row : t.rows) {
    out << "|";
    for (size_t c = 0; c < t.headers.size(); ++c)
      out << " " << (c < row.size() ? escapeMarkdownCell(row[c]) : std::string()) << " |";
    out << "\n";
  }
  // Pandoc reads this line as the table's caption; elsewhere it is a plain line.
  if (!t.caption.empty()) out << "\nTable: " << escapeMarkdownText(t.caption) << "\n";
  return out.str();
}

std::string tableToLatex(const TableData& t, const std::string& label, bool fit_width) {
  std::ostringstream out;
  auto numeric = [&](size_t c) { return c < t.numeric.size() && t.numeric[c]; };
  out << "\\begin{table}[tbp]\n  \\centering\n  \\small\n";
  if (!t.caption.empty()) out << "  \\caption{" << escapeLatex(t.caption) << "}\n";
  if (!label.empty()) out << "  \\label{" << label << "}\n";
  if (fit_width) out << "  % \\resizebox needs \\usepackage{graphicx}\n  \\resizebox{\\linewidth}{!}{%\n";
  out << "  \\begin{tabular}{";
  for (size_t c = 0; c < t.headers.size(); ++c) out << (numeric(c) ? 'r' : 'l');
  out << "}\n    \\toprule\n    ";
  for (size_t c = 0; c < t.headers.size(); ++c) out << (c ? " & " : "") << escapeLatex(t.headers[c]);
  out << " \\\\\n    \\midrule\n";
  for (const auto& row : t.rows) {
    out << "    ";
    for (size_t c = 0; c < t.headers.size(); ++c) out << (c ? " & " : "") << (c < row.size() ? escapeLatex(row[c]) : "");
    out << " \\\\\n";
  }
  out << "    \\bottomrule\n  \\end{tabular}" << (fit_width ? "}" : "") << "\n\\end{table}\n";
  return out.str();
}

std::string tableToHtml(const TableData& t) {
  std::ostringstream out;
  auto cls = [&](size_t c) { return c < t.numeric.size() && t.numeric[c] ? " class=\"num\"" : ""; };
  out << "<table>\n";
  if (!t.caption.empty()) out << "<caption>" << escapeHtml(t.caption) << "</caption>\n";
  out << "<thead><tr>";
  for (size_t c = 0; c < t.headers.size(); ++c) out << "<th" << cls(c) << ">" << escapeHtml(t.headers[c]) << "</th>";
  out << "</tr></thead>\n<tbody>\n";
  for (const auto& row : t.rows) {
    out << "<tr>";
    for (size_t c = 0; c < t.headers.size(); ++c)
      out << "<td" << cls(c) << ">" << (c < row.size() ? escapeHtml(row[c]) : std::string()) << "</td>";
    out << "</tr>\n";
  }
  out << "</tbody>\n</table>\n";
  return out.str();
}

namespace {
std::string csvCell(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}
} // namespace

std::string tableToCsv(const TableData& t) {
  std::ostringstream out;
  for (size_t c = 0; c < t.headers.size(); ++c) out << (c ? "," : "") << csvCell(t.headers[c]);
  out << "\n";
  for (const auto& row : t.rows) {
    for (size_t c = 0; c < t.headers.size(); ++c) out << (c ? "," : "") << (c < row.size() ? csvCell(row[c]) : "");
    out << "\n";
  }
  return out.str();
}

} // namespace distillery
