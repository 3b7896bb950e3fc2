#pragma once
// The ranks of one data-parallel run, over c10d: a TCPStore rendezvous at the
// master (rank 0 hosts it), ProcessGroupGloo (ProcessGroupNCCL where this
// LibTorch has it) for the collectives, and a heartbeat per rank in the store
// so that a collective that fails can name the rank that is gone.
#include "core/config/distributed_config.h"
#include "core/distributed/rank_environment.h"

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace distillery {

class DataParallelGroup {
public:
  // Joins the rendezvous; throws ConfigError for a backend this LibTorch lacks,
  // DistilleryError naming MASTER_ADDR:MASTER_PORT when the master cannot be
  // reached (or not all ranks join) within config.timeout_s.
  static std::unique_ptr<DataParallelGroup> join(const DistributedConfig& config, const RankEnvironment& env,
                                                 torch::Device device);
  ~DataParallelGroup();
  DataParallelGroup(const DataParallelGroup&) = delete;
  DataParallelGroup& operator=(const DataParallelGroup&) = delete;

  int rank() const { return env_.rank; }
  int worldSize() const { return env_.world_size; }
  bool isRoot() const { return env_.rank == 0; }
  const std::string& backend() const { return backend_; }

  // Rank 0's values into every rank's tensors, in place.
  void broadcastFromRoot(const std::vector<torch::Tensor>& tensors);
  // Each parameter's gradient becomes sum over ranks of (local_samples * grad)
  // / global_samples: with mean losses, the gradient of the global batch's
  // mean whatever the shards' sizes. All-reduced in flat buckets. The stop
  // requests travel with the sample counts: true when any rank's was set.
  bool averageGradients(const std::vector<torch::Tensor>& params, double local_samples, bool stop_requested);
  // Sum over ranks, in place.
  void allReduceSum(torch::Tensor& tensor);
  // Rank 0 passes the value, every rank gets it (through the store).
  std::string shareFromRoot(const std::string& key, const std::string& value);
  // Every rank waits here until all arrived.
  void barrier();

private:
  DataParallelGroup() = default;
  struct Impl;
  // Runs a collective; a failure becomes RankLostError naming the rank gone.
  template <class F> void guarded(const char* what, F&& f);
  int lostRank();

  RankEnvironment env_;
  DistributedConfig config_;
  std::string backend_;
  std::unique_ptr<Impl> impl_;
};

} // namespace distillery
