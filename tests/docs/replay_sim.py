#!/usr/bin/env python3
"""replay_sim.py — the sim backend re-derived from the docs alone, checked against the binary.

Every rule below is quoted from docs/backends.md ("sim: discrete-event simulation" and "The
sim's rules, one by one") and docs/gpipe.md (the schedules); nothing is read from the C++
sources. The split backward (I and W, backends.md "The split backward") is replayed on two
schedules of this script's own, GPipe with every B as I then W (right after it, or every W
deferred to just before the optimizer step), which it hands to the binary as a schedule file
(docs/schedule-file.md). For random configurations this script runs

    pipelab run --backend sim --json ...

and compares the step time, every device's busy time, the bubble and the comm time with
its own replay, to 1e-9 relative. Run: python3 tests/docs/replay_sim.py build/bin/pipelab
[--cases N] [--seed S]. Exit 0 when every case matches, 1 otherwise (the first few
mismatches are printed), 2 on a usage error.
"""
import json
import math
import os
import random
import subprocess
import sys
import tempfile

RTOL = 1e-9


# --- partition (backends.md: "Which stage gets which layers") -------------------------------
def even_partition(L, K):
    # Stage s owns floor(L/K) layers, plus one of the L mod K left over if s < L mod K.
    return [L // K + (1 if s < L % K else 0) for s in range(K)]


def balanced_partition(L, K):
    # Every layer costs its parameter count (all equal), so the smallest largest stage holds
    # q = ceil(L/K) layers. Stages fill from the left up to q layers; a stage closes early
    # when the layers left are exactly one per stage still to fill.
    q = -(-L // K)
    counts = []
    layer = 0
    for s in range(K):
        stages_after = K - s - 1
        take = min(q, L - layer - stages_after) if s < K - 1 else L - layer
        counts.append(take)
        layer += take
    return counts


# --- micro-batches (gpipe.md: "the first B mod M micro-batches get one more row") -----------
def split_rows(B, M):
    return [B // M + (1 if m < B % M else 0) for m in range(M)]


# --- schedules (gpipe.md "The schedule", "1F1B"; remat per "With re-materialization") ------
def forward(s, m, K):
    ops = [("RecvA", m)] if s > 0 else []
    ops.append(("F", m))
    if s < K - 1:
        ops.append(("SendA", m))
    return ops


def backward(s, m, K):
    ops = [("RecvG", m)] if s < K - 1 else []
    ops.append(("B", m))
    if s > 0:
        ops.append(("SendG", m))
    return ops


def backward_input(s, m, K):
    # backends.md "The split backward": I sends the input gradient as B does; W moves no data.
    return [op if op[0] != "B" else ("I", m) for op in backward(s, m, K)]


# The split-backward schedules of this script (GPipe's order, every B as I + W).
SPLIT_SCHEDULES = ("gpipe-iw", "gpipe-iw-deferred")


def program(kind, s, K, M, remat):
    ops = []
    if kind in ("naive", "gpipe"):
        for m in range(M):
            ops += forward(s, m, K)
        for m in reversed(range(M)):
            ops += backward(s, m, K)
    elif kind in SPLIT_SCHEDULES:  # W(s,m) right after I(s,m), or every W after the last I
        for m in range(M):
            ops += forward(s, m, K)
        for m in reversed(range(M)):
            ops += backward_input(s, m, K)
            if kind == "gpipe-iw":
                ops.append(("W", m))
        if kind == "gpipe-iw-deferred":
            ops += [("W", m) for m in reversed(range(M))]
    else:  # 1f1b: min(K - s, M) warm-up forwards, then B and F alternating, then the rest of B
        warmup = min(K - s, M)
        for m in range(warmup):
            ops += forward(s, m, K)
        next_f, next_b = warmup, 0
        while next_f < M:
            ops += backward(s, next_b, K)
            ops += forward(s, next_f, K)
            next_f, next_b = next_f + 1, next_b + 1
        for m in range(next_b, M):
            ops += backward(s, m, K)
    if remat:  # R(s,m) goes just before the RecvGrad that precedes B(s,m) (or I), or before a bare one
        out = []
        for i, op in enumerate(ops):
            if op[0] == "RecvG" or (op[0] in ("B", "I") and not (i > 0 and ops[i - 1][0] == "RecvG")):
                out.append(("R", op[1]))
            out.append(op)
        ops = out
    return ops + [("Opt", -1)]


# --- cost model (backends.md "Compute cost", "Transfer cost") -------------------------------
def compute_us(op, s, cfg, layers, rows):
    d, h = cfg["d"], cfg["h"]
    kind, m = op
    last = s == cfg["K"] - 1
    P = 2 * d * h + h + d
    if kind in ("F", "R", "B", "I", "W"):
        b = rows[m]
        fwd = layers[s] * (4 * b * d * h + 10 * b * h + 2 * b * d)
        loss = 6 * b * d  # the CLI keeps the loss: 2/3 of it with F, 1/3 with B (or I), on the last stage
        if kind == "F":
            flops = fwd + (loss * 2 / 3 if last else 0)
        elif kind == "R":
            flops = fwd
        elif kind == "I":
            flops = layers[s] * (4 * b * d * h + 11 * b * h + 2 * b * d) + (loss / 3 if last else 0)
        elif kind == "W":
            flops = layers[s] * (4 * b * d * h + b * h + b * d)
        else:
            flops = layers[s] * (8 * b * d * h + 12 * b * h + 3 * b * d) + (loss / 3 if last else 0)
    else:  # OptimizerStep: 2·P·n_s FLOPs
        flops = 2 * P * layers[s]
    # time = FLOPs / (device_tflops · 10^12) · stage_skew[s], in µs
    return flops / (cfg["tflops"] * 1e6) * cfg["skew"][s]


def transfer_us(nbytes, cfg):
    # latency + bytes · 8 / (gbps · 10^3) µs; gbps 0 = an ideal link (no bandwidth term)
    us = cfg["latency"]
    if cfg["gbps"] > 0:
        us += nbytes * 8 / (cfg["gbps"] * 1e3)
    return us


def replay(cfg):
    K, M = cfg["K"], cfg["M"]
    layers = (balanced_partition if cfg["partition"] == "balanced" else even_partition)(cfg["L"], K)
    rows = split_rows(cfg["B"], M)
    programs = [program(cfg["schedule"], s, K, M, cfg["remat"]) for s in range(K)]
    clock = [0.0] * K
    link_free = {}  # (stage, direction) -> time the link is free again
    arrivals = {}   # (direction, receiving stage, m) -> (send start, arrival)
    spans = []      # (stage, lane, kind, start, end)
    pc = [0] * K
    progress = True
    while progress:
        progress = False
        for s in range(K):
            while pc[s] < len(programs[s]):
                kind, m = programs[s][pc[s]]
                if kind in ("SendA", "SendG"):
                    # The sender's clock does not move; the transfer starts when the sender has
                    # reached it and its link is free, and holds the link until it arrives.
                    direction = "A" if kind == "SendA" else "G"
                    start = max(clock[s], link_free.get((s, direction), 0.0))
                    end = start + transfer_us(4 * rows[m] * cfg["d"], cfg)
                    link_free[(s, direction)] = end
                    arrivals[(direction, s + 1 if direction == "A" else s - 1, m)] = (start, end)
                    spans.append((s, "send", kind, start, end))
                elif kind in ("RecvA", "RecvG"):
                    key = (kind[-1], s, m)
                    if key not in arrivals:
                        break  # the send is not posted yet: another stage first
                    start, end = arrivals[key]
                    spans.append((s, "recv", kind, start, end))  # the recv span is the transfer
                    clock[s] = max(clock[s], end)
                else:
                    cost = compute_us((kind, m), s, cfg, layers, rows)
                    spans.append((s, "compute", kind, clock[s], clock[s] + cost))
                    clock[s] += cost
                pc[s] += 1
                progress = True
    assert all(pc[s] == len(programs[s]) for s in range(K)), "replay deadlocked"
    # metrics.md: makespan over all spans; busy = union of F, B, R (and I, W: backends.md rule 8)
    # spans; comm = sum of sends.
    makespan = max(e for *_, e in spans) - min(st for *_, st, _ in spans)
    busy = []
    for s in range(K):
        work = sorted((st, e) for d, lane, k, st, e in spans if d == s and k in ("F", "B", "R", "I", "W"))
        total, cur_s, cur_e = 0.0, None, None
        for st, e in work:
            if cur_e is None or st > cur_e:
                if cur_e is not None:
                    total += cur_e - cur_s
                cur_s, cur_e = st, e
            else:
                cur_e = max(cur_e, e)
        if cur_e is not None:
            total += cur_e - cur_s
        busy.append(total)
    comm = sum(e - st for d, lane, k, st, e in spans if lane == "send")
    bubble = 1 - sum(b / makespan for b in busy) / K if makespan > 0 else 0.0
    return {"step_time_ms": makespan / 1e3, "busy_ms": [b / 1e3 for b in busy], "bubble_fraction": bubble,
            "comm_time_ms": comm / 1e3, "layers": layers}


def random_config(rng):
    K = rng.randint(1, 6)
    L = rng.randint(K, K + 7)
    schedule = rng.choice(["naive", "gpipe", "1f1b", *SPLIT_SCHEDULES])
    B = rng.randint(1, 40)
    M = 1 if schedule == "naive" else rng.randint(1, min(B, 12))
    return {
        "K": K, "L": L, "M": M, "B": B, "schedule": schedule,
        "d": rng.randint(1, 48), "h": rng.randint(1, 96),
        "remat": rng.random() < 0.5,
        "partition": rng.choice(["even", "balanced"]),
        "tflops": rng.choice([10.0, round(rng.uniform(0.5, 50), 3)]),
        "gbps": rng.choice([0.0, round(rng.uniform(0.5, 100), 3)]),
        "latency": rng.choice([0.0, round(rng.uniform(0.1, 20), 3)]),
        "skew": [1.0] * K if rng.random() < 0.4 else [round(rng.uniform(0.5, 3), 3) for _ in range(K)],
    }


def schedule_file_text(cfg):
    # docs/schedule-file.md: a header, then one line per stage of <stage><kind><micro-batch>
    # tokens and OPT; the sends and receives are left out (the parser inserts them around
    # F, B and I as the replay's program does).
    K, M = cfg["K"], cfg["M"]
    lines = [f"stages {K} microbatches {M}" + (" remat" if cfg["remat"] else "")]
    for s in range(K):
        ops = program(cfg["schedule"], s, K, M, cfg["remat"])
        tokens = ["OPT" if k == "Opt" else f"{s}{k}{m}" for k, m in ops if k in ("F", "B", "I", "W", "R", "Opt")]
        lines.append(" ".join(tokens))
    return "\n".join(lines) + "\n"


def cli_args(cfg, schedule_file=None):
    # Only the flags that apply are given (the CLI refuses the others): no link or
    # partition flags with K = 1 (one device has no links, one stage holds every layer);
    # naive gets -M 1, its M by definition (the default 8 is checked against B). A split
    # schedule runs from `schedule_file` (K, M and remat typed as the file's: allowed).
    schedule = ["--schedule-file", schedule_file] if schedule_file else ["--schedule", cfg["schedule"]]
    args = ["run", "--backend", "sim", "--json", "-q", "-K", str(cfg["K"]), "-M", str(cfg["M"]),
            "--layers", str(cfg["L"]), "--width", str(cfg["d"]), "--hidden", str(cfg["h"]),
            "--batch", str(cfg["B"]), *schedule, "--device-tflops", repr(cfg["tflops"])]
    if cfg["K"] == 1:
        cfg["gbps"] = cfg["latency"] = 0.0
        cfg["partition"] = "even"
    if cfg["partition"] != "even":
        args += ["--partition", cfg["partition"]]
    if cfg["gbps"] > 0:
        args += ["--link-gbps", repr(cfg["gbps"])]
    if cfg["latency"] > 0:
        args += ["--link-latency-us", repr(cfg["latency"])]
    if any(x != 1.0 for x in cfg["skew"]):
        args += ["--stage-skew", ",".join(repr(x) for x in cfg["skew"])]
    if cfg["remat"]:
        args.append("--remat")
    return args


def close(got, want):
    return abs(got - want) <= RTOL * max(abs(want), abs(got)) + 1e-300


def check(binary, cfg):
    """The mismatches of one configuration, as lines (empty when the replay matches)."""
    schedule_file = None
    if cfg["schedule"] in SPLIT_SCHEDULES:
        fd, schedule_file = tempfile.mkstemp(prefix=cfg["schedule"] + "-", suffix=".txt")
        with os.fdopen(fd, "w") as f:
            f.write(schedule_file_text(cfg))
    args = cli_args(cfg, schedule_file)
    try:
        proc = subprocess.run([binary] + args, capture_output=True, text=True)
    finally:
        if schedule_file:
            os.unlink(schedule_file)
    if proc.returncode != 0:
        return ["pipelab " + " ".join(args) + f" exited {proc.returncode}: {proc.stderr.strip()}"]
    run = json.loads(proc.stdout)["runs"][0]
    mine = replay(cfg)
    bad = []
    for field in ("step_time_ms", "bubble_fraction", "comm_time_ms"):
        if not close(run[field], mine[field]):
            bad.append(f"{field}: sim {run[field]!r}, replay {mine[field]!r}")
    for d, (got, want) in enumerate(zip(run["busy_ms"], mine["busy_ms"])):
        if not close(got, want):
            bad.append(f"busy_ms[{d}]: sim {got!r}, replay {want!r} (stage layers {mine['layers']})")
    return ["pipelab " + " ".join(args) + ": " + b for b in bad]


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-3], file=sys.stderr)
        return 2
    binary, cases, seed = argv[1], 40, 12
    if "--cases" in argv:
        cases = int(argv[argv.index("--cases") + 1])
    if "--seed" in argv:
        seed = int(argv[argv.index("--seed") + 1])
    rng = random.Random(seed)
    failures = []
    for _ in range(cases):
        failures += check(binary, random_config(rng))
    for line in failures[:5]:
        print("MISMATCH " + line)
    print(f"replay_sim: {cases} configs, {len(failures)} mismatches (rtol {RTOL:g}): "
          + ("OK" if not failures else "FAILED"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
