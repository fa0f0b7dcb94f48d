"""tgibench installed from its wheel, outside the repository: every command has what it reads
(the mini-bench, its manifest, the paper's numbers, the docs its messages point at)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tgibench.features.backbones import BACKBONES
from tgibench.handbook import read, topics

REPO = Path(__file__).resolve().parents[1]


def test_every_section_that_a_message_points_at_exists():
    assert {"weights", "data", "metrics", "extending", "reliability"} <= set(topics())
    for name in BACKBONES.names():
        assert read(f"weights#{BACKBONES.get(name).anchor}").startswith("#")
    with pytest.raises(KeyError, match="its sections: "):
        read("weights#no-such-section")


@pytest.mark.slow
def test_the_installed_wheel_runs_its_commands_outside_the_repository(tmp_path):
    wheels, site, elsewhere = tmp_path / "wheels", tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    built = subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(wheels), str(REPO)], capture_output=True, text=True
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = wheels.glob("tgibench-*.whl")
    installed = subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    env = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}

    def tgibench(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tgibench", *args],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
        )

    where = subprocess.run(
        [sys.executable, "-c", "import tgibench; print(tgibench.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert where.stdout.startswith(str(site)), where.stdout  # the wheel's copy, not the clone's
    verified = tgibench("data", "verify", "mini")
    assert verified.returncode == 0 and verified.stdout.startswith("ok:"), verified.stderr
    select = ["--lengths", "25", "--challenges", "linear motion", "--metrics", "psnr"]
    evaluated = tgibench("evaluate", "--model", "hold", *select, "--out", "run", "-q", "-w", "1")
    assert evaluated.returncode == 0, evaluated.stderr
    board = tgibench("leaderboard", "run", "--reported")
    assert board.returncode == 0 and "paper" in board.stdout.lower(), board.stderr
    shown = tgibench("docs", "weights#clip")
    assert shown.returncode == 0 and "TGIBENCH_CLIP" in shown.stdout, shown.stderr
    listed = tgibench("metrics")
    assert "tgibench docs weights#clip" in listed.stdout and "docs/weights.md" not in listed.stdout
