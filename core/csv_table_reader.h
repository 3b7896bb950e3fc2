#pragma once
// Reader for tabular data in CSV: a header row naming the columns, one sample
// per row, a label column (class names or non-negative integers) and numeric
// features in every other column. data.path is one CSV file (test split carved
// out later) or a folder holding train.csv and optional val.csv, test.csv.
// Features come out as float [N, F]; errors name the file, line and column.
#include "core/raw_dataset.h"

#include <string>
#include <vector>

namespace distillery {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int64_t> lines; // the 1-based line on which each row starts
};

// RFC 4180 style: comma separated, "quoted" cells with "" for a quote, LF or
// CRLF line ends, blank lines skipped. Rows must have as many cells as the header.
CsvTable parseCsv(const std::string& text, const std::string& file);

RawDataset readCsvDataset(const std::string& path, const std::string& label_column);

} // namespace distillery
