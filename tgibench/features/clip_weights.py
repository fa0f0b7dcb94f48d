"""Where CLIP (open_clip) weights are, and fetching them, without building a network.

Locating weights asks open_clip one thing: what a pretrained tag is (its hub repository,
URL or file, and the file names tried on the hub). Importing open_clip to learn it takes
about 2 s (it imports torchvision and every model family), in every process that scores
a case, even when the answer is that the weights are absent. The answer is a fact of the
installed open_clip version, so :func:`open_clip_facts` keeps it in
``<cache_dir>/open_clip-<version>-tags.json`` (``tgibench.weights.cache_dir``) after the
first lookup and reads it from there after: a run without CLIP weights learns so in
milliseconds (``tgibench.features.backbones.Backbones`` locates before it loads), and so
does ``tgibench metrics``. Another open_clip version gets a file of its own; a cache that
cannot be written costs only time.
"""

from __future__ import annotations

import contextlib
import json
import os
from importlib.metadata import version
from pathlib import Path
from typing import Any

from tgibench.features.checkpoint import hf_cached_file
from tgibench.fileio import write_json_atomic
from tgibench.weights import (
    WeightsLocation,
    WeightsUnavailableError,
    hf_endpoint,
)
from tgibench.weights import (
    cache_dir as tgibench_cache_dir,
)

DEFAULT_CLIP_MODEL = "ViT-B-32"
DEFAULT_CLIP_PRETRAINED = "laion2b_s34b_b79k"
#: The ``pretrained`` value that asks for random weights (tests only).
RANDOM_INIT = "random"
_CHECKPOINT_SUFFIXES = (".bin", ".pt", ".pth", ".safetensors", ".npz")


def _ask_open_clip(model: str, pretrained: str) -> dict[str, Any]:
    """open_clip's facts about (``model``, ``pretrained``), as :func:`open_clip_facts`."""
    from open_clip.constants import HF_CONFIG_NAME, HF_WEIGHTS_NAME
    from open_clip.pretrained import _get_safe_alternatives, get_pretrained_cfg

    if model.startswith("hf-hub:"):
        tag, config = {"hf_hub": model.removeprefix("hf-hub:") + "/"}, HF_CONFIG_NAME
    else:
        found = get_pretrained_cfg(model, pretrained)
        tag, config = {k: found[k] for k in ("hf_hub", "url", "file") if found.get(k)}, None
    files: list[str] = []
    if "hf_hub" in tag:
        filename = os.path.split(tag["hf_hub"])[1] or HF_WEIGHTS_NAME
        files = [*_get_safe_alternatives(filename), filename]
    return {"tag": tag, "weights_files": files, "config_file": config}


def open_clip_facts(model: str, pretrained: str) -> dict[str, Any]:
    """What open_clip says of (``model``, ``pretrained``), from the cache when it has it.

    ``tag``: the tag's ``hf_hub`` ("org/name/" or "org/name/file"), ``url`` and ``file``
    (those it has; empty when ``pretrained`` is no tag of ``model``; for an ``hf-hub:``
    model, its repository); ``weights_files``: the hub file names tried, in order;
    ``config_file``: the hub config file required besides (``hf-hub:`` models), or None.
    """
    table_file = tgibench_cache_dir() / f"open_clip-{version('open_clip_torch')}-tags.json"
    key = f"{model} {pretrained}"
    try:
        table = json.loads(table_file.read_text())
    except (OSError, ValueError):
        table = {}
    if key not in table:
        table[key] = _ask_open_clip(model, pretrained)
        with contextlib.suppress(OSError):  # a read-only cache: asked again next time
            write_json_atomic(table_file, table)
    return dict(table[key])


def _looks_like_path(value: str) -> bool:
    return os.sep in value or "/" in value or value.lower().endswith(_CHECKPOINT_SUFFIXES)


def clip_how(model: str) -> str:
    return (
        "Point TGI-Bench at CLIP weights with the backbone options "
        "(EvalConfig.backbone_options={'clip': {'pretrained': '/path/open_clip_pytorch_model.bin'}})"
        " or the environment (TGIBENCH_CLIP_PRETRAINED=/path/file or a tag, "
        f"TGIBENCH_CLIP_MODEL={model!r} or 'hf-hub:org/name'); or, on a machine with network, "
        "run once without HF_HUB_OFFLINE (or `huggingface-cli download <repo>`) to fill the "
        "Hugging Face cache ($HF_HOME), which is then used offline."
    )


def clip_defaults(model: str | None, pretrained: str | None) -> tuple[str, str]:
    return (
        model or os.environ.get("TGIBENCH_CLIP_MODEL") or DEFAULT_CLIP_MODEL,
        pretrained or os.environ.get("TGIBENCH_CLIP_PRETRAINED") or DEFAULT_CLIP_PRETRAINED,
    )


def _first_line(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def fetch_clip_weights(model: str, pretrained: str, cache_dir: str | None) -> tuple[str, Path]:
    """Make sure the weights are on disk (downloading what the hub allows): (what, file).

    Raises WeightsUnavailableError when they are neither cached nor downloadable, and
    ValueError for a pretrained value that is neither a tag of ``model`` nor a path.
    """
    from open_clip.factory import _find_checkpoint_in_dir
    from open_clip.pretrained import (
        download_pretrained,
        download_pretrained_from_hf,
        get_pretrained_cfg,
        list_pretrained_tags_by_model,
    )

    if model.startswith("hf-hub:"):
        repo = model.removeprefix("hf-hub:")
        try:
            download_pretrained_from_hf(repo, filename="open_clip_config.json", cache_dir=cache_dir)
            return model, Path(download_pretrained_from_hf(repo, cache_dir=cache_dir))
        except OSError as exc:
            raise WeightsUnavailableError(
                f"open_clip repository {repo} (config and weights)",
                f"{clip_how(model)} ({_first_line(exc)})",
            ) from exc
    if model.startswith("local-dir:"):
        folder = Path(model.removeprefix("local-dir:"))
        if not (folder / "open_clip_config.json").is_file():
            raise WeightsUnavailableError(
                f"open_clip folder {folder}", f"It has no open_clip_config.json. {clip_how(model)}"
            )
        found = _find_checkpoint_in_dir(folder)  # open_clip's own choice of file
        if found is None:
            raise WeightsUnavailableError(
                f"open_clip folder {folder}", f"It has no weights file. {clip_how(model)}"
            )
        return model, Path(found)
    tag = get_pretrained_cfg(model, pretrained)
    if tag:
        try:
            return f"{model} {pretrained}", Path(download_pretrained(tag, cache_dir=cache_dir))
        except OSError as exc:
            raise WeightsUnavailableError(
                f"CLIP {model} {pretrained} (hub: {tag['hf_hub'].rstrip('/')})",
                f"{clip_how(model)} ({_first_line(exc)})",
            ) from exc
    if Path(pretrained).is_file():
        return f"{model} from {pretrained}", Path(pretrained)
    if _looks_like_path(pretrained):
        raise WeightsUnavailableError(
            f"CLIP {model} checkpoint {pretrained}", f"The file does not exist. {clip_how(model)}"
        )
    raise ValueError(
        f"CLIP pretrained={pretrained!r} is neither an open_clip tag of {model} "
        f"({', '.join(list_pretrained_tags_by_model(model)) or 'none'}) nor a checkpoint file"
    )


def locate_clip(
    model: str | None = None, pretrained: str | None = None, cache_dir: str | None = None
) -> WeightsLocation:
    """Where the CLIP weights are: a file, a folder or the Hugging Face cache (no network).

    ``remote`` is the hub repository they would be downloaded from.
    """
    model, pretrained = clip_defaults(model, pretrained)
    if pretrained == RANDOM_INIT:
        return WeightsLocation(f"CLIP {model}", "random init (tests only)")
    if model.startswith("local-dir:"):
        folder = Path(model.removeprefix("local-dir:"))
        has_weights = any(folder.glob(f"*{suffix}") for suffix in (".safetensors", ".bin", ".pth"))
        ready = (folder / "open_clip_config.json").is_file() and has_weights
        return WeightsLocation(f"open_clip folder {folder}", str(folder) if ready else None)
    facts = open_clip_facts(model, pretrained)
    tag = facts["tag"]
    if model.startswith("hf-hub:"):
        weights = f"open_clip repository {model.removeprefix('hf-hub:')}"
    else:
        if not tag:  # a file (or a wrong value, which loading reports)
            path = Path(pretrained).expanduser()
            return WeightsLocation(
                f"CLIP {model} {pretrained}", str(path) if path.is_file() else None
            )
        weights = f"CLIP {model} {pretrained}"
        if "file" in tag:
            return WeightsLocation(weights, tag["file"] if Path(tag["file"]).is_file() else None)
        if "hf_hub" not in tag:  # an old URL-only tag: open_clip keeps it in ~/.cache/clip
            url = tag["url"]
            target = Path(cache_dir or Path.home() / ".cache" / "clip") / os.path.basename(url)
            return WeightsLocation(weights, str(target) if target.is_file() else None, url)
    repo = os.path.split(tag["hf_hub"])[0]  # "org/name/" or "org/name/file"
    found = (hf_cached_file(repo, name, cache_dir) for name in facts["weights_files"])
    weights_file = next((f for f in found if f), None)
    config = facts["config_file"]
    config_ok = config is None or hf_cached_file(repo, config, cache_dir) is not None
    return WeightsLocation(weights, weights_file if config_ok else None, f"{hf_endpoint()}/{repo}")
