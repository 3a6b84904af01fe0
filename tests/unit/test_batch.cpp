// test_batch.cpp — make_batch(): the labels are argmax_j (T · x_i)_j of the N(0, 1)
// teacher, in double. make_batch computes them in tiles, several rows side by side and
// on threads; the oracle here is the plain row-by-row triple loop, written anew, which
// must give the same label for every row (the same sums in the same order).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "pipelab/model/model.h"
#include "pipelab/rng.h"

namespace pipelab {
namespace {

std::vector<int> oracle_labels(const ModelSpec& s, const std::vector<float>& inputs) {
  const int d = s.width;
  std::vector<double> teacher(static_cast<std::size_t>(d) * d);
  detail::Rng rng(s.seed, 0, 8);  // the teacher's stream, as documented in model.h
  for (double& t : teacher) t = rng.normal();
  std::vector<int> labels(s.batch);
  for (int i = 0; i < s.batch; ++i) {
    int best = 0;
    double best_score = -INFINITY;
    for (int j = 0; j < d; ++j) {
      double score = 0;
      for (int c = 0; c < d; ++c) score += teacher[std::size_t(j) * d + c] * inputs[std::size_t(i) * d + c];
      if (score > best_score) best_score = score, best = j;
    }
    labels[i] = best;
  }
  return labels;
}

TEST(MakeBatch, LabelsAreTheTeachersArgmaxForEveryRow) {
  // Odd sizes: a partial last tile of rows; the big one crosses the threading threshold.
  for (const auto& [batch, width] : {std::pair{29, 48}, std::pair{1, 5}, std::pair{70, 128}, std::pair{1500, 260}}) {
    ModelSpec s;
    s.batch = batch;
    s.width = width;
    s.seed = 11;
    const Batch b = make_batch(s);
    ASSERT_EQ(b.inputs.size(), std::size_t(batch) * width);
    EXPECT_EQ(b.labels, oracle_labels(s, b.inputs)) << "B=" << batch << " d=" << width;
    for (int label : b.labels) {
      EXPECT_GE(label, 0);
      EXPECT_LT(label, width);
    }
  }
}

TEST(MakeBatch, LabelsAreNotAllTheSame) {
  // A broken argmax (always 0, or the last class) would still be "in range".
  ModelSpec s;
  s.batch = 200;
  s.width = 16;
  const Batch b = make_batch(s);
  std::vector<int> count(s.width, 0);
  for (int label : b.labels) ++count[label];
  int used = 0;
  for (int n : count) used += n > 0;
  EXPECT_GE(used, 8) << "200 random rows should hit most of 16 classes";
}

}  // namespace
}  // namespace pipelab
