#pragma once
// Reader of the IDX datasets (Fashion-MNIST, MNIST and any files of their
// layout): train-images/labels and t10k-images/labels, gzipped or raw. The
// torch-free parsing is idx_reader.h; this turns the four arrays into tensors.
#include "core/data/raw_dataset.h"

#include <string>

namespace distillery {

// dir holds train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
// t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]. Images are
// [N, H, W] (one channel) or [N, C, H, W]; labels must lie in 0..9. Throws
// DataError naming the file at fault.
RawDataset readIdxDataset(const std::string& dir);

} // namespace distillery
