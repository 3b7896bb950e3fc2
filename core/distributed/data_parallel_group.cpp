#include "core/distributed/data_parallel_group.h"

#include "core/base/errors.h"
#include "core/distributed/rank_lost_error.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace distillery {

namespace {

constexpr auto kHeartbeat = std::chrono::milliseconds(300);
// DDP's default bucket: big enough to amortise a collective's latency, small
// enough that the flat copy stays cheap.
constexpr int64_t kBucketBytes = 25 << 20;

std::string heartbeatKey(int rank) { return "distillery/heartbeat/" + std::to_string(rank); }

// A rank's own connection joins the rendezvous (counted by the server, which
// waits for all of them); the heartbeat's and the probe's do not.
c10::intrusive_ptr<c10d::TCPStore> storeClient(const RankEnvironment& env, bool join, std::chrono::milliseconds timeout) {
  const bool server = join && env.rank == 0;
  c10d::TCPStoreOptions o;
  o.port = uint16_t(env.master_port);
  o.isServer = server;
  // A joining client counts itself only when it knows numWorkers; the server
  // waits for the count, and past the timeout goes on without a word.
  o.numWorkers = join ? c10::optional<std::size_t>(env.world_size) : c10::nullopt;
  o.waitWorkers = join;
  o.timeout = timeout;
  return c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
}

std::string seconds(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", s);
  return text;
}

} // namespace

struct DataParallelGroup::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
  // Each rank counts up its own key; a rank whose count stands still is gone.
  std::thread heartbeat;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  int64_t shared = 0; // shareFromRoot's key sequence, the same on every rank
};

std::unique_ptr<DataParallelGroup> DataParallelGroup::join(const DistributedConfig& config, const RankEnvironment& env,
                                                           torch::Device device) {
  std::string backend = config.backend;
  if (backend == "auto") backend = device.is_cuda() ? "nccl" : "gloo";
#ifndef USE_C10D_NCCL
  if (backend == "nccl")
    throw ConfigError("distributed.backend", std::string(config.backend == "auto" ? "auto chose \"nccl\" for " : "\"nccl\" on ") +
                                                 device.str() + ", but this LibTorch was built without NCCL (CPU-only); "
                                                 "use \"gloo\"");
#else
  if (backend == "nccl" && !device.is_cuda())
    throw ConfigError("distributed.backend", "\"nccl\" needs a CUDA device; this run is on " + device.str() + "; use \"gloo\"");
#endif
  std::unique_ptr<DataParallelGroup> g(new DataParallelGroup());
  g->env_ = env;
  g->config_ = config;
  g->backend_ = backend;
  g->impl_ = std::make_unique<Impl>();
  const auto timeout = std::chrono::milliseconds(int64_t(config.timeout_s * 1000));
  const std::string master = env.master_addr + ":" + std::to_string(env.master_port);
  try {
    g->impl_->store = storeClient(env, true, timeout);
  } catch (const std::exception& e) {
    if (env.rank == 0)
      throw DistilleryError("distributed: rank 0 could not host the rendezvous at " + master + " (MASTER_ADDR/MASTER_PORT) " +
                            "or not all " + std::to_string(env.world_size) + " ranks joined within " +
                            seconds(config.timeout_s) + " (distributed.timeout_s): " + e.what());
    throw DistilleryError("distributed: rank " + std::to_string(env.rank) + " could not reach the master " + master +
                          " (MASTER_ADDR/MASTER_PORT) within " + seconds(config.timeout_s) +
                          " (distributed.timeout_s); is rank 0 running there?");
  }
  if (backend == "gloo") {
    auto o = c10d::ProcessGroupGloo::Options::create(timeout);
    // Local ranks talk over loopback; across nodes, over the address this host's name resolves to.
    const bool local = env.master_addr == "127.0.0.1" || env.master_addr == "localhost";
    o->devices.push_back(local ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                               : c10d::ProcessGroupGloo::createDefaultDevice());
    g->impl_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(g->impl_->store, env.rank, env.world_size, o);
  }
#ifdef USE_C10D_NCCL
  else {
    auto o = c10d::ProcessGroupNCCL::Options::create();
    o->timeout = timeout;
    g->impl_->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(g->impl_->store, env.rank, env.world_size, o);
  }
#endif
  Impl* impl = g->impl_.get();
  const RankEnvironment e = env;
  impl->heartbeat = std::thread([impl, e] {
    try {
      auto client = storeClient(e, false, std::chrono::seconds(5)); // its own connection
      std::unique_lock<std::mutex> lock(impl->mutex);
      while (!impl->stopping) {
        lock.unlock();
        client->add(heartbeatKey(e.rank), 1);
        lock.lock();
        impl->wake.wait_for(lock, kHeartbeat, [impl] { return impl->stopping; });
      }
    } catch (const std::exception&) {
      // The store is gone (rank 0 ended): the collectives will say so.
    }
  });
  return g;
}

DataParallelGroup::~DataParallelGroup() {
  if (!impl_) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->heartbeat.joinable()) impl_->heartbeat.join();
}

int DataParallelGroup::lostRank() {
  try {
    auto probe = storeClient(env_, false, std::chrono::seconds(3));
    std::vector<int64_t> before(size_t(env_.world_size));
    for (int r = 0; r < env_.world_size; ++r) before[size_t(r)] = probe->add(heartbeatKey(r), 0);
    std::this_thread::sleep_for(4 * kHeartbeat);
    for (int r = 0; r < env_.world_size; ++r)
      if (r != env_.rank && probe->add(heartbeatKey(r), 0) == before[size_t(r)]) return r;
  } catch (const std::exception&) {
    return 0; // rank 0 hosts the store: no answer means rank 0 is gone
  }
  return -1;
}

template <class F> void DataParallelGroup::guarded(const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    const int lost = lostRank();
    const std::string cause = dynamic_cast<const c10::Error*>(&e)
                                  ? static_cast<const c10::Error&>(e).what_without_backtrace()
                                  : e.what();
    const std::string who = lost >= 0 ? "rank " + std::to_string(lost) : "a rank";
    throw RankLostError(lost, "distributed: " + who + " of " + std::to_string(env_.world_size) +
                                  " is gone (rank " + std::to_string(env_.rank) + " noticed during " + what +
                                  ", timeout " + seconds(config_.timeout_s) +
                                  "); the run can resume from its last checkpoint with the same world size (" +
                                  cause.substr(0, cause.find('\n')) + ")");
  }
}

void DataParallelGroup::broadcastFromRoot(const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  guarded("the broadcast of rank 0's parameters", [&] {
    for (const auto& t : tensors) {
      std::vector<at::Tensor> one{t.detach()};
      if (!one[0].is_contiguous()) {
        one[0] = one[0].contiguous();
        impl_->pg->broadcast(one)->wait();
        t.detach().copy_(one[0]);
      } else {
        impl_->pg->broadcast(one)->wait();
      }
    }
  });
}

bool DataParallelGroup::averageGradients(const std::vector<torch::Tensor>& params, double local_samples,
                                         bool stop_requested) {
  torch::NoGradGuard no_grad;
  // The global batch's size first, so each rank can weight its own mean.
  auto count = torch::tensor({local_samples, stop_requested ? 1.0 : 0.0}, torch::kDouble);
  allReduceSum(count);
  const double global = count[0].item<double>();
  const bool stop = count[1].item<double>() > 0;
  const double scale = global > 0 ? local_samples / global : 0.0;
  std::vector<torch::Tensor> grads;
  for (const auto& p : params) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p); // every rank reduces the same tensors
    grads.push_back(p.grad());
  }
  // Buckets of same-dtype gradients, flattened, all in flight together.
  std::vector<std::pair<size_t, size_t>> buckets;
  for (size_t i = 0; i < grads.size();) {
    size_t j = i;
    int64_t bytes = 0;
    while (j < grads.size() && grads[j].scalar_type() == grads[i].scalar_type() &&
           (j == i || bytes + grads[j].nbytes() <= size_t(kBucketBytes)))
      bytes += int64_t(grads[j++].nbytes());
    buckets.emplace_back(i, j);
    i = j;
  }
  std::vector<at::Tensor> flats;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  guarded("the gradient all-reduce", [&] {
    for (const auto& [b, e] : buckets) {
      std::vector<torch::Tensor> parts;
      for (size_t k = b; k < e; ++k) parts.push_back(grads[k].reshape({-1}));
      flats.push_back(torch::cat(parts).mul_(scale));
      std::vector<at::Tensor> one{flats.back()};
      works.push_back(impl_->pg->allreduce(one));
    }
    for (auto& w : works) w->wait();
  });
  for (size_t n = 0; n < buckets.size(); ++n) {
    int64_t offset = 0;
    for (size_t k = buckets[n].first; k < buckets[n].second; ++k) {
      const int64_t size = grads[k].numel();
      grads[k].copy_(flats[n].slice(0, offset, offset + size).view_as(grads[k]));
      offset += size;
    }
  }
  return stop;
}

void DataParallelGroup::allReduceSum(torch::Tensor& tensor) {
  guarded("an all-reduce", [&] {
    std::vector<at::Tensor> one{tensor};
    impl_->pg->allreduce(one)->wait();
  });
}

std::string DataParallelGroup::shareFromRoot(const std::string& key, const std::string& value) {
  const std::string k = "distillery/shared/" + std::to_string(impl_->shared++) + "/" + key;
  if (isRoot()) {
    impl_->store->set(k, std::vector<uint8_t>(value.begin(), value.end()));
    return value;
  }
  // Rank 0 may take long (the teacher's cache): wait for as long as it is alive.
  try {
    while (!impl_->store->check({k})) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto bytes = impl_->store->get(k);
    return std::string(bytes.begin(), bytes.end());
  } catch (const std::exception& e) {
    throw RankLostError(0, "distributed: rank 0 of " + std::to_string(env_.world_size) + " is gone (rank " +
                               std::to_string(env_.rank) + " waited for its \"" + key +
                               "\"); the run can resume from its last checkpoint with the same world size");
  }
}

void DataParallelGroup::barrier() {
  guarded("a barrier", [&] { impl_->pg->barrier()->wait(); });
}

} // namespace distillery
