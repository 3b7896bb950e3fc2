#pragma once
// The reader of each dataset format, keyed by the names of the format table
// (dataset_formats.h, torch-free): the part of a format that needs LibTorch.
// loadDataset (dataset.h) reads through it; tst_data checks that every format
// has a reader and every reader a format.
#include "core/config/data_config.h"
#include "core/data/raw_dataset.h"

#include <string>
#include <vector>

namespace distillery {

// Reads data.path, with the format's keys of config, into raw tensors; throws
// DataError naming the file at fault.
using DatasetReader = RawDataset (*)(const DataConfig& config);

struct DatasetReaderEntry {
  std::string format; // a DatasetFormat::name
  DatasetReader read = nullptr;
};

const std::vector<DatasetReaderEntry>& datasetReaders();
// nullptr when no reader is registered under that name.
DatasetReader findDatasetReader(const std::string& format);

} // namespace distillery
