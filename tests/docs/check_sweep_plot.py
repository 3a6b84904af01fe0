#!/usr/bin/env python3
"""check_sweep_plot.py — `pipelab sweep --plot FILE.svg` draws the sweep's own numbers.

For a few sim sweeps (with and without --remat, M lists that are and are not powers of two)
this runs `pipelab sweep --backend sim --json --plot FILE.svg`, parses the SVG (it must be
well-formed XML) and checks, for both panels (speedup, bubble):
  - one measured point per GPipe run, whose data-value is the JSON's number and whose
    cx, cy map back through the panel's axes (sweep_plot.h) to its M and value;
  - a theory curve through every swept M, equal there to the formula of docs/gpipe.md
    (computed here, not read from the binary) and to the JSON's theory fields.
Run: python3 tests/docs/check_sweep_plot.py build/bin/pipelab. Exit 0 when all hold.
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"


def doc_theory(K, M, remat):
    """Ideal speedup and bubble from docs/gpipe.md (remat at the nominal F:B:R = 1:2:1)."""
    if not remat:  # utilization M/(M+K-1), speedup K·M/(M+K-1)
        u, u_naive = M / (M + K - 1), 1 / K
    else:  # utilization M(F+B+R)/(M(F+B+R)+(K-1)(F+B)), naive is M = 1
        F, B, R = 1.0, 2.0, 1.0
        u = M * (F + B + R) / (M * (F + B + R) + (K - 1) * (F + B))
        u_naive = (F + B + R) / ((F + B + R) + (K - 1) * (F + B))
    return u / u_naive, 100 * (1 - u)


def near(a, b, rtol=1e-12):
    return abs(a - b) <= rtol * max(abs(a), abs(b), 1e-300)


def to_px(panel, m, value):
    a = {k: float(panel.get("data-" + k)) for k in ("x0", "y0", "width", "height", "m-min", "m-max",
                                                    "value-min", "value-max")}
    x = a["x0"] + a["width"] * math.log2(m / a["m-min"]) / math.log2(a["m-max"] / a["m-min"])
    y = a["y0"] + a["height"] * (1 - (value - a["value-min"]) / (a["value-max"] - a["value-min"]))
    return x, y


def check(binary, K, ms, remat, errors):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sweep.svg")
        args = [binary, "sweep", "--backend", "sim", "-K", str(K), "--layers", str(2 * K), "-M",
                ",".join(map(str, ms)), "--json", "-q", "--plot", path] + (["--remat"] if remat else [])
        proc = subprocess.run(args, capture_output=True, text=True)
        if proc.returncode != 0:
            errors.append(" ".join(args) + f": exit {proc.returncode}: {proc.stderr.strip()}")
            return
        runs = json.loads(proc.stdout)["runs"][1:]  # runs[0] is the naive baseline
        root = ET.parse(path).getroot()  # raises on a document that is not well-formed
    label = f"K={K} M={ms} remat={remat}"
    panels = {g.get("data-quantity"): g for g in root.iter(SVG + "g") if g.get("class") == "panel"}
    if set(panels) != {"speedup", "bubble"}:
        errors.append(f"{label}: panels {sorted(panels)}, want bubble and speedup")
        return
    for quantity, panel in panels.items():
        measured = {int(c.get("data-m")): c for c in panel.iter(SVG + "circle") if c.get("class") == "measured"}
        if sorted(measured) != sorted(ms):
            errors.append(f"{label} {quantity}: measured points at M={sorted(measured)}, swept {ms}")
            continue
        for run in runs:
            m = run["microbatches"]
            want = run["speedup_vs_naive"] if quantity == "speedup" else 100 * run["bubble_fraction"]
            c = measured[m]
            got = float(c.get("data-value"))
            x, y = to_px(panel, m, got)
            if not near(got, want) or abs(x - float(c.get("cx"))) > 0.01 or abs(y - float(c.get("cy"))) > 0.01:
                errors.append(f"{label} {quantity} M={m}: point {got} at ({c.get('cx')}, {c.get('cy')}), "
                              f"sweep {want} at ({x:.2f}, {y:.2f})")
        (curve,) = [p for p in panel.iter(SVG + "polyline") if p.get("class") == "theory"]
        curve_m = [int(v) for v in curve.get("data-m").split()]
        curve_v = [float(v) for v in curve.get("data-value").split()]
        points = [tuple(map(float, p.split(","))) for p in curve.get("points").split()]
        theory = dict(zip(curve_m, curve_v))
        for m, v, (x, y) in zip(curve_m, curve_v, points):
            ex, ey = to_px(panel, m, v)
            if abs(ex - x) > 0.01 or abs(ey - y) > 0.01:
                errors.append(f"{label} {quantity}: theory point M={m} at ({x}, {y}), axes say ({ex:.2f}, {ey:.2f})")
        for run in runs:
            m = run["microbatches"]
            speedup, bubble = doc_theory(K, m, remat)
            want = speedup if quantity == "speedup" else bubble
            json_want = run["theory"]["ideal_speedup"] if quantity == "speedup" else 100 * run["theory"]["bubble_fraction"]
            if m not in theory or not near(theory[m], want, 1e-9) or not near(theory[m], json_want):
                errors.append(f"{label} {quantity} M={m}: theory curve {theory.get(m)}, docs {want}, JSON {json_want}")
    legend = " ".join(t.text or "" for t in root.iter(SVG + "text") if t.get("class") == "legend")
    want_label = "theory (GPipe + remat, F:B:R = 1:2:1)" if remat else "theory (GPipe)"
    if want_label not in legend or "measured (sim)" not in legend:
        errors.append(f"{label}: legend {legend!r} lacks {want_label!r} or 'measured (sim)'")


def main(argv):
    if len(argv) != 2:
        print("usage: check_sweep_plot.py PATH/TO/pipelab", file=sys.stderr)
        return 2
    errors = []
    for K, ms, remat in [(4, [1, 2, 4, 8, 16, 32], False), (4, [1, 2, 4, 8, 16, 32], True),
                         (3, [3, 5, 12], False), (2, [6], True)]:
        check(argv[1], K, ms, remat, errors)
    for line in errors[:8]:
        print("FAILED " + line)
    print("check_sweep_plot: " + ("OK" if not errors else f"{len(errors)} problems"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
