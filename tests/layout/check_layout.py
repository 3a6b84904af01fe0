#!/usr/bin/env python3
"""check_layout.py — the module boundaries (core/README.md, README "Layout"), as a test.

Fails, naming the file and line, when:
  1. a file under kernels/ includes a pipelab header other than base/'s
     (pipelab/error.h, pipelab/rng.h, pipelab/name_table.h) or kernels' own (pipelab/kernels/...);
  2. core/ includes anything from visualizer/, labs/, tests/ or bench/ (the CLI in
     core/cli/ is the one exception for bench/: `pipelab bench` links pipelab_bench);
  3. the runner (core/src/runtime/) tests PIPELAB_HAVE_CUDA or names CudaBackend:
     backends are reached through the Backend interface and make_backend();
  4. any source includes a .cpp file, or reaches into another module's src/ by a
     relative path ("../../core/src/...");
  5. a C++ file under core/ is longer than 450 lines (split it along its seams).
Usage: check_layout.py [REPO_ROOT]
"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
SOURCE = re.compile(r"\.(c|cc|cpp|h|hpp|cu|cuh)$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
MAX_CORE_LINES = 450
problems = []


def files_under(folder):
    for base, dirs, names in os.walk(os.path.join(ROOT, folder)):
        dirs[:] = [d for d in dirs if not d.startswith("build")]
        for name in sorted(names):
            if SOURCE.search(name):
                yield os.path.join(base, name)


def rel(path):
    return os.path.relpath(path, ROOT)


def lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()


KERNEL_OK = re.compile(r"^pipelab/(error\.h|rng\.h|name_table\.h|kernels/)")
for path in files_under("kernels"):
    for n, line in enumerate(lines(path), 1):
        m = INCLUDE.match(line)
        if m and m.group(1).startswith("pipelab/") and not KERNEL_OK.match(m.group(1)):
            problems.append(f"{rel(path)}:{n}: kernels/ includes {m.group(1)} (only base/ and kernels/ headers)")

CORE_BAD = re.compile(r"(^|/)(visualizer|labs|tests|bench)/|^pipelab_viz/|^pipelab/bench\.h$")
for path in files_under("core"):
    text = lines(path)
    for n, line in enumerate(text, 1):
        m = INCLUDE.match(line)
        in_cli = rel(path).startswith(os.path.join("core", "cli") + os.sep)
        if m and CORE_BAD.search(m.group(1)) and not (in_cli and "bench" in m.group(1)):
            problems.append(f"{rel(path)}:{n}: core/ includes {m.group(1)}")
    if len(text) > MAX_CORE_LINES:
        problems.append(f"{rel(path)}: {len(text)} lines (over {MAX_CORE_LINES}: split it along its seams)")

for path in files_under(os.path.join("core", "src", "runtime")):
    for n, line in enumerate(lines(path), 1):
        if "PIPELAB_HAVE_CUDA" in line or "CudaBackend" in line:
            problems.append(f"{rel(path)}:{n}: the runner knows about cuda: {line.strip()}")

for folder in ("base", "core", "kernels", "bench", "fuzz", "tests", "visualizer", "exercises", "solutions"):
    for path in files_under(folder):
        for n, line in enumerate(lines(path), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = m.group(1)
            if target.endswith(".cpp") or target.endswith(".cc"):
                problems.append(f"{rel(path)}:{n}: includes a source file {target} (link a library instead)")
            elif re.search(r"\.\./.*\bsrc/", target):
                problems.append(f"{rel(path)}:{n}: reaches into another module's src/: {target}")

for p in problems:
    print(p)
print(f"layout: {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
