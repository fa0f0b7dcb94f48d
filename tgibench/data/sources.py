"""Where a benchmark comes from: the bundled mini-bench, a local directory or the HF hub."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from tgibench.data.benchmark import Benchmark, BenchmarkError, load_root
from tgibench.data.layout import DEFAULT_FRAME_RULE
from tgibench.weights import hub_offline

#: The paper's dataset on the Hugging Face hub.
TGI_BENCH_HUB_ID = "use08174/TGI-Benchmark"
MINI_ROOT = Path(__file__).parent / "mini_bench"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def hub_snapshot(repo_id: str, revision: str | None = None) -> Path:
    """Local path of a dataset snapshot from the HF hub (or the HF cache when offline).

    Honours ``HF_HUB_OFFLINE`` and ``HF_HOME``; raises BenchmarkError with the way out
    (download elsewhere, then pass the local directory) when the snapshot is unavailable.
    """
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, repo_type="dataset", revision=revision))
    except Exception as exc:  # hub errors: offline, not cached, no such repo, auth
        mode = (
            "HF_HUB_OFFLINE is set and it is not in the HF cache"
            if hub_offline()
            else type(exc).__name__
        )
        raise BenchmarkError(
            f"cannot get the dataset {repo_id!r} from the Hugging Face hub ({mode}). "
            f"On a machine with network run `huggingface-cli download {repo_id} "
            f"--repo-type dataset --local-dir DIR`, copy DIR here and pass it as the source "
            f"(--bench DIR), or point HF_HOME at a cache that holds it."
        ) from exc


def resolve_source(source: str | os.PathLike[str]) -> tuple[Path, str]:
    """Turn a source ("mini", a directory, or a hub dataset id) into (root, display name)."""
    text = os.fspath(source)
    if text == "mini":
        if not (MINI_ROOT / "TGI-Dataset").is_dir():
            raise BenchmarkError(
                f"the bundled mini-bench is missing at {MINI_ROOT}; rebuild it with "
                "`tgibench data build-mini`"
            )
        return MINI_ROOT, "mini"
    path = Path(text).expanduser()
    if path.exists():
        return path.resolve(), path.resolve().name
    if _HUB_ID.match(text):
        return hub_snapshot(text), text
    raise BenchmarkError(
        f"benchmark source {text!r} is neither 'mini', an existing directory, nor a "
        "Hugging Face dataset id such as " + TGI_BENCH_HUB_ID
    )


def load_benchmark(
    source: str | os.PathLike[str] = "mini",
    lengths: Iterable[int] | None = None,
    challenges: Iterable[str] | None = None,
    *,
    frame_rule: str = DEFAULT_FRAME_RULE,
) -> Benchmark:
    """Load a benchmark in TGI-Bench layout and filter it.

    Args:
        source: ``"mini"`` (bundled), a local directory, or a HF dataset id
            (e.g. ``"use08174/TGI-Benchmark"``).
        lengths: keep only these sequence lengths (25, 33, 65, 81); None keeps all.
        challenges: keep only these challenges (canonical names or aliases); None keeps all.
        frame_rule: which frames make an N-frame case (see ``tgibench.data.layout``).

    Defective cases (missing frames, unsafe folder names, bad entries) are kept with a
    ``defect`` message so that a run records them as errors instead of losing them.

    >>> bench = load_benchmark("mini", lengths=[25], challenges=["linear motion"])
    >>> {case.num_frames for case in bench}, {case.challenge for case in bench}
    ({25}, {'linear motion'})
    """
    root, name = resolve_source(source)
    bench = load_root(root, name, lengths=lengths, frame_rule=frame_rule)
    return bench.filter(challenges=challenges) if challenges is not None else bench
