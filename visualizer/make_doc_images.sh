#!/usr/bin/env bash
# Regenerate docs/images/ with pipelab-viz's headless mode (needs xvfb-run).
#
#   visualizer/make_doc_images.sh [build-dir]      (default: build)
#
#   compare.png          the classroom demo: naive above GPipe, K=4, M=4, sim, whole step
#   compare.svg          the same timeline as SVG (slides, handouts)
#   filling-1..4.png     GPipe alone, paused at 10%, 28%, 55% and 100% of the step:
#                        the pipeline filling, running and draining
#   zero-bubble-stacked.png  gpipe, 1f1b, zb-h1 and zb-h2 (K=4, M=8, sim) stacked on one axis
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
viz="$build/bin/pipelab-viz"
out="$root/docs/images"
pipelab="$build/bin/pipelab"
[[ -x "$pipelab" ]] || { echo "no $pipelab: build the pipelab target first" >&2; exit 1; }
[[ -x "$viz" ]] || { echo "no $viz: build the pipelab-viz target first" >&2; exit 1; }
command -v xvfb-run > /dev/null || { echo "xvfb-run not found (apt install xvfb xauth)" >&2; exit 1; }
mkdir -p "$out"

xvfb-run -a "$viz" --headless --screenshot "$out/compare.png" --svg "$out/compare.svg"
i=1
for at in 0.10 0.28 0.55 1.0; do
  xvfb-run -a "$viz" --headless --single --hide-controls --crop timeline --playhead "$at" \
    --screenshot "$out/filling-$i.png"
  i=$((i + 1))
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$pipelab" compare --backend sim --schedules gpipe,1f1b,zb-h1,zb-h2 -K 4 -M 8 --trace "$tmp/z.json" > /dev/null
xvfb-run -a "$viz" --headless --hide-controls --crop timeline \
  "$tmp/z-gpipe.json" "$tmp/z-1f1b.json" "$tmp/z-zb-h1.json" "$tmp/z-zb-h2.json" \
  --screenshot "$out/zero-bubble-stacked.png"
