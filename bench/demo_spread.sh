#!/usr/bin/env bash
# demo_spread.sh — how far the main job's figures move from run to run, idle and under
# load (issue "measurements a student can trust"). Runs `scripts/demo --json -q` N times
# idle, then N times while `cmake --build -j2` of a scratch tree runs, and prints per run
# the paired median speedup, whether a contention line was printed (a device on a core
# < 90% of its compute time) and the replayed speedup; then the spread of each.
#
#   bench/demo_spread.sh [N=10] [OUT.json]
#
# The scratch tree is a fresh configure of this checkout in $TMPDIR without ccache, so
# the load is real compilation; it is rebuilt from clean until the loaded runs finish.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
N="${1:-10}"
OUT="${2:-}"
WORK="$(mktemp -d)"
trap 'kill -- -$LOAD_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
LOAD_PID=

run_demos() {  # run_demos LABEL
  for i in $(seq 1 "$N"); do
    "$ROOT/scripts/demo" --json -q >"$WORK/$1-$i.json" 2>/dev/null
    echo "  $1 run $i/$N done" >&2
  done
}

echo "== $N runs idle (load average: $(cut -d' ' -f1 /proc/loadavg))" >&2
run_demos idle

echo "== configuring the scratch tree for the load" >&2
cmake -S "$ROOT" -B "$WORK/load" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPIPELAB_CUDA=OFF \
  -DPIPELAB_VISUALIZER=OFF >/dev/null
set -m
( while true; do cmake --build "$WORK/load" -j2 >/dev/null 2>&1; cmake --build "$WORK/load" --target clean >/dev/null 2>&1; done ) &
LOAD_PID=$!
set +m
sleep 20  # let the compilers start
echo "== $N runs under cmake --build -j2 (load average: $(cut -d' ' -f1 /proc/loadavg))" >&2
run_demos loaded
kill -- -"$LOAD_PID" 2>/dev/null || true

python3 - "$WORK" "$N" "$OUT" <<'EOF'
import json, statistics, sys
work, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows, summary = [], {}
for label in ("idle", "loaded"):
    for i in range(1, n + 1):
        d = json.load(open(f"{work}/{label}-{i}.json"))
        # The report prints a contention line when any device of any run was on a core
        # less than 90% of its compute time (report.cpp): the same test here.
        contended = any(f < 0.9 for r in d["runs"] for f in r["on_core_fraction"])
        # ideal speedup (theory) = GPipe's utilization M/(M+K-1) over naive's 1/K
        theory = {r["schedule"]: r["theory"]["utilization"] for r in d["runs"]}
        ideal = theory["gpipe"] / theory["naive"]
        rows.append(dict(label=label, run=i, speedup=d["speedup"]["median"],
                         speedup_min=d["speedup"]["min"], speedup_max=d["speedup"]["max"],
                         replayed=d["speedup"]["replayed"], contention=contended, ideal=ideal))
print(f"{'':8} {'run':>3} {'paired speedup':>16} {'[min - max]':>15} {'contention':>10} {'replayed':>9}")
for r in rows:
    print(f"{r['label']:8} {r['run']:3d} {r['speedup']:15.2f}x  [{r['speedup_min']:.2f} - {r['speedup_max']:.2f}]"
          f" {'yes' if r['contention'] else 'no':>10} {r['replayed']:8.2f}x")
def spread(values):
    # spread = (max - min) / median, in percent
    return 100.0 * (max(values) - min(values)) / statistics.median(values)
for label in ("idle", "loaded", "all"):
    sel = [r for r in rows if label == "all" or r["label"] == label]
    s = [r["speedup"] for r in sel]; p = [r["replayed"] for r in sel]
    summary[label] = dict(speedup_median=statistics.median(s), speedup_min=min(s), speedup_max=max(s),
                          speedup_spread_pct=spread(s), replayed_median=statistics.median(p),
                          replayed_min=min(p), replayed_max=max(p), replayed_spread_pct=spread(p),
                          runs_below_1_without_contention=sum(1 for r in sel if r["speedup"] <= 1 and not r["contention"]),
                          runs_above_ideal=sum(1 for r in sel if r["speedup"] > r["ideal"]))
    x = summary[label]
    print(f"# {label:6}: paired speedup median {x['speedup_median']:.2f}x [{x['speedup_min']:.2f} - {x['speedup_max']:.2f}]"
          f" spread {x['speedup_spread_pct']:.0f}%; replayed median {x['replayed_median']:.2f}x"
          f" [{x['replayed_min']:.2f} - {x['replayed_max']:.2f}] spread {x['replayed_spread_pct']:.1f}%;"
          f" speedup <= 1 with no contention line: {x['runs_below_1_without_contention']};"
          f" above the ideal: {x['runs_above_ideal']}")
if out:
    json.dump(dict(runs=rows, summary=summary), open(out, "w"), indent=1)
EOF
