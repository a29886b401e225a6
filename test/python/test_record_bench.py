"""scripts/record_bench.py: benchmark runs appended to one history CSV, the
newest run's table and plot kept as latest.*."""

import csv
import importlib.util
import os

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "record_bench.py")
spec = importlib.util.spec_from_file_location("record_bench", SCRIPT)
record_bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(record_bench)


def write_run(folder, stamp, rows, columns):
    path = folder / f"bench-{stamp}.csv"
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    (folder / f"bench-{stamp}.md").write_text(f"table of {stamp}\n")
    return str(path)


def test_runs_are_appended_once_with_their_stamp(tmp_path):
    out, results = tmp_path / "out", tmp_path / "results"
    out.mkdir()
    results.mkdir()
    old = write_run(out, "2026-01-01-0000", [{"config": "a", "ours_ms": "1.0"}], ["config", "ours_ms"])
    new = write_run(out, "2026-01-02-0000", [{"config": "a", "ours_ms": "0.5", "kernels": "single, half"}],
                    ["config", "ours_ms", "kernels"])
    assert len(record_bench.record([old, new], str(results))) == 2
    assert record_bench.record([new], str(results)) == []  # already recorded
    with open(results / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["run"], r["ours_ms"], r["kernels"]) for r in rows] == [
        ("2026-01-01-0000", "1.0", ""), ("2026-01-02-0000", "0.5", "single, half")]
    assert (results / "latest.md").read_text() == "table of 2026-01-02-0000\n"


def test_other_files_are_refused(tmp_path):
    other = tmp_path / "results.csv"
    other.write_text("config\n")
    with pytest.raises(SystemExit, match="not a bench-<stamp>.csv"):
        record_bench.record([str(other)], str(tmp_path))
