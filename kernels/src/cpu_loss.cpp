// cpu_loss.cpp — softmax cross-entropy on the CPU: the loss (forward) and its
// gradient with respect to the logits (backward).
//
// Both are stable for any finite logits: they work with z − max(z), so exp never
// overflows. Each row is computed in double (the loss is returned as a double) and
// independently of the others, so a micro-batch gives the same bits per row as
// the same rows inside a full batch.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

#include "pipelab/error.h"
#include "pipelab/kernels/cpu.h"

namespace pipelab::kernels::cpu {

namespace {

using Index = std::ptrdiff_t;

// Throws on a bad shape, null buffers, or any label outside [0, classes); checked
// before anything is written so a bad batch leaves the outputs untouched.
void check_xent_args(const char* what, const float* logits, const int* labels, const float* dlogits,
                     bool needs_dlogits, int rows, int classes) {
  if (rows < 0 || classes < 0)
    PIPELAB_THROW(std::string(what) + ": negative shape (rows, classes) = (" +
                      std::to_string(rows) + ", " + std::to_string(classes) + ")",
                  "rows and classes count elements: pass values >= 0");
  if (rows == 0) return;
  if (classes == 0)
    PIPELAB_THROW(std::string(what) + ": " + std::to_string(rows) + " rows but 0 classes",
                  "a softmax needs at least one class; check the model's output width");
  if (logits == nullptr || labels == nullptr || (needs_dlogits && dlogits == nullptr))
    PIPELAB_THROW(std::string(what) + ": null " +
                      (logits == nullptr   ? "logits"
                       : labels == nullptr ? "labels"
                                           : "dlogits"),
                  "pass allocated buffers: logits and dlogits (rows, classes), labels (rows)");
  for (int i = 0; i < rows; ++i)
    if (labels[i] < 0 || labels[i] >= classes)
      PIPELAB_THROW(std::string(what) + ": label " + std::to_string(labels[i]) + " of row " +
                        std::to_string(i) + " is outside [0, " + std::to_string(classes) + ")",
                    "labels are class indices; check the data set and the model's output width");
}

// Row statistics for a stable softmax: max of the row and Σ_j exp(z_j − max).
struct SoftmaxRow {
  double max;
  double sum_exp;
};
SoftmaxRow softmax_row(const float* z, int classes) {
  const double max = *std::max_element(z, z + classes);
  double sum_exp = 0.0;
  for (int j = 0; j < classes; ++j) sum_exp += std::exp(double{z[j]} - max);
  return {max, sum_exp};
}

}  // namespace

double softmax_xent_forward(const float* logits, const int* labels, int rows, int classes,
                            float scale) {
  check_xent_args("softmax_xent_forward", logits, labels, nullptr, false, rows, classes);
  double total = 0.0;
  for (Index i = 0; i < rows; ++i) {
    const float* z = logits + i * classes;  // z is (classes): row i of the logits
    const SoftmaxRow s = softmax_row(z, classes);
    // −log softmax(z)[y] = log Σ_j exp(z_j) − z_y = log Σ_j exp(z_j − max) − (z_y − max)
    total += std::log(s.sum_exp) - (double{z[labels[i]]} - s.max);
  }
  return double{scale} * total;
}

void softmax_xent_backward(const float* logits, const int* labels, float* dlogits, int rows,
                           int classes, float scale) {
  check_xent_args("softmax_xent_backward", logits, labels, dlogits, true, rows, classes);
  for (Index i = 0; i < rows; ++i) {
    const float* z = logits + i * classes;  // z is (classes)
    float* dz = dlogits + i * classes;      // dz is (classes)
    const SoftmaxRow s = softmax_row(z, classes);
    // dz_j = scale · (softmax(z)_j − [j == y]),  softmax(z)_j = exp(z_j − max) / Σ
    for (int j = 0; j < classes; ++j) {
      const double p = std::exp(double{z[j]} - s.max) / s.sum_exp;
      dz[j] = static_cast<float>(double{scale} * (p - (j == labels[i] ? 1.0 : 0.0)));
    }
  }
}

}  // namespace pipelab::kernels::cpu
