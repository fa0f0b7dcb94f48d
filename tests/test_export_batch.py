"""Your own model in its own environment: `tgibench data export`, a generation script that
does not import tgibench, `tgibench score`, and the `batch:` model (one program for all
cases, scored as the videos appear, resumable, never through a shell)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from tgibench.cli import app
from tgibench.data import BenchmarkError, load_benchmark
from tgibench.data.export import CASE_KEYS, export_cases
from tgibench.data.manifest import benchmark_fingerprint
from tgibench.eval.config import EvalConfig
from tgibench.eval.runner import evaluate
from tgibench.rundir import RESULTS_FILE, read_rows

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "examples" / "batch_crossfade.py"
runner = CliRunner()
SELECT = ["--lengths", "25", "--challenges", "linear motion"]  # 4 mini cases
METRICS = "psnr,ssim,lpips_frames,pace_stability"

# A batch program for the tests: the example's crossfade, with faults switched on by the
# environment (a run's spec must not change between a crash and its resume)
PROGRAM = f"""
import json, os, sys, time, runpy
from pathlib import Path
example = runpy.run_path({str(EXAMPLE)!r})
import numpy as np
from PIL import Image
args = sys.argv[1:]
cases_file, log = Path(args[args.index("--cases") + 1]), Path(args[args.index("--log") + 1])
lines = cases_file.read_text().splitlines()
with log.open("a") as out:
    out.write(json.dumps([json.loads(l)["case_id"] for l in lines]) + "\\n")
die_after = int(os.environ.get("BATCH_DIE_AFTER", "-1"))
for done, line in enumerate(lines):
    if done == die_after:
        print("simulated crash", file=sys.stderr)
        sys.exit(3)
    case = json.loads(line)
    if os.environ.get("BATCH_HANG") and done == 1:
        time.sleep(600)
    if case["case_id"] == os.environ.get("BATCH_FAIL"):
        Path(case["video"] + ".failed").write_text("out of memory")
        continue
    first = np.asarray(Image.open(case["first"]).convert("RGB"))
    last = np.asarray(Image.open(case["last"]).convert("RGB"))
    example["write_mp4"](Path(case["video"]), example["inbetween"](first, last, "", case["num_frames"]))
    time.sleep(float(os.environ.get("BATCH_DELAY", "0")))
"""


@pytest.fixture(scope="module")
def linear25():
    return load_benchmark("mini", lengths=[25], challenges=["linear motion"])


def test_export_writes_the_contract_and_exact_keyframes(linear25, tmp_path):
    full = load_benchmark("mini")
    summary = export_cases(linear25, benchmark_fingerprint(full), "mini", tmp_path)
    assert summary.cases == 4 and summary.written == 8
    lines = [json.loads(line) for line in (tmp_path / "cases.jsonl").read_text().splitlines()]
    assert [list(line) for line in lines] == [list(CASE_KEYS)] * 4
    for line, case in zip(lines, linear25, strict=True):
        assert line["case_id"] == case.case_id and line["caption"] == case.caption
        assert line["video"] == f"videos/{case.case_id}.mp4"
        frames = case.load_frames(torch.uint8)
        for key, index in (("first", 0), ("last", case.num_frames - 1)):
            png = np.asarray(Image.open(tmp_path / line[key]))
            assert np.array_equal(png, frames[index].permute(1, 2, 0).numpy())
    assert "num_frames" in (tmp_path / "README.txt").read_text()
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    again = export_cases(linear25, benchmark_fingerprint(full), "mini", tmp_path)
    assert (again.written, again.unchanged) == (0, 8)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == before


def test_export_into_another_benchmarks_export_is_refused(linear25, tgi_root, tmp_path):
    export_cases(linear25, benchmark_fingerprint(load_benchmark("mini")), "mini", tmp_path)
    other = load_benchmark(tgi_root)
    with pytest.raises(BenchmarkError, match="holds an export of 'mini'"):
        export_cases(other, benchmark_fingerprint(other), str(tgi_root), tmp_path)


@pytest.mark.slow
def test_round_trip_export_script_score_equals_evaluate(tmp_path):
    imports = [
        line for line in EXAMPLE.read_text().splitlines() if line.startswith(("import", "from"))
    ]
    assert not [line for line in imports if "tgibench" in line]  # the script stands alone
    export = tmp_path / "export"
    done = runner.invoke(app, ["data", "export", "mini", "--out", str(export), "-q", *SELECT])
    assert done.exit_code == 0, done.output
    script = subprocess.run(
        [sys.executable, str(EXAMPLE), "--cases", str(export / "cases.jsonl")],
        capture_output=True,
        text=True,
    )
    assert script.returncode == 0, script.stderr
    common = ["--out", "-q", "--workers", "1", "--metrics", METRICS]
    scored = runner.invoke(
        app, ["score", "--videos", str(export), *common[:1], str(tmp_path / "s"), *common[1:]]
    )
    assert scored.exit_code == 0, scored.output
    assert "matched: 4 of 4 cases" in scored.output
    reference = [
        "evaluate", "--model", "crossfade", "--bench", "mini", *SELECT, "--no-videos",
        *common[:1], str(tmp_path / "e"), *common[1:],
    ]  # fmt: skip
    assert runner.invoke(app, reference).exit_code == 0
    ours, theirs = (
        read_rows(tmp_path / "s" / RESULTS_FILE),
        read_rows(tmp_path / "e" / RESULTS_FILE),
    )
    assert [r["case_id"] for r in ours] == [r["case_id"] for r in theirs]
    for a, b in zip(ours, theirs, strict=True):
        for metric in METRICS.split(","):
            assert a[metric] == pytest.approx(b[metric], rel=1e-4, abs=1e-6), (a["case_id"], metric)


def _batch_config(work: Path, log: Path, **options: object) -> EvalConfig:
    """A batch run of the test program on the 4 linear-motion cases of 25 frames in
    ``work``/run; ``options`` are the batch model's."""
    work.mkdir(parents=True, exist_ok=True)
    program = work / "program.py"
    program.write_text(PROGRAM)
    extra = "".join(f",{k}={v}" for k, v in options.items())
    spec = f'batch:cmd="{sys.executable} {program} --cases {{cases}} --log {log}"{extra}'
    return EvalConfig(
        model=spec,
        bench="mini",
        out=work / "run",
        lengths=(25,),
        challenges=("linear motion",),
        metrics=("psnr",),
        save_videos=False,
    )


def _asked(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_batch_program_crash_keeps_rows_and_resume_asks_only_for_the_rest(
    tmp_path, monkeypatch, linear25
):
    log = tmp_path / "asked.jsonl"
    config = _batch_config(tmp_path, log)
    monkeypatch.setenv("BATCH_DIE_AFTER", "2")
    first = evaluate(config, progress=False)
    assert (first.scored, len(first.failed), first.left) == (2, 0, 2)
    assert "exited with code 3" in first.stopped and "simulated crash" in first.stopped
    assert len(read_rows(config.out / RESULTS_FILE)) == 2  # the two it made, scored
    monkeypatch.delenv("BATCH_DIE_AFTER")
    second = evaluate(config, progress=False)
    assert (second.scored, second.skipped, second.left) == (2, 2, 0) and second.ok
    ids = [c.case_id for c in linear25]
    assert _asked(log) == [ids, ids[2:]]
    rows = read_rows(config.out / RESULTS_FILE)
    assert sorted(r["case_id"] for r in rows) == sorted(ids)  # every row once
    assert all(r["psnr"] > 10 for r in rows)


def test_batch_reports_of_failure_stalls_and_no_shell(tmp_path, monkeypatch, linear25):
    log = tmp_path / "asked.jsonl"
    ids = [c.case_id for c in linear25]
    monkeypatch.setenv("BATCH_FAIL", ids[1])
    config = _batch_config(tmp_path, log)
    summary = evaluate(config, progress=False)
    assert [case for case, _ in summary.failed] == [ids[1]]
    assert "could not make this case: out of memory" in summary.failed[0][1]
    monkeypatch.delenv("BATCH_FAIL")
    retried = evaluate(EvalConfig(**{**config.__dict__, "retry_failed": True}), progress=False)
    assert retried.scored == 1 and retried.ok and _asked(log)[-1] == [ids[1]]

    hang = _batch_config(tmp_path / "hang", tmp_path / "hang.jsonl", case_timeout=2)
    monkeypatch.setenv("BATCH_HANG", "1")
    started = time.monotonic()
    stalled = evaluate(hang, progress=False)
    assert time.monotonic() - started < 60
    assert (stalled.scored, stalled.left) == (1, 3) and "case_timeout" in stalled.stopped


def test_batch_command_runs_without_a_shell(tmp_path):
    marker = tmp_path / "injected"
    spec = f'batch:cmd="{sys.executable} -c pass {{cases}} ; touch {marker} $(touch {marker})"'
    config = EvalConfig(
        model=spec, bench="mini", out=tmp_path / "run", lengths=(25,), metrics=("psnr",)
    )
    summary = evaluate(config, progress=False)
    assert summary.left == 14 and "exited with code 0" in summary.stopped
    assert not marker.exists()


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="the program's parent-death signal")
def test_batch_run_killed_resumes_with_every_row_once(tmp_path, linear25):
    log = tmp_path / "asked.jsonl"
    program = tmp_path / "program.py"
    program.write_text(PROGRAM)
    spec = f'batch:cmd="{sys.executable} {program} --cases {{cases}} --log {log}"'
    out = tmp_path / "run"
    command = [
        sys.executable, "-m", "tgibench", "evaluate", "--model", spec, "--bench", "mini",
        *SELECT, "--metrics", "psnr", "--no-videos", "--out", str(out), "-q",
    ]  # fmt: skip
    env = {**os.environ, "BATCH_DELAY": "1.5", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not read_rows(out / RESULTS_FILE) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(1.0)  # the program got SIGTERM when tgibench died
    made = {p.name.removesuffix(".mp4") for p in (out / "batch" / "videos").glob("*.mp4")}
    assert 1 <= len(made) < 4
    done = subprocess.run(command, env={**env, "BATCH_DELAY": "0"}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    ids = [c.case_id for c in linear25]
    assert _asked(log) == [ids, [i for i in ids if i not in made]]
    rows = read_rows(out / RESULTS_FILE)
    assert sorted(r["case_id"] for r in rows) == sorted(ids)
