#pragma once
// Watermarked sampling (Kirchenbauer et al. 2023, "soft" watermark): +delta on
// the logits of the green tokens of each position before softmax, so a sampled
// token is green more often than the share gamma, by an amount that grows with
// the distribution's entropy. Rows can be left unwatermarked, so a run can mix
// watermarked and clean teacher text.
#include "core/forensics/green_list.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace distillery {

class WatermarkSampler {
public:
  WatermarkSampler(const WatermarkParams& params, double delta, int64_t vocab_size,
                   const std::string& field = "teacher.watermark");

  const GreenList& greenList() const { return greens_; }
  double delta() const { return delta_; }

  // [B, V] float on the CPU: delta on the green tokens for the token after each
  // row of sequence ([B, L] int64), zero for rows with rows[b] == 0 or with
  // fewer than h tokens so far. rows empty: every row.
  torch::Tensor nextTokenBias(const torch::Tensor& sequence, const std::vector<uint8_t>& rows = {}) const;
  // [B, L, V]: the same for every position of inputs ([B, L]): position t's
  // logits predict token t + 1 and take the green list of tokens t - h + 1 .. t.
  torch::Tensor positionBias(const torch::Tensor& inputs, const std::vector<uint8_t>& rows = {}) const;

private:
  GreenList greens_;
  double delta_;
};

// Which of the sequences first .. first + count - 1 (numbered over the whole
// run) are watermarked when a share fraction of them is: sequence r is when
// floor((r + 1) f) > floor(r f), which spreads them evenly and needs no state,
// so a resumed run marks the ones it would have.
std::vector<uint8_t> watermarkedRows(int64_t first, int64_t count, double fraction);

} // namespace distillery
