#pragma once
// A plain table of text cells, the common form of every table Distillery
// shows or exports (summary, config diff), so one writer serves each format.
#include <string>
#include <vector>

namespace distillery {

struct TableData {
  std::string caption;
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows; // each row has headers.size() cells
  // Per column: true when the cells are numbers (right-aligned in exports).
  std::vector<bool> numeric;
};

} // namespace distillery
