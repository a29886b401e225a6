#!/usr/bin/env python3
"""Record benchmark runs in bench/results: append each run's rows to
history.csv (one row per configuration and run, the run's stamp first) and
keep the newest run's table and plot as latest.md and latest.png.

    /usr/bin/python3 scripts/record_bench.py OUT/bench-<stamp>.csv [...]

bench/bench.py writes bench-<stamp>.{csv,md,png} side by side (on the GPU
machine, under $OUT); give it the CSVs, oldest first. A run already in the
history is not added twice. Needs only the standard library.
"""

import argparse
import csv
import os
import re
import shutil
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(REPO, "bench", "results")
STAMP = re.compile(r"bench-(\d{4}-\d{2}-\d{2}-\d{4})\.csv$")


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def record(paths, results=RESULTS):
    history_path = os.path.join(results, "history.csv")
    history = read_rows(history_path) if os.path.exists(history_path) else []
    known = {row["run"] for row in history}
    added = []
    for path in paths:
        match = STAMP.search(os.path.basename(path))
        if not match:
            raise SystemExit(f"{path}: not a bench-<stamp>.csv of bench/bench.py")
        stamp = match.group(1)
        if stamp in known:
            continue
        history += [dict(row, run=stamp) for row in read_rows(path)]
        known.add(stamp)
        added.append(path)
    # Columns in first-seen order, the run first: older runs lack newer
    # columns and leave them empty.
    columns = ["run"]
    for row in history:
        columns += [key for key in row if key not in columns]
    with open(history_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(history)
    if paths:
        newest = max(paths, key=lambda p: STAMP.search(os.path.basename(p)).group(1))
        for suffix in (".md", ".png"):
            source = newest[: -len(".csv")] + suffix
            if os.path.exists(source):
                shutil.copyfile(source, os.path.join(results, "latest" + suffix))
    return added


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="+", help="bench-<stamp>.csv files of bench/bench.py")
    parser.add_argument("--results", default=RESULTS)
    args = parser.parse_args()
    added = record(args.csv, args.results)
    print(f"{len(added)} run(s) added to {os.path.join(args.results, 'history.csv')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
