#include "core/data/csv_table_reader.h"

#include "core/base/content_hash.h"
#include "core/base/errors.h"
#include "core/data/idx_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

namespace distillery {

namespace fs = std::filesystem;

namespace {

std::string trimmed(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) --b;
  return s.substr(a, b - a);
}

std::string cellPlace(int64_t line, size_t column, const std::string& name) {
  const std::string place = "line " + std::to_string(line) + ", column " + std::to_string(column + 1);
  return name.empty() ? place : place + " (\"" + name + "\")";
}

std::string separatorName(char c) {
  if (c == '\t') return "\"\\t\" (tab)";
  return std::string("\"") + c + "\"";
}

// When a file's first row came out as one column, it was likely split by another separator.
std::string separatorHint(const std::vector<std::string>& first_row, char used) {
  if (first_row.size() != 1) return "";
  for (char c : {',', ';', '\t', '|'})
    if (c != used && first_row[0].find(c) != std::string::npos)
      return " (the row holds " + separatorName(c) + ": set data.separator to it, or to \"auto\")";
  return "";
}

bool isClassNumber(const std::string& s) {
  return !s.empty() && s.size() <= 9 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct CsvSplit {
  std::string file;
  std::vector<float> features; // row-major [rows, F]
  std::vector<std::string> labels;
  int64_t rows = 0;
};

size_t labelIndex(const CsvTable& table, const CsvLabelColumn& label, const std::string& file, char separator) {
  const int64_t columns = int64_t(table.header.size());
  if (label.index) {
    const int64_t i = *label.index < 0 ? *label.index + columns : *label.index;
    if (i < 0 || i >= columns)
      throw DataError(file, "data.label_column " + std::to_string(*label.index) + " is out of range: the file has " +
                                std::to_string(columns) + (columns == 1 ? " column" : " columns") + " (indices 0.." +
                                std::to_string(columns - 1) + ", or -1 for the last)" +
                                separatorHint(table.rows.empty() ? table.header : table.rows.front(), separator));
    return size_t(i);
  }
  auto it = std::find(table.header.begin(), table.header.end(), label.name);
  if (it == table.header.end()) {
    std::string names;
    for (const auto& h : table.header) names += (names.empty() ? "" : ", ") + h;
    throw DataError(file, "line 1: no column named \"" + label.name + "\" (data.label_column); columns: " + names +
                              separatorHint(table.header, separator));
  }
  return size_t(it - table.header.begin());
}

CsvSplit readSplit(const std::string& file, const CsvLabelColumn& label, CsvFormat format,
                   const std::vector<std::string>* expected_header, const std::string& expected_from, ContentHash& hash,
                   std::vector<std::string>& header_out) {
  std::vector<uint8_t> bytes = readMaybeGzipped(file);
  hash.addName(fs::path(file).filename().string());
  hash.add(bytes);
  const std::string text(bytes.begin(), bytes.end());
  if (format.separator == 0) format.separator = sniffCsvSeparator(text);
  CsvTable table = parseCsv(text, file, format);
  if (expected_header && format.header && table.header != *expected_header)
    throw DataError(file, "line 1: its columns differ from those of " + expected_from + "; every file needs the same header");
  if (expected_header && !format.header && table.header.size() != expected_header->size())
    throw DataError(file, "line " + std::to_string(table.lines.front()) + ": has " + std::to_string(table.header.size()) +
                              " columns; " + expected_from + " has " + std::to_string(expected_header->size()) +
                              " (every file needs the same columns)");
  const size_t label_index = labelIndex(table, label, file, format.separator);
  if (table.header.size() < 2)
    throw DataError(file, "line 1: no feature columns besides the label column" +
                              separatorHint(table.rows.empty() ? table.header : table.rows.front(), format.separator));
  if (table.rows.empty()) throw DataError(file, "holds a header but no data rows");

  CsvSplit split;
  split.file = file;
  split.rows = int64_t(table.rows.size());
  split.features.reserve(table.rows.size() * (table.header.size() - 1));
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const auto& row = table.rows[r];
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string cell = trimmed(row[c]);
      if (cell.empty())
        throw DataError(file, cellPlace(table.lines[r], c, table.header[c]) + ": empty cell");
      if (c == label_index) {
        split.labels.push_back(cell);
        continue;
      }
      char* end = nullptr;
      const double v = std::strtod(cell.c_str(), &end);
      if (end != cell.c_str() + cell.size())
        throw DataError(file, cellPlace(table.lines[r], c, table.header[c]) + ": \"" + cell + "\" is not a number");
      if (!std::isfinite(v))
        throw DataError(file, cellPlace(table.lines[r], c, table.header[c]) + ": \"" + cell + "\" is not a finite number");
      split.features.push_back(float(v));
    }
  }
  header_out = table.header;
  return split;
}

} // namespace

char sniffCsvSeparator(const std::string& text) {
  const char candidates[] = {',', ';', '\t', '|'};
  size_t counts[4] = {0, 0, 0, 0};
  bool in_quotes = false, started = false;
  for (size_t i = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch == '"') in_quotes = !in_quotes; // "" inside quotes toggles twice: no change
    if (in_quotes) continue;
    if (ch == '\n' || ch == '\r') {
      if (started) break;
      continue;
    }
    started = true;
    for (int c = 0; c < 4; ++c) counts[c] += ch == candidates[c];
  }
  int best = 0;
  for (int c = 1; c < 4; ++c)
    if (counts[c] > counts[best]) best = c;
  return candidates[best];
}

CsvTable parseCsv(const std::string& text, const std::string& file, const CsvFormat& format) {
  const char separator = format.separator ? format.separator : sniffCsvSeparator(text);
  CsvTable table;
  std::vector<std::string> record;
  std::string cell;
  bool in_quotes = false, cell_quoted = false, record_started = false;
  int64_t line = 1, record_line = 1;
  size_t i = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0; // a UTF-8 byte order mark is not part of the header

  auto endRecord = [&]() {
    record.push_back(cell);
    cell.clear();
    cell_quoted = false;
    const bool blank = record.size() == 1 && record[0].empty() && !record_started;
    if (!blank) {
      if (table.header.empty() && !format.header) {
        table.header.assign(record.size(), std::string()); // header-less: the first row sets the width
      }
      if (table.header.empty()) {
        for (auto& h : record) h = trimmed(h);
        std::set<std::string> seen;
        for (const auto& h : record)
          if (!seen.insert(h).second) throw DataError(file, "line " + std::to_string(record_line) + ": column \"" + h + "\" appears twice in the header");
        table.header = record;
      } else {
        if (record.size() != table.header.size())
          throw DataError(file, "line " + std::to_string(record_line) + " has " + std::to_string(record.size()) +
                                    " cells; the " + (format.header ? "header" : "first row") + " has " +
                                    std::to_string(table.header.size()) +
                                    (format.header ? separatorHint(table.header, separator) : std::string()));
        table.rows.push_back(record);
        table.lines.push_back(record_line);
      }
    }
    record.clear();
    record_started = false;
  };

  for (; i < text.size(); ++i) {
    const char ch = text[i];
    if (!record_started && ch != '\n' && ch != '\r') {
      record_started = true;
      record_line = line;
    }
    if (in_quotes) {
      if (ch == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (ch == '\n') ++line;
        cell += ch;
      }
      continue;
    }
    if (ch == '"' && cell.find_first_not_of(" \t") == std::string::npos && !cell_quoted) {
      cell.clear(); // spaces before an opening quote are not content
      in_quotes = true;
      cell_quoted = true;
    } else if (ch == separator) {
      record.push_back(cell);
      cell.clear();
      cell_quoted = false;
    } else if (ch == '\n') {
      endRecord();
      ++line;
    } else if (ch == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n') continue; // CRLF: the LF ends the record
      endRecord();
      ++line;
    } else {
      cell += ch;
    }
  }
  if (in_quotes) throw DataError(file, "line " + std::to_string(record_line) + ": a quoted cell is never closed");
  if (record_started || !record.empty() || !cell.empty()) endRecord();
  if (table.header.empty())
    throw DataError(file, format.header ? "is empty; expected a header row naming the columns" : "is empty; expected rows of data");
  return table;
}

RawDataset readCsvDataset(const std::string& path, const CsvLabelColumn& label, const CsvFormat& format) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw DataError(path, "not found (data.path: a CSV file, or a folder holding train.csv)");
  std::vector<std::string> files; // train, then val and test when present ("" when absent)
  if (fs::is_directory(path, ec)) {
    const std::string train = path + "/train.csv";
    if (!fs::exists(train, ec)) throw DataError(train, "file not found (a CSV folder needs train.csv; val.csv and test.csv are optional)");
    files.push_back(train);
    for (const char* name : {"/val.csv", "/test.csv"})
      files.push_back(fs::exists(path + name, ec) ? path + name : std::string());
  } else {
    files = {path, "", ""};
  }

  ContentHash hash;
  std::vector<std::string> header;
  std::vector<CsvSplit> splits;
  for (const std::string& file : files) {
    if (file.empty()) {
      splits.emplace_back();
      continue;
    }
    std::vector<std::string> this_header;
    splits.push_back(readSplit(file, label, format, header.empty() ? nullptr : &header, files[0], hash, this_header));
    if (header.empty()) header = this_header;
  }

  // Labels: integers are class indices as they stand; anything else is a class
  // name, numbered in sorted order over every file.
  bool numeric = true;
  std::set<std::string> names;
  for (const auto& s : splits)
    for (const auto& l : s.labels) {
      numeric = numeric && isClassNumber(l);
      names.insert(l);
    }
  RawDataset d;
  std::map<std::string, int64_t> index;
  if (numeric) {
    int64_t top = 0;
    for (const auto& n : names) top = std::max<int64_t>(top, std::stoll(n));
    if (top >= 100000)
      throw DataError(files[0], "integer label " + std::to_string(top) +
                                    " is too large for a class index (labels are used as indices 0..K-1)");
    for (int64_t c = 0; c <= top; ++c) d.class_names.push_back(std::to_string(c));
    for (const auto& n : names) index[n] = std::stoll(n);
  } else {
    for (const auto& n : names) {
      index[n] = int64_t(d.class_names.size());
      d.class_names.push_back(n);
    }
  }
  d.num_classes = int64_t(d.class_names.size());

  const int64_t features = int64_t(header.size()) - 1;
  auto toSplit = [&](CsvSplit& s) {
    RawSplit r;
    if (s.rows == 0) return r;
    r.x = torch::from_blob(s.features.data(), {s.rows, features}, torch::kFloat32).clone();
    std::vector<int64_t> y;
    y.reserve(s.labels.size());
    for (const auto& l : s.labels) y.push_back(index.at(l));
    r.y = torch::tensor(y, torch::kInt64);
    return r;
  };
  d.train = toSplit(splits[0]);
  d.val = toSplit(splits[1]);
  d.test = toSplit(splits[2]);
  d.content_hash = hash.text();
  return d;
}

} // namespace distillery
