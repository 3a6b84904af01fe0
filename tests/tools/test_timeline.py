#!/usr/bin/env python3
"""tools.Timeline: labs/tools/timeline.py on a real trace and on the names students mistype.

    test_timeline.py PIPELAB_BINARY SOURCE_DIR

1. `compare --trace k.json` writes k-naive.json and k-gpipe.json, not k.json: timeline.py on
   k.json must fail with exactly one line that names both files (no traceback).
2. A file that does not exist, and one that is not JSON: one line each, exit status 1.
3. On k-gpipe.json, each device's "% busy" must equal the utilization pipelab's own JSON
   reports for the same run (independent: the script recomputes it from the spans).
"""
import json
import os
import subprocess
import sys
import tempfile


def run_timeline(source_dir, *args):
    return subprocess.run([sys.executable, os.path.join(source_dir, "labs/tools/timeline.py"), *args],
                          capture_output=True, text=True)


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def main():
    pipelab, source_dir = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        stem = os.path.join(tmp, "k")
        flags = ["--backend", "sim", "-K", "3", "-M", "4", "--layers", "6", "-q"]
        out = subprocess.run([pipelab, "compare", *flags, "--trace", stem + ".json", "--json"],
                             capture_output=True, text=True, check=True).stdout
        runs = {r["schedule"]: r for r in json.loads(out)["runs"]}

        r = run_timeline(source_dir, stem + ".json")
        lines = r.stderr.strip().splitlines()
        if r.returncode != 1 or len(lines) != 1 or "Traceback" in r.stderr:
            fail(f"missing compare stem: want one line and exit 1, got {r.returncode}: {r.stderr!r}")
        for name in ("k-naive.json", "k-gpipe.json"):
            if name not in lines[0]:
                fail(f"the message does not name {name}: {lines[0]!r}")

        r = run_timeline(source_dir, os.path.join(tmp, "absent.json"))
        if r.returncode != 1 or len(r.stderr.strip().splitlines()) != 1 or "Traceback" in r.stderr:
            fail(f"absent file: {r.returncode}: {r.stderr!r}")
        with open(os.path.join(tmp, "bad.json"), "w") as f:
            f.write("{ not json")
        r = run_timeline(source_dir, os.path.join(tmp, "bad.json"))
        if r.returncode != 1 or len(r.stderr.strip().splitlines()) != 1 or "Traceback" in r.stderr:
            fail(f"not JSON: {r.returncode}: {r.stderr!r}")

        r = run_timeline(source_dir, stem + "-gpipe.json")
        if r.returncode != 0:
            fail(f"timeline on a real trace failed: {r.stderr}")
        busy = [float(line.split("|")[-1].split("%")[0]) for line in r.stdout.splitlines() if line.startswith("GPU ")]
        want = [100 * u for u in runs["gpipe"]["utilization"]]
        if len(busy) != len(want) or any(abs(a - b) > 0.051 for a, b in zip(busy, want)):
            fail(f"busy % {busy} vs pipelab's utilization {want}")
    print("OK: timeline.py names the suffixed files, fails in one line, and agrees with pipelab's utilization")


if __name__ == "__main__":
    main()
