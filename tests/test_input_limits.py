"""Bad input refused before it costs anything: videos and frame folders far larger than
their case, decompression-bomb images (keyframes included), truncated videos; a full disk;
two processes on one run."""

from __future__ import annotations

import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
import torch
from conftest import record, write_tgi_layout
from PIL import Image
from typer.testing import CliRunner

import tgibench.video.io as video_io
from tgibench.cli import app
from tgibench.eval.config import EvalConfig
from tgibench.eval.resume import RunError
from tgibench.eval.runner import evaluate
from tgibench.rundir import RESULTS_FILE, read_rows
from tgibench.video import ReadLimits, VideoError, read_frames, read_image, read_video, write_video

runner = CliRunner()


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any video frame or image pixel is decoded."""

    def decoded(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded before refusing")

    monkeypatch.setattr(video_io, "_READERS", {"pyav": decoded, "decord": decoded})
    monkeypatch.setattr(Image.Image, "load", decoded)


def _video(path: Path, frames: int, height: int, width: int) -> Path:
    gradient = torch.linspace(0, 1, width).expand(frames, 3, height, width)
    write_video(path, gradient.contiguous())
    return path


def test_limits_of_a_case_scale_with_its_frames_and_size(monkeypatch):
    limits = ReadLimits.for_case(25, (160, 288))
    assert (limits.max_frames, limits.max_pixels) == (100, 16 * 160 * 288)
    monkeypatch.setenv("TGIBENCH_MAX_FRAMES_FACTOR", "0")
    assert ReadLimits.for_case(25, (160, 288)).max_frames is None
    monkeypatch.setenv("TGIBENCH_MAX_FRAMES_FACTOR", "many")
    with pytest.raises(ValueError, match="TGIBENCH_MAX_FRAMES_FACTOR"):
        ReadLimits.for_case(25)


def test_a_video_with_far_more_frames_is_refused_without_decoding(tmp_path, no_decoding):
    path = _video(tmp_path / "long.mp4", 400, 32, 32)
    with pytest.raises(VideoError, match=r"400 frames, over the limit of 100 .*TGIBENCH_MAX"):
        read_video(path, limits=ReadLimits.for_case(25, (32, 32)))


def test_a_video_with_far_larger_frames_is_refused_without_decoding(tmp_path, no_decoding):
    path = _video(tmp_path / "big.mp4", 2, 720, 1280)
    with pytest.raises(VideoError, match="1280x720 frames, over the limit of 737280 pixels"):
        read_video(path, limits=ReadLimits.for_case(25, (160, 288)))


def test_a_frame_folder_with_far_more_frames_is_refused_without_decoding(tmp_path, no_decoding):
    paths = []
    for i in range(120):
        paths.append(tmp_path / f"{i:05d}.png")
        paths[-1].write_bytes(b"not even read")
    with pytest.raises(VideoError, match="120 frames, over the limit of 100"):
        read_frames(paths, limits=ReadLimits.for_case(25, (32, 32)))


def _png_bomb(path: Path, side: int = 20000) -> Path:
    """A valid grayscale PNG of side x side zeros: 400 MB of pixels in a 400 kB file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    compressor = zlib.compressobj(9)
    row = b"\0" * (side + 1)  # filter byte + pixels
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
    return path


def test_an_image_over_pillows_pixel_limit_is_refused_from_its_header(tmp_path, no_decoding):
    bomb = _png_bomb(tmp_path / "bomb.png")
    assert bomb.stat().st_size < 2_000_000
    started = time.perf_counter()
    with pytest.raises(VideoError, match="refused without decoding"):
        read_image(bomb)
    assert time.perf_counter() - started < 1.0


def test_a_bomb_keyframe_fails_its_case_and_the_run_goes_on(tmp_path):
    root = write_tgi_layout(
        tmp_path / "bench", {"a": 25, "b": 25}, {25: [record("a"), record("b")]}, size=(32, 48)
    )
    first = root / "TGI-Dataset" / "a" / "00000.jpg"
    first.unlink()
    _png_bomb(first.with_suffix(".png"), side=12000)  # 144 M pixels > Pillow's 89.5 M
    config = EvalConfig(model="crossfade", bench=str(root), out=tmp_path / "run", metrics=("psnr",))
    summary = evaluate(config, progress=False)
    assert summary.scored == 1 and [case for case, _ in summary.failed] == ["a-25"]
    assert "over Pillow's limit" in summary.failed[0][1]


def test_a_truncated_video_fails_its_case_with_a_clear_error(tmp_path):
    videos = tmp_path / "videos"
    bench = "mini"
    whole = _video(videos / "coffee_pan_right-25.mp4", 25, 160, 288)
    whole.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    done = runner.invoke(
        app,
        ["score", "--videos", str(videos), "--bench", bench, "--lengths", "25", "--out",
         str(tmp_path / "run"), "--metrics", "psnr", "-q", "--workers", "1"],
    )  # fmt: skip
    assert done.exit_code == 1
    rows = {r["case_id"]: r for r in read_rows(tmp_path / "run" / RESULTS_FILE)}
    assert "not a readable video" in rows["coffee_pan_right-25"]["error"]


def _mount_tmpfs(path: Path, size: str) -> None:
    path.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


@pytest.mark.skipif(sys.platform != "linux", reason="mounts a tmpfs")
def test_a_full_disk_stops_the_run_cleanly_and_the_same_command_finishes_it(tmp_path):
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "48m")
    try:
        filler = disk / "filler"
        filler.write_bytes(b"\0" * 46_000_000)  # leaves room for some videos, not all
        out = disk / "run"
        command = ["evaluate", "--model", "crossfade", "--bench", "mini", "--lengths", "25",
                   "--metrics", "psnr", "--out", str(out), "-q", "--workers", "1"]  # fmt: skip
        full = runner.invoke(app, command)
        assert full.exit_code == 2, full.output
        assert "the disk is full" in full.output and "run the same command again" in full.output
        rows = read_rows(out / RESULTS_FILE)
        assert 0 < len(rows) < 14 and not any("error" in r for r in rows)
        assert (out / RESULTS_FILE).read_bytes().endswith(b"\n")  # no partial row
        assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
        saved = {p.stem for p in (out / "videos").glob("*.mp4")}
        assert saved == {r["case_id"] for r in rows}  # every kept video is a scored one
        filler.unlink()
        again = runner.invoke(app, command)
        assert again.exit_code == 0, again.output
        final = read_rows(out / RESULTS_FILE)
        assert len(final) == 14 == len({r["case_id"] for r in final})
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_second_process_on_a_run_is_refused_naming_the_first(tmp_path):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"""
import sys, time
from pathlib import Path
from tgibench.eval.resume import locked
with locked(Path({str(out)!r})):
    print("locked", flush=True)
    time.sleep(60)
"""],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        config = EvalConfig(model="hold", bench="mini", out=out, lengths=(25,), metrics=("psnr",))
        with pytest.raises(RunError, match=rf"another run \(pid {holder.pid}\)"):
            evaluate(config, progress=False)
    finally:
        holder.kill()
        holder.wait()
