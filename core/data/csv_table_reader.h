#pragma once
// Reader for tabular data in CSV: one sample per row, a label column (class
// names or non-negative integers) and numeric features in every other column.
// The first row names the columns unless the file has no header row. data.path
// is one CSV file (test split carved out later) or a folder holding train.csv
// and optional val.csv, test.csv. Features come out as float [N, F]; errors
// name the file, line and column.
#include "core/data/raw_dataset.h"

#include <optional>
#include <string>
#include <vector>

namespace distillery {

struct CsvFormat {
  char separator = ','; // ',', ';', '\t', '|'; 0: sniffed from the first row (sniffCsvSeparator)
  bool header = true;   // false: every row is data, and columns have no names
};

struct CsvTable {
  std::vector<std::string> header; // the column names; without a header row, empty names
  std::vector<std::vector<std::string>> rows;
  std::vector<int64_t> lines; // the 1-based line on which each row starts
};

// RFC 4180 style: cells split by the separator, "quoted" cells with "" for a
// quote, LF or CRLF line ends, blank lines skipped. Every row must have as many
// cells as the first.
CsvTable parseCsv(const std::string& text, const std::string& file, const CsvFormat& format = {});

// The separator of the first non-blank line: whichever of ',', ';', '\t', '|'
// occurs most often outside quotes (ties in that order); ',' when none does.
char sniffCsvSeparator(const std::string& text);

// Which column holds the class: by name (needs a header row) or by 0-based
// index, negative counting from the end (-1: the last column).
struct CsvLabelColumn {
  std::string name;
  std::optional<int64_t> index;
};

RawDataset readCsvDataset(const std::string& path, const CsvLabelColumn& label, const CsvFormat& format = {});

} // namespace distillery
