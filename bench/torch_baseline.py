#!/usr/bin/env python3
"""torch_baseline.py — pipelab's model as a plain PyTorch training step on one GPU.

The same model, data, loss and update as core/include/pipelab/model/model.h, written the
way anyone would in PyTorch (nn.Linear-shaped tensors, F.gelu, F.cross_entropy,
autograd, SGD), timed with CUDA events. `pipelab bench --vs-torch` runs it beside
pipelab K=1 and prints the ratio of the step times.

    python3 bench/torch_baseline.py --layers 16 --width 4096 --hidden 16384 --batch 1024
    python3 bench/torch_baseline.py --json            # one JSON object on stdout
    python3 bench/torch_baseline.py --device cpu --width 48 --hidden 80 --batch 29 --layers 8 --steps 1

Model (model.h): L residual MLP blocks  y = x + W2 · GELU(W1 · x + b1) + b2,
W1 (h, d), b1 (h), W2 (d, h), b2 (d), exact (erf) GELU; then softmax cross-entropy
over d classes, the mean over the batch B (pipelab's per-row scale 1/B).
Parameters and data are bit-for-bit pipelab's: the same SplitMix64 streams
(base/include/pipelab/rng.h) seeded by (seed, layer + 1, tensor) and (seed, 0, 7|8),
W ~ U(±1/√fan_in), W2 and b2 further divided by √L, inputs ~ N(0, 1) by Box–Muller,
labels = argmax of a N(0, 1) teacher T (d, d) applied to x, in double. So the loss
of the first step equals pipelab's (`pipelab run --json` "loss") to ~1e-6.
Precision: fp32; --tf32 lets matmuls use TF32 tensor cores (as pipelab --tf32).

Napkin math, per step: the four GEMMs of each block's backward and two of its
forward are 12 · L · B · d · h FLOPs (L=16, B=1024, d=4096, h=16384: 13.2 TFLOP);
an H100 SXM runs ~67 TFLOP/s fp32 (no tensor cores), ~495 TFLOP/s dense TF32.

Needs only torch. Output: a `#` header with the config and napkin math, one row of
fixed-width columns with units, a footer with OK; or --json.
"""

import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

# ---- pipelab's random streams (base/include/pipelab/rng.h), vectorized -------------------------------

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15  # SplitMix64's increment, also the first seed mixer
MIX_B = 0xC2B2AE3D27D4EB4F   # second seed mixer
MUL1 = 0xBF58476D1CE4E5B9
MUL2 = 0x94D049BB133111EB
CHUNK = 1 << 22              # values generated per pass (bounds temporary memory)


def signed64(u):
    """An unsigned 64-bit constant as the int64 with the same bits."""
    return u - (1 << 64) if u >= (1 << 63) else u


def shift_right(x, s):
    """Logical right shift of int64 bits (torch's >> is arithmetic)."""
    return (x >> s) & ((1 << (64 - s)) - 1)


class Rng:
    """pipelab::detail::Rng(seed, a, b): SplitMix64. Output n is mix(state0 + (n + 2)·γ),
    where state0 = seed ^ a·γ ^ b·MIX_B (the constructor draws and drops one value), so
    any stretch of the stream can be computed at once. int64 arithmetic wraps mod 2^64."""

    def __init__(self, seed, a, b, device):
        self.state = (seed ^ ((a * GOLDEN) & MASK64) ^ ((b * MIX_B) & MASK64)) & MASK64
        self.drawn = 1  # the constructor's next()
        self.device = device

    def _bits(self, n):
        index = torch.arange(self.drawn + 1, self.drawn + n + 1, dtype=torch.int64, device=self.device)
        self.drawn += n
        z = torch.full_like(index, signed64(self.state)) + index * signed64(GOLDEN)
        z = (z ^ shift_right(z, 30)) * signed64(MUL1)
        z = (z ^ shift_right(z, 27)) * signed64(MUL2)
        return z ^ shift_right(z, 31)

    def uniform(self, n):
        """n doubles in [0, 1) from the top 53 bits."""
        parts = []
        while n > 0:
            take = min(n, CHUNK)
            parts.append(shift_right(self._bits(take), 11).to(torch.float64) * (1.0 / 9007199254740992.0))
            n -= take
        return torch.cat(parts) if parts else torch.empty(0, dtype=torch.float64, device=self.device)

    def uniform_range(self, n, lo, hi):
        return lo + (hi - lo) * self.uniform(n)

    def normal(self, n):
        """Box–Muller, one normal per two uniforms: sqrt(−2 ln(1 − u1)) · cos(2π u2)."""
        u = self.uniform(2 * n).view(n, 2)
        u1 = 1.0 - u[:, 0]
        return torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(6.283185307179586 * u[:, 1])


def init_block(seed, layer, d, h, layers, device):
    """model.cpp init_block: (W1 (h, d), b1 (h), W2 (d, h), b2 (d)) as fp32."""
    bound1 = 1.0 / math.sqrt(d)
    bound2 = 1.0 / math.sqrt(h) / math.sqrt(max(1, layers))
    r1 = Rng(seed, layer + 1, 1, device)
    w1 = r1.uniform_range(h * d, -bound1, bound1).to(torch.float32).view(h, d)
    b1 = r1.uniform_range(h, -bound1, bound1).to(torch.float32)
    r2 = Rng(seed, layer + 1, 2, device)
    w2 = r2.uniform_range(d * h, -bound2, bound2).to(torch.float32).view(d, h)
    b2 = r2.uniform_range(d, -bound2, bound2).to(torch.float32)
    return [t.contiguous().requires_grad_(True) for t in (w1, b1, w2, b2)]


def make_batch(seed, batch, d, device):
    """model.cpp make_batch: inputs (B, d) ~ N(0, 1) in fp32, labels = argmax(T · x) in double."""
    inputs = Rng(seed, 0, 7, device).normal(batch * d).to(torch.float32).view(batch, d)
    teacher = Rng(seed, 0, 8, device).normal(d * d).view(d, d)  # T (d, d), double
    labels = torch.argmax(inputs.to(torch.float64) @ teacher.T, dim=1)  # first maximum, like the C++ loop
    return inputs, labels


# ---- the training step ---------------------------------------------------------------------


def forward_loss(params, inputs, labels):
    x = inputs
    for w1, b1, w2, b2 in params:
        g = F.gelu(F.linear(x, w1, b1), approximate="none")  # a = x·W1ᵀ + b1, g = GELU(a)
        x = x + F.linear(g, w2, b2)                         # y = x + g·W2ᵀ + b2
    return F.cross_entropy(x, labels)  # mean over the batch


def train_step(params, inputs, labels, lr):
    """One step, as pipelab's: loss (before the update), backward, plain SGD."""
    loss = forward_loss(params, inputs, labels)
    loss.backward()
    with torch.no_grad():
        for block in params:
            for p in block:
                p -= lr * p.grad
                p.grad = None
    return loss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--layers", type=int, default=16, help="L residual MLP blocks")
    ap.add_argument("--width", type=int, default=256, help="d, the width (and number of classes)")
    ap.add_argument("--hidden", type=int, default=1024, help="h, the hidden size")
    ap.add_argument("--batch", type=int, default=128, help="B, samples per step")
    ap.add_argument("--seed", type=int, default=1, help="seed of parameters and data (pipelab --seed)")
    ap.add_argument("--lr", type=float, default=0.01, help="SGD learning rate")
    ap.add_argument("--tf32", action="store_true", help="let matmuls use TF32 tensor cores")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    ap.add_argument("--steps", type=int, default=10, help="timed steps")
    ap.add_argument("--device", default="cuda", help="cuda (default), cuda:N, or cpu (for checking numerics)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = ap.parse_args()

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("torch_baseline: error: CUDA is not available to torch here (use --device cpu to check numerics)",
              file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.set_float32_matmul_precision("high" if args.tf32 else "highest")

    L, d, h, B = args.layers, args.width, args.hidden, args.batch
    setup_start = time.perf_counter()
    params = [init_block(args.seed, layer, d, h, L, device) for layer in range(L)]
    inputs, labels = make_batch(args.seed, B, d, device)
    setup_s = time.perf_counter() - setup_start

    # The first step's loss is pipelab's step loss (same parameters, same data).
    first_loss = None
    times_ms = []
    for i in range(args.warmup + args.steps):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            loss = train_step(params, inputs, labels, args.lr)
            end.record()
            end.synchronize()
            elapsed = start.elapsed_time(end)
        else:
            t0 = time.perf_counter()
            loss = train_step(params, inputs, labels, args.lr)
            elapsed = 1000.0 * (time.perf_counter() - t0)
        if i == 0:
            first_loss = loss.item()
        if i >= args.warmup:
            times_ms.append(elapsed)

    flops = 12.0 * L * B * d * h  # the GEMMs: 4·B·d·h forward + 8·B·d·h backward, per block
    median_ms = statistics.median(times_ms) if times_ms else float("nan")
    tflops = flops / (median_ms * 1e-3) / 1e12 if times_ms else float("nan")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    result = {
        "tool": "torch_baseline",
        "device": name,
        "torch": torch.__version__,
        "precision": "tf32" if args.tf32 else "fp32",
        "model": {"layers": L, "width": d, "hidden": h, "batch": B, "seed": args.seed, "learning_rate": args.lr},
        "first_step_loss": first_loss,
        "step_ms": {"median": median_ms, "min": min(times_ms, default=float("nan")),
                    "mean": statistics.fmean(times_ms) if times_ms else float("nan"), "all": times_ms},
        "gemm_flops_per_step": flops,
        "achieved_tflops": tflops,
        "setup_s": setup_s,
        "warmup": args.warmup,
        "steps": args.steps,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"# torch_baseline: pipelab's model as a plain PyTorch step on {name} (torch {torch.__version__}, "
          f"{result['precision']})")
    print(f"# model L={L} d={d} h={h} B={B} seed {args.seed}; {args.warmup} warm-up + {args.steps} timed steps "
          f"(CUDA events)" if device.type == "cuda" else
          f"# model L={L} d={d} h={h} B={B} seed {args.seed}; {args.warmup} warm-up + {args.steps} timed steps")
    print(f"# napkin math: 12·L·B·d·h = {flops / 1e9:.3f} GFLOP of GEMMs per step")
    print(f"# {'first loss':>12}  {'median':>10}  {'min':>10}  {'mean':>10}  {'achieved':>10}")
    print(f"# {'':>12}  {'(ms)':>10}  {'(ms)':>10}  {'(ms)':>10}  {'(TFLOP/s)':>10}")
    print(f"  {first_loss:12.6f}  {median_ms:10.3f}  {result['step_ms']['min']:10.3f}  "
          f"{result['step_ms']['mean']:10.3f}  {tflops:10.2f}")
    print("# OK" if times_ms and math.isfinite(first_loss) else "# FAILED")
    return 0 if times_ms and math.isfinite(first_loss) else 1


if __name__ == "__main__":
    sys.exit(main())
