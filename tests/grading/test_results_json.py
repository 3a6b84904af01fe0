#!/usr/bin/env python3
"""test_results_json.py — scripts/check-results-json must accept the documented
Gradescope format and reject each kind of broken file (ctest grader.ResultsJsonValidator).
The good document is written here by hand from the format's documentation."""
import json
import os
import subprocess
import sys
import tempfile

CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "check-results-json")

GOOD = {"score": 5, "execution_time": 3, "output": "Score: 5/10", "extra_data": {"max_score": 10},
        "tests": [{"name": "ex01 A", "number": "1.1", "tags": ["ex01"], "score": 5, "max_score": 5,
                   "status": "passed", "output": "OK"},
                  {"name": "ex01 B", "number": "1.2", "score": 0, "max_score": 5, "status": "failed",
                   "output": "FAIL", "visibility": "visible"},
                  {"name": "ex08 C", "score": 0, "max_score": 0, "output": "not graded here (no GPU)"}]}


def broken(change):
    doc = json.loads(json.dumps(GOOD))
    change(doc)
    return doc


BAD = {
    "float execution_time": broken(lambda d: d.update(execution_time=2.7)),
    "unknown top-level key": broken(lambda d: d.update(maximum=10)),
    "unknown test key": broken(lambda d: d["tests"][0].update(points=5)),
    "status not passed/failed": broken(lambda d: d["tests"][0].update(status="ok")),
    "score above max_score": broken(lambda d: d["tests"][0].update(score=6)),
    "score given as a string": broken(lambda d: d["tests"][1].update(score="0")),
    "sum mismatch": broken(lambda d: d.update(score=7)),
    "bad visibility": broken(lambda d: d.update(visibility="students")),
    "tags not strings": broken(lambda d: d["tests"][0].update(tags=[1])),
    "no score anywhere": broken(lambda d: (d.pop("score"), d["tests"][2].pop("score"))),
}


def run(doc):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(doc, f)
    try:
        return subprocess.run([sys.executable, CHECK, f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)


def main():
    failures = 0
    r = run(GOOD)
    if r.returncode != 0:
        print(f"FAIL: the documented format was rejected:\n{r.stdout}{r.stderr}")
        failures += 1
    for what, doc in BAD.items():
        r = run(doc)
        if r.returncode != 1:
            print(f"FAIL: {what}: accepted (exit {r.returncode}): {r.stdout.strip()}")
            failures += 1
        else:
            print(f"ok: {what}: {r.stdout.strip()}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
