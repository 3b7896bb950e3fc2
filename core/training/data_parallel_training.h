#pragma once
// What a training loop does differently as one rank of a data-parallel run
// (docs/distributed.md, "What a rank does"), shared by the image loop
// (trainer.cpp) and the language-model loop (core/lm/lm_trainer.cpp). Without
// a group every call is what one process does, so a loop calls them
// unconditionally:
//   - every rank draws the same global batch and trains on its strided shard;
//   - after the backward pass the gradients are averaged over the global
//     batch, and the stop request travels with them, so all ranks stop at the
//     same step;
//   - logged means are reduced over the ranks' rows;
//   - rank 0 alone validates, records and checkpoints (isRoot());
//   - at the start rank 0's weights (and its checkpoint, on resume) reach every
//     rank; at the end rank 0's selected weights do.
#include "core/base/stop_token.h"
#include "core/distributed/data_parallel_group.h"
#include "core/models/syncable_batch_norm.h"
#include "core/store/checkpoint.h"
#include "core/store/run_recorder.h"
#include "core/training/loss_window.h"

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

namespace distillery {

class DataParallelTraining {
public:
  // group: null for a one-process run.
  DataParallelTraining(DataParallelGroup* group, const StopToken& stop)
      : group_(group), stop_(stop), rank_sum_([group](torch::Tensor& t) { group->allReduceSum(t); }) {}

  bool enabled() const { return group_ != nullptr; }
  // Rank 0 (or the only process): the one that validates, records and checkpoints.
  bool isRoot() const { return !group_ || group_->isRoot(); }

  // This rank's rows of a global batch: rows rank, rank + world, ... (all of
  // them on one process). May be empty when the batch is smaller than the world.
  torch::Tensor shard(const torch::Tensor& global_rows) const;

  // The checkpoint every rank resumes from: rank 0's own (`own`, read from the
  // store), sent through the rendezvous to the others, which never read the store.
  const TrainingCheckpoint* resumeFrom(const TrainingCheckpoint* own);

  // Rank 0's parameters and buffers into every rank.
  void startFromRoot(const std::vector<torch::Tensor>& state);

  // Stop before the next step? One process: its own request. A rank: whether
  // any rank had been asked when the last step's gradients were reduced.
  bool stopRequested() const { return group_ ? stop_agreed_ : stop_.stopRequested(); }

  // After the backward pass: each gradient becomes the global batch's, given
  // that this rank's loss was a mean over local_weight rows (or tokens); the
  // stop requests are agreed on. Nothing on one process.
  void reduceGradients(const std::vector<torch::Tensor>& params, double local_weight);

  // A loss window's means over every rank's samples (weighted by them), and
  // the samples of all ranks; on one process the window's own.
  struct WindowMeans {
    double total = 0.0, soft = 0.0, hard = 0.0, samples = 0.0;
  };
  WindowMeans reduceWindow(const LossWindow& window);

  // Sum of a value over the ranks (the value itself on one process).
  double sum(double value);

  // What this rank trained on, for finish()'s log line.
  void countLocal(double samples) { local_samples_ += samples; }

  // While the returned scope lives (a step's forward and backward), the zoo's
  // BatchNorm layers in training mode normalise over every rank's rows
  // (distributed.sync_batchnorm); inactive on one process or when not wanted.
  BatchNormSyncScope batchNormSync(bool wanted) const {
    return BatchNormSyncScope(group_ && wanted ? &rank_sum_ : nullptr);
  }

  // End of a run that was not cancelled: every rank takes rank 0's weights
  // (rank 0 selected them), and the log says how `unit` (samples, tokens)
  // were shared among the ranks. Nothing on one process.
  void finish(const std::vector<torch::Tensor>& state, RunRecorder& recorder, const std::string& unit);

private:
  DataParallelGroup* group_;
  const StopToken& stop_;
  RankSum rank_sum_; // the group's all-reduce, for synchronised BatchNorm
  bool stop_agreed_ = false;
  double local_samples_ = 0.0;
  std::optional<TrainingCheckpoint> shared_resume_; // ranks > 0: rank 0's checkpoint
};

} // namespace distillery
