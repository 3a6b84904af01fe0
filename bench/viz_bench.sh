#!/usr/bin/env bash
# bench/viz_bench.sh — pipelab-viz at scale: frame time on the compare traces, load time
# and peak memory on a 1.56 M-span trace. A benchmark, not a test: it prints figures and
# gates nothing.
#
#   bench/viz_bench.sh                          build/ (pipelab + pipelab-viz), 3 runs, 100 frames
#   bench/viz_bench.sh --build build-viz --runs 5 --frames 200
#   bench/viz_bench.sh --viz /tmp/old/bin/pipelab-viz --external   any pipelab-viz, even one without --bench
#
# Traces (written once into --traces DIR, default /tmp/pipelab-viz-bench):
#   compare  pipelab compare --backend sim -K 8 -M 512 --batch 512   x-naive.json + x-gpipe.json (~22.6 k spans)
#   big      pipelab run --backend sim -K 64 -M 4096 --layers 64 --batch 4096   (1 556 544 spans, 524 416 samples)
#   (-M needs --batch >= M and -K needs --layers >= K: the defaults are B=128, L=16.)
#
# Cases, each run --runs times under `xvfb-run -a`, headless at 1600x900 (llvmpipe without a GPU):
#   demo     no arguments: the classroom demo (K=4, M=4, live sim)
#   compare  x-naive.json x-gpipe.json
#   big      big.json
# Figures (median over the runs of each):
#   default     pipelab-viz --bench: load_s (reading the files into panels), first_s (process
#               start to the end of the first frame), frame_ms (median over the frames after the
#               first, each begin_frame -> GL finished), growth_kb (resident set per frame after
#               the first), peak_mb (ru_maxrss).
#   --external  wall clock around the process: first_s = T(1 frame), frame_ms = (T(N+1) - T(1)) / N
#               (a mean, not a median), peak_mb from /usr/bin/time; for builds without --bench.
set -euo pipefail

build=build
viz=""
runs=3
frames=100
traces=/tmp/pipelab-viz-bench
external=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --viz) viz="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --frames) frames="$2"; shift 2 ;;
    --traces) traces="$2"; shift 2 ;;
    --external) external=1; shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "viz_bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
pipelab="$build/bin/pipelab"
viz="${viz:-$build/bin/pipelab-viz}"
for tool in xvfb-run /usr/bin/time; do
  command -v "$tool" > /dev/null || { echo "viz_bench.sh: $tool not found (apt install xvfb xauth time)" >&2; exit 2; }
done
[[ -x "$pipelab" && -x "$viz" ]] || { echo "viz_bench.sh: need $pipelab and $viz (build them first)" >&2; exit 2; }

# 1. Traces.
mkdir -p "$traces"
if [[ ! -s "$traces/x-gpipe.json" ]]; then
  "$pipelab" compare --backend sim -K 8 -M 512 --batch 512 --trace "$traces/x.json" -q > /dev/null
fi
if [[ ! -s "$traces/big.json" ]]; then
  "$pipelab" run --backend sim -K 64 -M 4096 --layers 64 --batch 4096 --trace "$traces/big.json" -q > /dev/null
fi
spans() { grep -o '"ph":"X"' "$1" | wc -l; }
compare_spans=$(( $(spans "$traces/x-naive.json") + $(spans "$traces/x-gpipe.json") ))
big_spans=$(spans "$traces/big.json")

# 2. One run of one case: prints "load_s first_s frame_ms growth_kb peak_mb".
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
run_bench() {  # args: the case's files
  local line
  line=$(xvfb-run -a "$viz" "$@" --headless --bench --frames "$frames" | grep '^pipelab-viz bench:')
  echo "$(field load_s <<< "$line") $(field first_frame_s <<< "$line") $(field frame_ms_median <<< "$line")" \
       "$(field rss_growth_kb_per_frame <<< "$line") $(field peak_rss_mb <<< "$line")"
}
wall() {  # args: frames, files; prints "seconds peak_kb"
  local n="$1" out
  shift
  out=$(mktemp /tmp/viz_bench_XXXXXX.png)
  /usr/bin/time -f "%e %M" -o "$out.time" xvfb-run -a "$viz" "$@" --headless --frames "$n" --screenshot "$out" > /dev/null 2>&1
  cat "$out.time"
  rm -f "$out" "$out.time"
}
run_external() {
  local one many
  one=$(wall 1 "$@")
  many=$(wall $((frames + 1)) "$@")
  # frame_ms = (T(N+1) - T(1)) / N; growth = (peak(N+1) - peak(1)) / N.
  awk -v a="$one" -v b="$many" -v n="$frames" 'BEGIN { split(a, x, " "); split(b, y, " ");
    printf "- %.3f %.2f %.1f %.1f\n", x[1], (y[1] - x[1]) * 1000 / n, (y[2] - x[2]) / n, y[2] / 1024 }'
}
median_of_runs() {  # stdin: one line per run; prints the per-column medians
  awk '{ for (i = 1; i <= NF; ++i) v[i, NR] = $i; nf = NF } END {
    for (i = 1; i <= nf; ++i) {
      if (v[i, 1] == "-") { printf "%s ", "-"; continue }
      n = 0; for (r = 1; r <= NR; ++r) a[++n] = v[i, r]
      for (p = 1; p <= n; ++p) for (q = p + 1; q <= n; ++q) if (a[q] + 0 < a[p] + 0) { t = a[p]; a[p] = a[q]; a[q] = t }
      printf "%s ", (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2)
    }
    printf "\n" }'
}

# 3. The table.
renderer=$( (xvfb-run -a "$viz" --headless --bench --frames 1 2> /dev/null || true) | sed -n 's/^pipelab-viz bench renderer: //p')
echo "# pipelab-viz at scale: $(date -u +%Y-%m-%d), $(nproc) cores, ${renderer:-renderer unknown}"
echo "# viz $viz, $runs runs of $frames frames each, 1600x900 headless under xvfb-run, method: $([[ $external == 1 ]] && echo external || echo --bench)"
printf "# %-8s %10s %9s %9s %10s %11s %9s\n" case spans load_s first_s frame_ms growth_kB/f peak_MB
printf "# %-8s %10s %9s %9s %10s %11s %9s\n" "" "" "(s)" "(s)" "(median)" "(per frame)" "(MiB)"
status=OK
for case in demo compare big; do
  case "$case" in
    demo) files=(); n="live" ;;
    compare) files=("$traces/x-naive.json" "$traces/x-gpipe.json"); n="$compare_spans" ;;
    big) files=("$traces/big.json"); n="$big_spans" ;;
  esac
  results=""
  for ((r = 0; r < runs; ++r)); do
    if [[ $external == 1 ]]; then
      results+="$(run_external "${files[@]}")"$'\n'
    else
      results+="$(run_bench "${files[@]}")"$'\n'
    fi
  done
  read -r load first frame growth peak <<< "$(printf "%s" "$results" | median_of_runs)"
  [[ -n "$frame" ]] || status=FAILED
  printf "  %-8s %10s %9s %9s %10s %11s %9s\n" "$case" "$n" "$load" "$first" "$frame" "$growth" "$peak"
done
echo "# $status"
