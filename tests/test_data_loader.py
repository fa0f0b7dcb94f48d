"""The benchmark loader on TGI-Bench-layout fixtures: good, broken and hostile."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import record, write_tgi_layout

from tgibench.data import BenchmarkError, CaseError, load_benchmark, normalize_challenge
from tgibench.data.layout import select_frames


def test_loads_cases_with_first_n_frames(tgi_root):
    bench = load_benchmark(tgi_root)
    assert len(bench) == 5
    case = bench.get("aerobatics-25")
    assert case.num_frames == 25 and case.challenge == "dynamic motion"
    assert case.challenge_label == "Large motion"
    assert [p.name for p in case.frame_paths] == [f"{i:05d}.jpg" for i in range(25)]
    frames = case.frames
    assert frames.shape == (25, 3, 32, 48) and frames.dtype == torch.float32
    assert torch.equal(case.first, frames[0]) and torch.equal(case.last, frames[-1])
    # the 33-frame case of the same folder ends later: a different last keyframe
    assert bench.get("aerobatics-33").frame_paths[-1].name == "00032.jpg"


def test_filters_by_length_and_challenge_aliases(tgi_root):
    bench = load_benchmark(tgi_root, lengths=[25], challenges=["Large motion", "occlusion"])
    assert sorted(c.case_id for c in bench) == ["aerobatics-25", "car-turn-25"]
    assert {c.challenge for c in load_benchmark(tgi_root, lengths=[33])} == {
        "near-static",
        "dynamic motion",
    }
    with pytest.raises(BenchmarkError, match="no caption file for length"):
        load_benchmark(tgi_root, lengths=[65])


def test_unknown_challenge_is_kept_and_reported(tmp_path):
    root = write_tgi_layout(tmp_path, {"a": 25}, {25: [record("a", "Camera shake")]})
    with pytest.warns(UserWarning, match="Camera shake"):
        bench = load_benchmark(root)
    assert bench[0].challenge == "Camera shake"
    assert bench.unknown_challenges == {"Camera shake": 1}
    assert normalize_challenge("near_static") == ("near-static", True)


def test_missing_frames_and_short_folders_become_defects(tmp_path):
    root = write_tgi_layout(
        tmp_path,
        {"short": 20, "gap": 25, "ok": 25},
        {25: [record("short"), record("gap"), record("ok"), record("absent")]},
    )
    (root / "TGI-Dataset" / "gap" / "00007.jpg").unlink()
    bench = load_benchmark(root)
    defects = {c.case_id: c.defect for c in bench.defects}
    assert "has 20 frames" in defects["short-25"]
    assert "frame 00007 is missing" in defects["gap-25"]
    assert "not found" in defects["absent-25"]
    with pytest.raises(CaseError, match="case gap-25: .*00007"):
        bench.get("gap-25").frames
    assert bench.get("ok-25").frames.shape[0] == 25


def test_bad_json_and_bad_entries(tmp_path):
    root = write_tgi_layout(tmp_path, {"a": 33}, {25: [record("a")]})
    (root / "33_dataset_caption.json").write_text("[{not json")
    with pytest.raises(BenchmarkError, match="33_dataset_caption.json: not valid JSON"):
        load_benchmark(root)
    (root / "33_dataset_caption.json").write_text(json.dumps({"folder": "a"}))
    with pytest.raises(BenchmarkError, match="expected a JSON list"):
        load_benchmark(root)
    entries = [
        record("a"),
        {"folder": "a", "caption": 3},
        "oops",
        {**record("a"), "challenge": None},
    ]
    (root / "33_dataset_caption.json").write_text(json.dumps(entries))
    bench = load_benchmark(root, lengths=[33])
    problems = [c.defect for c in bench]
    assert problems[0] is None
    assert "missing key(s) first_image_desc" in problems[1]
    assert "expected an object" in problems[2]
    assert "key(s) challenge must be strings" in problems[3]


@pytest.mark.parametrize("folder", ["../outside", "/etc", "..", "a/../../x", "sub/dir", " a"])
def test_folder_names_that_escape_are_refused(tmp_path, folder):
    root = write_tgi_layout(tmp_path / "b", {"a": 25}, {25: [record("a"), record(folder)]})
    bench = load_benchmark(root)
    bad = [c for c in bench if c.folder == folder][0]
    assert "refused" in bad.defect
    assert "/" not in bad.case_id
    with pytest.raises(CaseError, match="refused"):
        bad.first


def test_symlinks_out_of_root_are_refused(tmp_path):
    outside = write_tgi_layout(tmp_path / "outside", {"secret": 25}, {})
    root = write_tgi_layout(
        tmp_path / "b", {"a": 25}, {25: [record("a"), record("link"), record("b")]}
    )
    os.symlink(outside / "TGI-Dataset" / "secret", root / "TGI-Dataset" / "link")
    (root / "TGI-Dataset" / "b").mkdir()
    for i in range(25):
        os.symlink(
            outside / "TGI-Dataset" / "secret" / f"{i:05d}.jpg",
            root / "TGI-Dataset" / "b" / f"{i:05d}.jpg",
        )
    bench = load_benchmark(root)
    assert "resolves outside" in bench.get("link-25").defect
    assert "symlink points outside" in bench.get("b-25").defect


def test_corrupt_frame_is_a_case_error(tgi_root):
    (tgi_root / "TGI-Dataset" / "car-turn" / "00010.jpg").write_bytes(b"not a jpeg")
    case = load_benchmark(tgi_root).get("car-turn-25")
    with pytest.raises(CaseError, match="car-turn-25: .*00010.jpg: not a readable image"):
        case.frames


def test_uniform_frame_rule():
    files = [Path(f"{i:05d}.jpg") for i in range(81)]
    picked = select_frames(files, 25, "uniform")
    assert picked[0].name == "00000.jpg" and picked[-1].name == "00080.jpg" and len(picked) == 25


def test_to_hf_dataset(tgi_root):
    dataset = load_benchmark(tgi_root, lengths=[25]).to_hf_dataset()
    assert len(dataset) == 3
    item = dataset[0]
    assert item["case_id"] == "aerobatics-25" and item["num_frames"] == 25
    assert item["first"].size == (48, 32)  # PIL (W, H)
    assert item["challenge"] == "dynamic motion"


def test_hf_cache_snapshot_loads_offline(tmp_path, tgi_root):
    """A dataset in the Hugging Face cache layout loads by its id with HF_HUB_OFFLINE=1."""
    home = tmp_path / "hf"
    repo = home / "hub" / "datasets--someone--TGI-Benchmark"
    revision = "0123456789abcdef0123456789abcdef01234567"
    snapshot = repo / "snapshots" / revision
    snapshot.parent.mkdir(parents=True)
    os.rename(tgi_root, snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    env = {**os.environ, "HF_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    code = "from tgibench.data import load_benchmark; b = load_benchmark('someone/TGI-Benchmark'); print(len(b), b.root)"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    count, root = done.stdout.split()
    assert count == "5" and Path(root) == snapshot
    code_missing = "from tgibench.data import load_benchmark; load_benchmark('someone/absent')"
    failed = subprocess.run(
        [sys.executable, "-c", code_missing], env=env, capture_output=True, text=True
    )
    assert failed.returncode != 0
    assert "HF_HUB_OFFLINE is set" in failed.stderr and "--local-dir" in failed.stderr


def test_unknown_source_message():
    with pytest.raises(BenchmarkError, match="neither 'mini', an existing directory"):
        load_benchmark("no such thing")
