#!/usr/bin/env python3
"""timeline.py — draw a pipelab trace as text, one row per device (the labs' figures).

    python3 labs/tools/timeline.py TRACE.json [--width 96]

TRACE.json is what `pipelab run|compare|sweep --trace FILE` writes (Chrome Trace Event
JSON; the same file opens in https://ui.perfetto.dev and in pipelab-viz). Each row is the
device's compute lane over the whole step, left to right:

    F3----   forward of micro-batch 3      B3====   backward of micro-batch 3
    R3~~~~   recompute of micro-batch 3    o        optimizer step
    .        idle (the bubble)

Busy time and utilization are recomputed here from the spans (union of F, B, R per
device, divided by the step's makespan), so the picture and the numbers agree.
"""
import argparse
import glob
import json
import os
import sys

FILL = {"Forward": ("F", "-"), "Backward": ("B", "="), "Recompute": ("R", "~")}


def union_length(spans):
    total, run_start, run_end = 0.0, None, None
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if run_end is None or start > run_end:
            if run_end is not None:
                total += run_end - run_start
            run_start, run_end = start, end
        else:
            run_end = max(run_end, end)
    return total + (run_end - run_start if run_end is not None else 0.0)


def load_trace(path):
    """The trace document at `path`, or exit with one line saying what is wrong and what to do."""
    if not os.path.isfile(path):
        # `compare --trace FILE.json` and `sweep --trace FILE.json` write one file per run,
        # suffixed (FILE-naive.json, FILE-gpipe.json, ...), never FILE.json itself.
        stem = path[:-5] if path.endswith(".json") else path
        written = sorted(glob.glob(glob.escape(stem) + "-*.json"))
        if written:
            sys.exit(f"timeline: no file {path}; compare and sweep write one trace per run: "
                     + ", ".join(written) + " (give one of them)")
        sys.exit(f"timeline: no file {path} (write one with `pipelab run ... --trace {path}`)")
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        sys.exit(f"timeline: cannot read {path} as JSON: {e}")
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        sys.exit(f"timeline: {path} is not a Chrome trace (no traceEvents list); "
                 "give a file written by `pipelab run|compare|sweep --trace`")
    return doc


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trace")
    parser.add_argument("--width", type=int, default=96, help="characters for the whole step")
    parser.add_argument("--memory", action="store_true",
                        help="also print each device's peak bytes per category (the allocator's own peaks)")
    args = parser.parse_args()
    doc = load_trace(args.trace)
    meta = doc.get("pipelab", {})
    events = [e for e in doc["traceEvents"] if isinstance(e, dict) and e.get("ph") == "X"]
    if not events:
        sys.exit("timeline: no spans in " + args.trace)
    devices = meta.get("devices") or 1 + max(e["pid"] for e in events)
    t0 = min(e["ts"] for e in events)
    t1 = max(e["ts"] + e["dur"] for e in events)
    makespan = t1 - t0
    scale = args.width / makespan if makespan > 0 else 0.0

    print(f"# {meta.get('schedule', '?')} on {meta.get('backend', '?')}: K={devices} "
          f"M={meta.get('microbatches', '?')}, step {makespan:.1f} us, one character = {makespan / args.width:.2f} us")
    utilizations = []
    for d in range(devices):
        row = ["."] * args.width
        compute = sorted((e for e in events if e["pid"] == d and e.get("tid") == 0), key=lambda e: e["ts"])
        busy = []
        for e in compute:
            kind = e["args"].get("kind", "")
            a = min(int(round((e["ts"] - t0) * scale)), args.width - 1)
            b = max(a + 1, int(round((e["ts"] + e["dur"] - t0) * scale)))
            if kind == "OptimizerStep":
                text = "o" * (b - a)
            elif kind in FILL:
                letter, fill = FILL[kind]
                busy.append((e["ts"], e["ts"] + e["dur"]))
                label = f"{letter}{e['args'].get('microbatch', '')}"
                text = (label + fill * (b - a))[: b - a]
            else:
                continue
            for i, ch in enumerate(text):
                if a + i < args.width:
                    row[a + i] = ch
        utilization = union_length(busy) / makespan if makespan > 0 else 0.0
        utilizations.append(utilization)
        print(f"GPU {d} |{''.join(row)}| {100 * utilization:5.1f}% busy")
    mean = sum(utilizations) / len(utilizations)
    print(f"# mean utilization {100 * mean:.1f}%, bubble {100 * (1 - mean):.1f}% (measured from these spans)")
    if args.memory and meta.get("peak_memory"):
        mib = 1024.0 * 1024.0
        print("# peak memory (MiB)   params    grads    stash  buffers")
        for d, peak in enumerate(meta["peak_memory"]):
            print(f"  GPU {d}           " + "".join(f"{b / mib:9.2f}" for b in peak))
    theory = meta.get("theory", {})
    if "utilization" in theory:
        # The trace's theory is its own schedule's formula: with remat, recompute counts as
        # busy at the nominal F:B:R = 1:2:1 (docs/gpipe.md).
        label = "remat, F:B:R = 1:2:1; " if meta.get("remat") else ""
        print(f"# theory ({label}balanced stages, free links): utilization {100 * theory['utilization']:.1f}%, "
              f"bubble {100 * theory['bubble_fraction']:.1f}%")


if __name__ == "__main__":
    main()
