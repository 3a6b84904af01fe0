// cpu_gemm_detail.h — what the two cpu GEMMs share (defined in cpu_gemm.cpp): the
// argument checks and the BLAS convention C = beta·C, so that the reference and the
// BLAS implementation reject the same calls with the same messages.
#pragma once

#include "pipelab/kernels/cpu.h"

namespace pipelab::kernels::cpu::detail {

/// Throws pipelab::Error (with a hint) for negative sizes, a leading dimension below the
/// stored row length, a null buffer that would be read or written, and a C that
/// overlaps A or B. See gemm() in pipelab/kernels/cpu.h for the shapes.
void check_gemm_args(Trans trans_a, Trans trans_b, int m, int n, int k, const float* A, int lda,
                     const float* B, int ldb, const float* C, int ldc);

/// C (m, n) = beta·C; beta == 0 writes zeros without reading C (it may hold NaN).
void scale_c(int m, int n, float beta, float* C, int ldc);

}  // namespace pipelab::kernels::cpu::detail
