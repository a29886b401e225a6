"""bench/profile.py's summary: ncu's `--csv --page details` rows, one a
metric, become one table row a kernel, named from launches.json in launch
order, durations in microseconds whatever unit ncu chose."""

import importlib.util
import json
import os

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "profile.py")
spec = importlib.util.spec_from_file_location("bench_profile", SCRIPT)
profile = importlib.util.module_from_spec(spec)
spec.loader.exec_module(profile)

HEADER = (
    '"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size",'
    '"Grid Size","Device","CC","Section Name","Metric Name","Metric Unit","Metric Value"\n'
)


def metric(kernel_id, name, section, metric_name, unit, value):
    return (
        f'"{kernel_id}","1","python3","host","{name}","1","7","(128, 1, 1)","(8, 1, 1)","0","9.0",'
        f'"{section}","{metric_name}","{unit}","{value}"\n'
    )


def summarized(tmp_path, metrics, launches, table=None):
    """The header line and the cells of each row of `table` (default
    profile.summarize) over an ncu CSV of `metrics` lines and launches."""
    csv_path = tmp_path / "ncu.csv"
    csv_path.write_text(HEADER + "".join(metrics))
    (tmp_path / "launches.json").write_text(json.dumps(launches))
    lines = (table or profile.summarize)(str(csv_path), str(tmp_path / "launches.json")).splitlines()
    return lines[0], [[cell.strip() for cell in line.split("|")[1:-1]] for line in lines[2:]]


def test_one_row_a_kernel_in_launch_order(tmp_path):
    csv_path = tmp_path / "ncu.csv"
    csv_path.write_text(
        "==PROF== Connected to process 1\n"
        + HEADER
        + metric(0, "conv_conv0_spectrum", "GPU Speed Of Light Throughput", "Duration", "ns", "7,232")
        + metric(0, "conv_conv0_spectrum", "GPU Speed Of Light Throughput", "DRAM Throughput", "%", "6.61")
        + metric(1, "conv_conv0", "GPU Speed Of Light Throughput", "Duration", "ms", "1.36")
        + metric(1, "conv_conv0", "Launch Statistics", "Registers Per Thread", "register/thread", "105")
    )
    launches = [{"config": "bench-a", "kernel": "conv_conv0_spectrum"}, {"config": "bench-a", "kernel": "conv_conv0"}]
    (tmp_path / "launches.json").write_text(json.dumps(launches))
    table = profile.summarize(str(csv_path), str(tmp_path / "launches.json")).splitlines()
    assert table[0].startswith("| kernel | time us | SM % | DRAM %")
    assert len(table) == 4
    spectrum = [cell.strip() for cell in table[2].split("|")[1:-1]]
    conv = [cell.strip() for cell in table[3].split("|")[1:-1]]
    assert spectrum[:2] == ["bench-a:conv_conv0_spectrum", "7.2"] and spectrum[3] == "6.61"
    # 1.36 ms in microseconds; a metric ncu did not report stays empty.
    assert conv[:3] == ["bench-a:conv_conv0", "1360.0", ""] and conv[len(profile.SUMMARY)] == "105"


def test_bounds_in_absolute_terms(tmp_path):
    # 40% of the HMMA pipe's peak and 2% of the GMMA's, of 989 TFLOP/s;
    # 1e6 shared wavefronts of 128 bytes in 100 us; DRAM at 1.5 TB/s.
    csv_path = tmp_path / "ncu.csv"
    section = "Command line profiler metrics"
    csv_path.write_text(
        HEADER
        + metric(0, "conv_conv0", "GPU Speed Of Light Throughput", "Duration", "us", "100")
        + metric(0, "conv_conv0", section, profile.TENSOR_PIPES[0], "%", "40")
        + metric(0, "conv_conv0", section, profile.TENSOR_PIPES[1], "%", "2")
        + metric(0, "conv_conv0", section, profile.SHARED_WAVEFRONTS, "", "1,000,000")
        + metric(0, "conv_conv0", section, profile.DRAM_RATE, "Tbyte/second", "1.5")
        + metric(1, "conv_conv1", "GPU Speed Of Light Throughput", "Duration", "nsecond", "5000")
    )
    launches = [{"config": "bench-a", "kernel": "conv_conv0"}, {"config": "bench-a", "kernel": "conv_conv1"}]
    (tmp_path / "launches.json").write_text(json.dumps(launches))
    table = profile.summarize(str(csv_path), str(tmp_path / "launches.json")).splitlines()
    assert table[0].endswith("| tensor TFLOP/s | smem GB/s | HBM GB/s |")
    conv = [cell.strip() for cell in table[2].split("|")[1:-1]]
    assert conv[-3:] == ["415", "1280", "1500"]
    # A kernel without those metrics leaves them empty; base units read.
    other = [cell.strip() for cell in table[3].split("|")[1:-1]]
    assert other[1] == "5.0" and other[-3:] == ["", "", ""]


def test_a_metric_ncu_reports_as_na_is_left_out(tmp_path):
    # H200 and ncu report the GMMA pipe as "n/a" for every kernel: the
    # tensor cell is the HMMA pipe's alone.
    section = "Command line profiler metrics"
    _, rows = summarized(tmp_path, [
        metric(0, "conv_conv0", "GPU Speed Of Light Throughput", "Duration", "us", "100"),
        metric(0, "conv_conv0", section, profile.TENSOR_PIPES[0], "%", "10"),
        metric(0, "conv_conv0", section, profile.TENSOR_PIPES[1], "", "n/a"),
    ], [{"config": "bench-a", "kernel": "conv_conv0"}])
    assert rows[0][-3] == "99"


def test_one_row_a_configuration_time_weighted(tmp_path):
    # Two convolution kernels (300 us at 80% issue, 100 us at 40%) and a
    # spectrum kernel: 400 us ours, issue (300 * 80 + 100 * 40) / 400 = 70.
    sol = "GPU Speed Of Light Throughput"
    cwa = "Compute Workload Analysis"
    header, rows = summarized(tmp_path, [
        metric(0, "conv_conv0_spectrum", sol, "Duration", "us", "50"),
        metric(0, "conv_conv0_spectrum", cwa, "Issue Slots Busy", "%", "10"),
        metric(1, "conv_conv0_outer", sol, "Duration", "us", "300"),
        metric(1, "conv_conv0_outer", cwa, "Issue Slots Busy", "%", "80"),
        metric(2, "conv_conv0_inner", sol, "Duration", "ms", "0.1"),
        metric(2, "conv_conv0_inner", cwa, "Issue Slots Busy", "%", "40"),
        metric(3, "conv_conv0", sol, "Duration", "us", "20"),
    ], [{"config": "bench-a", "kernel": "conv_conv0_spectrum"}, {"config": "bench-a", "kernel": "conv_conv0_outer"},
        {"config": "bench-a", "kernel": "conv_conv0_inner"}, {"config": "bench-b", "kernel": "conv_conv0"}],
        profile.summarize_rows)
    assert header.startswith("| configuration | ours us | spectrum us | issue %")
    assert rows[0][:4] == ["bench-a", "400.0", "50.0", "70"]
    # A configuration whose kernels lack a metric leaves its cell empty.
    assert rows[1][:4] == ["bench-b", "20.0", "0.0", ""]
