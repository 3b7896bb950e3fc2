#pragma once
// A cheap look at a dataset before a run reads it: are the files its format
// needs there, and what do its samples look like (from the config for the
// known datasets, from the IDX header, from the class folders of an image
// folder). The preflight checks (run_preflight.h) and the New Run dialog use
// it; the readers (dataset.h) still check everything when the run loads the data.
#include "core/config/run_config.h"

#include <cstdint>
#include <string>

namespace distillery {

struct DataProbe {
  // "" when the layout looks right; else "FILE: what is missing or wrong".
  std::string problem;
  int64_t channels = 0, height = 0, width = 0; // 0: unknown until the data is read (csv)
  int64_t classes = 0;                         // 0: unknown
  int64_t train_samples = 0;                   // the training file's samples, before train_limit; 0: unknown
  bool has_val_split = false; // the files bring a validation split (image-folder val/, csv val.csv)
  bool shapeKnown() const { return channels > 0 && height > 0 && width > 0; }
  // "1x28x28, 10 classes"; unknown parts are left out.
  std::string describe() const;
};

// Never throws: what cannot be read becomes `problem`.
DataProbe probeData(const DataConfig& data);

} // namespace distillery
