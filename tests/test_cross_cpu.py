"""Other CPUs, emulated on this one (benchmarks/cross_cpu.py): the mini-bench renders the same
bytes under every restriction of the libraries' kernel dispatch."""

from __future__ import annotations

import json

import pytest

from benchmarks.cross_cpu import machine_variants, render_hashes, variant_process

VARIANTS = {v.name: v for v in machine_variants()}
RENDER_VARIANTS = [name for name, v in VARIANTS.items() if not v.uses_torch or name == "oldest"]


@pytest.fixture(scope="module")
def rendered_here() -> dict[str, list[str]]:
    return render_hashes()


@pytest.mark.slow
@pytest.mark.parametrize("name", RENDER_VARIANTS)
def test_mini_bench_renders_the_same_bytes_on_every_cpu(
    name: str, rendered_here: dict[str, list[str]]
) -> None:
    # frames and JPEG files of every kind of scene: camera paths, cut-outs, footage shrunk
    # and enlarged (benchmarks/cross_cpu.py's SCENE_SAMPLES)
    done = variant_process(VARIANTS[name], ["render-hashes"], timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    theirs = json.loads(done.stdout)
    assert [k for k in rendered_here if theirs[k] != rendered_here[k]] == []
