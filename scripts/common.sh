# common.sh — shared by scripts/demo and scripts/test (sourced, not run).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JOBS="${PIPELAB_JOBS:-$(nproc)}"

# nvcc is optional; CMake finds it through CUDACXX when it is not on PATH.
if [ -z "${CUDACXX:-}" ] && ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export CUDACXX=/usr/local/cuda/bin/nvcc
fi

# pipelab_build DIR [cmake args...] — configure DIR (Release, Ninja for a new
# directory) and build it. PIPELAB_TARGETS="a b" limits the build to those targets.
pipelab_build() {
  local dir="$1"; shift
  local generator=()
  [ -f "$dir/CMakeCache.txt" ] || generator=(-G Ninja)
  mkdir -p "$dir"
  echo "== configure + build ${dir#$ROOT/} $*" >&2
  cmake -S "$ROOT" -B "$dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@" >"$dir/configure.log" 2>&1 \
    || { cat "$dir/configure.log" >&2; return 1; }
  local targets=()
  for t in ${PIPELAB_TARGETS:-}; do targets+=(--target "$t"); done
  cmake --build "$dir" -j "$JOBS" "${targets[@]}"
}
