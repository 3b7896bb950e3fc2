#pragma once
// How far a key's queries lie from the task's data: the mean, over the key's
// sketches, of the L2 distance to the nearest of a sample of the task's
// training sketches, divided by the same mean for the task's own test images.
// About 1 for a client who sends images like the task's; well above 1 for
// noise, rendered or otherwise foreign images; below 1 for training images
// themselves (some are in the sample).
#include "core/serve/input_sketch.h"

#include <string>
#include <vector>

namespace distillery {

struct ShiftReference {
  std::vector<InputSketch> train;  // the sample the distances are taken to
  double test_mean_nn = 0;         // the mean nearest distance of test images to it
  int64_t test_images = 0;
};

// From an IDX image folder (MNIST, Fashion-MNIST): train-images-idx3-ubyte and
// t10k-images-idx3-ubyte, gzipped or not. Sketches `train_sample` training
// images and `test_sample` test images, evenly spaced. `dataset` is
// "fashion-mnist" or "mnist"; anything else is a ConfigError on --dataset.
// Missing or bad files are DataErrors naming them.
ShiftReference shiftReferenceFromIdx(const std::string& folder, const std::string& dataset,
                                     int64_t train_sample = 2000, int64_t test_sample = 500);

// Each query's distance to its nearest sketch in `sample` (infinity for a sketch of another size).
std::vector<double> nearestDistances(const std::vector<InputSketch>& queries, const std::vector<InputSketch>& sample);
double meanNearestDistance(const std::vector<InputSketch>& queries, const std::vector<InputSketch>& sample);

struct ShiftTrace {
  double score = -1;         // over every query; -1 without queries
  int64_t flagged_after = 0; // the first k >= min_queries whose first k queries score above the threshold; 0: never
};

// The running score one query at a time (the traffic panel): after each add()
// the trace is what shiftTrace() gives on every query so far. `reference`
// must outlive the stream.
class ShiftStream {
public:
  ShiftStream(const ShiftReference& reference, double threshold, int64_t min_queries)
      : reference_(&reference), threshold_(threshold), min_queries_(min_queries) {}
  // Adds the next query; returns the score over the queries so far (NaN before the first that counts).
  double add(const InputSketch& query);
  const ShiftTrace& trace() const { return trace_; }

private:
  const ShiftReference* reference_;
  double threshold_;
  int64_t min_queries_;
  ShiftTrace trace_;
  double sum_ = 0;
  int64_t counted_ = 0, seen_ = 0;
};

// meanNearestDistance / reference.test_mean_nn, at the end and as the queries came.
ShiftTrace shiftTrace(const std::vector<InputSketch>& queries, const ShiftReference& reference, double threshold,
                      int64_t min_queries);

} // namespace distillery
