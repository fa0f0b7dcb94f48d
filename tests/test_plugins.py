"""Plugins: --include files and folders, entry points, built-ins found without a list,
duplicate names, and the documented example end to end through the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

import tgibench.plugins as plugins
from tgibench.metrics import METRICS
from tgibench.models import MODELS, build_model
from tgibench.plugins import PluginError, include, load_installed_plugins, plugin_files
from tgibench.registry import Registry, RegistryError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "examples" / "my_plugin.py"


@pytest.fixture(autouse=True)
def isolated_registries(monkeypatch):
    """Plugins registered by a test are gone after it (the example registers a default
    metric, which other tests in this process must not score)."""
    for registry in (MODELS, METRICS):
        registry.names()  # built-ins loaded before the snapshot
        monkeypatch.setattr(registry, "_entries", dict(registry._entries))
        monkeypatch.setattr(registry, "_sources", dict(registry._sources))
    monkeypatch.setattr(plugins, "_included", {})


def _write(path: Path, code: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(code))
    return path


def _model_plugin(name: str) -> str:
    return f"""
        from tgibench.models import ModelBase, register_model

        @register_model({name!r})
        class Plugged(ModelBase):
            \"\"\"A plugin model (test only).\"\"\"

            def make_frames(self, request):
                return request.last.expand(request.num_frames, -1, -1, -1)
        """


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tgibench", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**base, **(env or {})},
        timeout=600,
    )


def test_include_a_file_registers_its_model_once(tmp_path):
    path = _write(tmp_path / "one.py", _model_plugin("test-plugin-one"))
    modules = include([path])
    assert modules == include([str(path)])  # imported once: no "registered twice"
    assert sys.modules[modules[0]].__file__ == str(path.resolve())
    first, last = torch.zeros(3, 4, 4), torch.ones(3, 4, 4)
    video = build_model("test-plugin-one").generate(first, last, "", 3)
    assert torch.equal(video, torch.ones(3, 3, 4, 4))
    assert str(path.resolve()) in MODELS.source("test-plugin-one")


def test_include_a_folder_imports_its_files_in_order(tmp_path):
    folder = tmp_path / "plugins"
    _write(folder / "b.py", _model_plugin("test-plugin-b"))
    _write(folder / "a.py", _model_plugin("test-plugin-a"))
    _write(folder / "_helper.py", "raise RuntimeError('a private module is not a plugin')\n")
    _write(folder / "notes.txt", "not python\n")
    assert [p.name for p in plugin_files(folder)] == ["a.py", "b.py"]
    include([folder])
    assert {"test-plugin-a", "test-plugin-b"} <= set(MODELS.names())


def test_include_errors_name_the_file(tmp_path):
    with pytest.raises(PluginError, match="no such file or folder"):
        include([tmp_path / "missing.py"])
    with pytest.raises(PluginError, match="not a .py file"):
        include([_write(tmp_path / "x.txt", "")])
    with pytest.raises(PluginError, match="has no .py files"):
        (tmp_path / "empty").mkdir()
        include([tmp_path / "empty"])
    broken = _write(tmp_path / "broken.py", "import tgibench\nraise ImportError('needs foo')\n")
    with pytest.raises(
        PluginError, match=r"broken.py: importing it failed: ImportError: needs foo"
    ):
        include([broken])
    assert not any(m.startswith("tgibench_plugin_broken") for m in sys.modules)


def test_a_plugin_clashing_with_a_builtin_names_both(tmp_path):
    MODELS.names()  # built-ins loaded
    path = _write(tmp_path / "clash.py", _model_plugin("flow"))
    with pytest.raises(PluginError) as err:
        include([path])
    message = str(err.value)
    assert "model 'flow' is registered twice" in message
    assert "tgibench.models.classical" in message and str(path.resolve()) in message
    assert MODELS.get("flow").__module__ == "tgibench.models.classical"


def test_builtins_are_found_by_scanning_and_clashes_name_both(tmp_path, monkeypatch):
    """A registry's built-ins are every module of its package (no list), found after a
    plugin registered; a clash found then names the plugin file and the built-in file."""
    package = tmp_path / "site" / "regpkg"
    _write(
        package / "__init__.py",
        "from tgibench.registry import Registry\nREG = Registry('thing', ('regpkg',))\n",
    )
    _write(
        package / "alpha.py",
        "from regpkg import REG\nREG.register('alpha')(lambda: 1)\nREG.register('x')(lambda: 2)\n",
    )
    _write(package / "beta.py", "from regpkg import REG\nREG.register('beta')(lambda: 3)\n")
    _write(package / "_skipped.py", "raise RuntimeError('never imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    import regpkg

    assert regpkg.REG._entries == {}  # nothing imported before the first lookup
    plugin = _write(tmp_path / "dup.py", "from regpkg import REG\nREG.register('x')(lambda: 9)\n")
    include([plugin])
    with pytest.raises(RegistryError) as err:
        regpkg.REG.get("beta")
    message = str(err.value)
    assert "thing 'x' is registered twice" in message
    assert str(plugin.resolve()) in message and str(package / "alpha.py") in message


def _install_entry_points(site: Path, dist: str, points: dict[str, str], module: str) -> None:
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"  # as wheels name it
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = "".join(f"{k} = {v}\n" for k, v in points.items())
    (info / "entry_points.txt").write_text(f"[tgibench.plugins]\n{lines}")
    (site / f"{dist.replace('-', '_')}.py").write_text(textwrap.dedent(module))


def test_entry_points_load_once_module_or_function(tmp_path, monkeypatch):
    site = tmp_path / "site"
    module = textwrap.dedent(_model_plugin("test-ep-module")) + textwrap.dedent(
        """
        def register():
            register_model("test-ep-function")(Plugged)
        """
    )
    _install_entry_points(
        site,
        "tgibench-ep-demo",
        {"mod": "tgibench_ep_demo", "fn": "tgibench_ep_demo:register"},
        module,
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(plugins, "_installed_loaded", False)
    assert sorted(load_installed_plugins()) == ["fn", "mod"]
    assert load_installed_plugins() == []  # once per process
    assert {"test-ep-module", "test-ep-function"} <= set(MODELS.names())


def test_a_failing_entry_point_names_its_package(tmp_path, monkeypatch):
    site = tmp_path / "site"
    _install_entry_points(site, "tgibench-ep-bad", {"bad": "tgibench_ep_bad"}, "1 / 0\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(plugins, "_installed_loaded", False)
    with pytest.raises(PluginError, match=r"'bad' = 'tgibench_ep_bad' of package tgibench-ep-bad"):
        load_installed_plugins()


@pytest.mark.slow
def test_entry_point_plugins_reach_the_command_line(tmp_path):
    site = tmp_path / "site"
    _install_entry_points(
        site, "tgibench-ep-cli", {"cli": "tgibench_ep_cli"}, _model_plugin("ep-cli")
    )
    listed = _cli("models", env={"PYTHONPATH": f"{REPO}{os.pathsep}{site}"})
    assert listed.returncode == 0, listed.stderr
    assert "ep-cli" in listed.stdout and "A plugin model (test only)." in listed.stdout


def test_importing_the_registry_and_the_cli_stays_cheap():
    code = (
        "import sys, tgibench.registry, tgibench.plugins, tgibench.cli; "
        "print(sorted(m for m in ('torch', 'importlib.metadata', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
    )
    assert out.stdout.strip() == "[]"
    assert Registry("thing")._entries == {}


# ------------------------------------------------------------- the documented example


def test_extending_doc_shows_the_example_file_verbatim():
    doc = (REPO / "docs" / "extending.md").read_text()
    assert EXAMPLE.read_text() in doc


def test_example_model_with_sharpness_one_is_the_crossfade():
    include([EXAMPLE])
    g = torch.Generator().manual_seed(0)
    first, last = torch.rand(3, 8, 8, generator=g), torch.rand(3, 8, 8, generator=g)
    plain = build_model("crossfade").generate(first, last, "", 9)
    assert torch.equal(build_model("eased:sharpness=1").generate(first, last, "", 9), plain)
    eased = build_model("eased").generate(first, last, "", 9)  # sharpness 2: t²/(t² + (1-t)²)
    t = np.linspace(0, 1, 9)
    s = t**2 / (t**2 + (1 - t) ** 2)
    expected = (1 - s)[:, None, None, None] * first.numpy() + s[:, None, None, None] * last.numpy()
    np.testing.assert_allclose(eased.numpy(), expected, atol=1e-6)


def test_example_mean_speed_reads_the_shared_motion_of_a_known_pan():
    from conftest import natural_pan

    from tgibench.features.backbones import Backbones
    from tgibench.features.store import FeatureStore, ScoringInputs
    from tgibench.video import to_uint8

    include([EXAMPLE])
    metric = METRICS.get("mean_speed")
    assert not metric.default and metric.features == ("motion",)
    store = FeatureStore(ScoringInputs(video=to_uint8(natural_pan(9, 12.0))), Backbones())
    assert metric.compute(store) == pytest.approx(1.5, abs=0.15)  # 12 px over 8 frame steps
    assert store.computed == ["motion"]


def _jump_ratio(video: np.ndarray) -> float:
    """Independent jump ratio of a (T, H, W, 3) uint8 video."""
    changes = np.abs(np.diff(video.astype(np.float64) / 255, axis=0)).mean(axis=(1, 2, 3))
    return float(changes.max() / changes.mean()) if changes.mean() > 0 else 1.0


@pytest.mark.slow
def test_example_plugin_end_to_end(tmp_path):
    from tgibench.video import read_video

    out = tmp_path / "run"
    args = ["--model", "eased:sharpness=3", "--metrics", "jump_ratio,psnr", "--bench", "mini"]
    args += ["--lengths", "25", "--out", str(out), "--quiet"]
    run = _cli("evaluate", "--include", str(EXAMPLE), *args)
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert rows and all("error" not in r for r in rows)
    for row in rows:
        video = read_video(out / "videos" / f"{row['case_id']}.mp4", dtype=torch.uint8)
        assert row["jump_ratio"] == pytest.approx(
            _jump_ratio(video.permute(0, 2, 3, 1).numpy()), rel=1e-5
        )
        assert 1.0 <= row["jump_ratio"] <= 24
    record = json.loads((out / "run.json").read_text())
    assert record["metrics"]["jump_ratio"]["higher_is_better"] is False
    board = _cli("leaderboard", str(out), "--format", "md")
    assert board.returncode == 0, board.stderr
    assert "jump_ratio ↓" in board.stdout and "| eased:sharpness=3.0 |" in board.stdout
    # resuming without --include cannot find the plugin, and says what to do
    again = _cli("evaluate", *args)
    assert again.returncode == 2 and "needs `--include FILE` (again when resuming" in again.stderr
