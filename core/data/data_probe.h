#pragma once
// A cheap look at a dataset before a run reads it: are the files its format
// needs there, and what do its samples look like (from the config for the
// known datasets, from the IDX header, from the class folders of an image
// folder). The preflight checks (run_preflight.h) and the New Run dialog use
// it; the readers (dataset.h) still check everything when the run loads the data.
// Which look a format gets is its entry's probe_files (dataset_formats.h).
#include "core/config/data_config.h"

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

// The looks of the formats (DatasetFormat::probe_files), called by probeData
// once data.path exists: each sets `problem` when the layout is wrong and fills
// in what the files tell.
void probeIdxFiles(const DataConfig& data, DataProbe& p);         // the four IDX files, shape from the header
void probeCifar10Files(const DataConfig& data, DataProbe& p);     // data_batch_1..5.bin, test_batch.bin
void probeCifar100Files(const DataConfig& data, DataProbe& p);    // train.bin, test.bin
void probeImageFolderFiles(const DataConfig& data, DataProbe& p); // class subfolders, optional train/ val/
void probeCsvFiles(const DataConfig& data, DataProbe& p);         // a file, or a folder with train.csv

} // namespace distillery
