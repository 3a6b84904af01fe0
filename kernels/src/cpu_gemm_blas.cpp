// cpu_gemm_blas.cpp — gemm(GemmImpl, ...): the choice between the hand-written reference
// (cpu_gemm.cpp) and a BLAS, and the BLAS binding itself (cblas_sgemm, row-major).
//
// Which BLAS, and why this flavour. The cpu backend runs one worker thread per stage and
// every worker calls gemm, so the library must allow concurrent calls from threads it did
// not create. OpenBLAS keeps process-wide tables of work buffers (driver/others/memory.c)
// and locks them only in builds with threads (SMP) or with USE_LOCKING=1, an option added
// in 0.3.7 "for applications that call into single-threaded OpenBLAS from several
// concurrent threads" (OpenBLAS PR #2136, fixing issues #2126 and #1755); unless it is
// given, USE_THREAD=0 implies USE_LOCKING=0 (maintainer's answer in issue #4030).
//   Debian 12 ships three flavours of 0.3.21. We measured the serial one,
// libopenblas0-serial (openblas_get_config(): SINGLE_THREADED), on this kit's 2-core VM:
// 2 to 8 threads calling cblas_sgemm on private operands got wrong results in 1 call in
// 120 to 10 000 (max |error| up to 35, not rounding); with it a pipelined cpu step missed
// the single-device step by 26% (normwise). The pthreads flavour, libopenblas0-pthread,
// after openblas_set_num_threads(1) gave bit-identical results in 3.5 million calls from 4
// to 64 threads (bench/results/2026-12-01-cpu-blas.md). So pipelab links
// libopenblas-pthread-dev and sets one thread per call: the workers are the parallelism,
// and every call runs on the worker that made it. The setting is process-wide (fine: we
// are the only user) and its pool threads stay idle. A serial build is refused at run
// time (it may lack USE_LOCKING, and Debian's misbehaves), and so is OpenMP, which skips
// the lock and relies on OpenMP to serialise its callers. kernels/CMakeLists.txt links the
// pthreads flavour by its path (with a RUNPATH), since Debian's alternatives may point
// libopenblas.so.0 at another flavour; the checks below look at the library loaded.
#include <string>

#include "cpu_gemm_detail.h"
#include "pipelab/error.h"
#include "pipelab/kernels/cpu.h"
#include "pipelab/name_table.h"

#if PIPELAB_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace pipelab::kernels::cpu {

namespace {

constexpr EnumName<GemmImpl> kGemmImplNames[] = {{GemmImpl::Reference, "reference"},
                                                 {GemmImpl::Blas, "blas"}};

// What the BLAS of this build is, found out once (the first call; thread-safe static).
struct BlasStatus {
  bool available = false;
  std::string reason;       // why not, when not available
  std::string description;  // "OpenBLAS 0.3.21 Cooperlake, 1 thread per call"
};

#if PIPELAB_HAVE_OPENBLAS
BlasStatus probe_blas() {
  BlasStatus s;
  // openblas_get_config(): "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ... SINGLE_THREADED";
  // its first two words are the name and version.
  const std::string config = openblas_get_config();
  std::size_t end = config.find(' ');
  end = end == std::string::npos ? end : config.find(' ', end + 1);
  const std::string version = config.substr(0, end);
  // openblas_get_parallel(): 0 = built without threads, 1 = pthreads, 2 = OpenMP.
  switch (openblas_get_parallel()) {
    case 1:
      openblas_set_num_threads(1);  // one thread per call: the workers are the parallelism
      s.available = true;
      s.description = version + " " + openblas_get_corename() + ", 1 thread per call";
      break;
    case 0:
      s.reason = "the loaded " + version +
                 " is built without threads, which is safe for concurrent calls only with "
                 "USE_LOCKING=1 (Debian 12's serial flavour gives wrong results under them)";
      break;
    default:
      s.reason = "the loaded " + version +
                 " is built with OpenMP, which does not lock its buffers against calls from "
                 "several non-OpenMP threads (the cpu backend's workers)";
      break;
  }
  return s;
}
#endif

const BlasStatus& blas_status() {
#if PIPELAB_HAVE_OPENBLAS
  static const BlasStatus status = probe_blas();
#else
  static const BlasStatus status{false,
                                 "this build has no BLAS (CMake did not find Debian's "
                                 "libopenblas-pthread-dev, or was given -DPIPELAB_BLAS=OFF)",
                                 ""};
#endif
  return status;
}

}  // namespace

const char* to_string(GemmImpl impl) { return name_of(kGemmImplNames, impl); }

std::optional<GemmImpl> gemm_impl_named(const std::string& name) {
  return value_named(kGemmImplNames, name);
}

std::string gemm_impl_names() { return list_names(kGemmImplNames); }

bool gemm_impl_available(GemmImpl impl) {
  return impl == GemmImpl::Reference || blas_status().available;
}

std::string gemm_impl_unavailable_reason(GemmImpl impl) {
  return gemm_impl_available(impl) ? std::string() : blas_status().reason;
}

GemmImpl default_gemm_impl() {
  return gemm_impl_available(GemmImpl::Blas) ? GemmImpl::Blas : GemmImpl::Reference;
}

std::string gemm_impl_description(GemmImpl impl) {
  if (impl == GemmImpl::Reference)
    return std::string("reference ") + gemm_kernel_name(gemm_kernel());
  const BlasStatus& s = blas_status();
  return s.available ? "blas " + s.description : "blas (not available: " + s.reason + ")";
}

void gemm(GemmImpl impl, Trans trans_a, Trans trans_b, int m, int n, int k, float alpha,
          const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc) {
  if (impl == GemmImpl::Reference) {
    gemm(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  if (!gemm_impl_available(GemmImpl::Blas))
    PIPELAB_THROW("gemm: the blas implementation is not available: " + blas_status().reason,
                  "install libopenblas-pthread-dev (scripts/install-deps), reconfigure and "
                  "rebuild; or use GemmImpl::Reference (--gemm reference)");
  detail::check_gemm_args(trans_a, trans_b, m, n, k, A, lda, B, ldb, C, ldc);
  if (m == 0 || n == 0) return;
  // The BLAS convention, done here so that it never depends on the library: k == 0 or
  // alpha == 0 reads neither A nor B, beta == 0 never reads C.
  if (k == 0 || alpha == 0.0f) {
    detail::scale_c(m, n, beta, C, ldc);
    return;
  }
#if PIPELAB_HAVE_OPENBLAS
  // Row-major CBLAS takes our (m, n, k, lda, ldb, ldc) as they are.
  const auto cblas_trans = [](Trans t) { return t == Trans::No ? CblasNoTrans : CblasTrans; };
  cblas_sgemm(CblasRowMajor, cblas_trans(trans_a), cblas_trans(trans_b), m, n, k, alpha, A, lda,
              B, ldb, beta, C, ldc);
#endif
}

}  // namespace pipelab::kernels::cpu
