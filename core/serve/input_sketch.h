#pragma once
// A small sketch of one input for the request log: enough for a later
// forensics pass to compare queries (a distiller's synthetic or repeated
// inputs against an honest user's natural ones) without keeping the inputs.
//
// The sketch is a grey thumbnail: the input's channels averaged, then the
// H x W plane area-averaged down to at most 8 x 8 cells (cell (i, j) averages
// rows [i*H/h, (i+1)*H/h) and columns [j*W/w, (j+1)*W/w)), in the raw units
// the caller sent (pixels 0-255). A table input [F] is one row of F values,
// averaged down to at most 8 cells. Stored as float32 little-endian, row-major.
#include <cstdint>
#include <string>
#include <vector>

namespace distillery {

struct InputSketch {
  int64_t height = 0, width = 0;
  std::vector<float> cells; // height * width

  std::string bytes() const; // float32 little-endian, for the log's BLOB
};

// `values` is one input of `shape` ([C, H, W], [H, W] or [F]).
InputSketch sketchInput(const float* values, const std::vector<int64_t>& shape);

} // namespace distillery
