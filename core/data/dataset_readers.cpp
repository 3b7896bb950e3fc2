#include "core/data/dataset_readers.h"

#include "core/data/cifar_reader.h"
#include "core/data/csv_table_reader.h"
#include "core/data/idx_dataset_reader.h"
#include "core/data/image_folder_reader.h"

namespace distillery {

namespace {

RawDataset readIdx(const DataConfig& c) { return readIdxDataset(c.path); }
RawDataset readCifar10Config(const DataConfig& c) { return readCifar10(c.path); }
RawDataset readCifar100Config(const DataConfig& c) { return readCifar100(c.path, c.labels == "coarse"); }
RawDataset readImageFolderConfig(const DataConfig& c) { return readImageFolder(c.path, c.image_size, c.channels); }

RawDataset readCsvConfig(const DataConfig& c) {
  CsvFormat format;
  format.separator = c.separator == "auto" ? char(0) : c.separator.at(0);
  format.header = c.header;
  return readCsvDataset(c.path, {c.label_column, c.label_index}, format);
}

} // namespace

const std::vector<DatasetReaderEntry>& datasetReaders() {
  static const std::vector<DatasetReaderEntry> readers = {
      {"fashion-mnist", readIdx},
      {"mnist", readIdx},
      {"idx", readIdx},
      {"cifar10", readCifar10Config},
      {"cifar100", readCifar100Config},
      {"image-folder", readImageFolderConfig},
      {"csv", readCsvConfig},
  };
  return readers;
}

DatasetReader findDatasetReader(const std::string& format) {
  for (const DatasetReaderEntry& e : datasetReaders())
    if (e.format == format) return e.read;
  return nullptr;
}

} // namespace distillery
