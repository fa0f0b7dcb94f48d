"""Find and read a single-file checkpoint (a state dict) from a path, the hub or a URL.

Used by the FID Inception and FVD I3D backbones, whose weights are published as one file.
A ``source`` is one of:

- a local file: a ``torch.save`` state dict (``.pt``/``.pth``/``.bin``, read with
  ``torch.load(weights_only=True)``) or a ``.safetensors`` file;
- ``hf-hub:org/name/path/in/repo``: a file of a Hugging Face repository, fetched with
  ``hf_hub_download`` into the Hugging Face cache (``HF_HOME``); with ``HF_HUB_OFFLINE=1``
  only the cache is read;
- an ``http(s)://`` URL: downloaded once into torch's hub cache
  (``$TORCH_HOME/hub/checkpoints``, where ``torch.hub.load_state_dict_from_url`` keeps
  it, with a progress bar; a file named ``name-<hex>.ext`` with 8+ hex digits must have
  a SHA-256 starting with ``<hex>``, torch hub's convention) and read from there
  afterwards; with ``HF_HUB_OFFLINE=1`` nothing is downloaded.

Weights that are none of these, or cannot be found or fetched, raise
:class:`~tgibench.weights.WeightsUnavailableError`; :func:`locate_checkpoint` says where a
source is without reading or fetching anything, and :func:`load_complete` refuses a file
that lacks tensors its network needs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.error import URLError

import torch

from tgibench.weights import (
    WeightsLocation,
    WeightsMismatchError,
    WeightsUnavailableError,
    check_complete,
    hf_endpoint,
    hub_offline,
)

HF_PREFIX = "hf-hub:"


def _hub_file(spec: str) -> tuple[str, str]:
    """(repo id, file name) of ``org/name/path/in/repo``."""
    parts = spec.split("/", 2)
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"hub source must be hf-hub:org/name/file, got {HF_PREFIX}{spec!r}")
    return f"{parts[0]}/{parts[1]}", parts[2]


def _url_cache_file(url: str) -> Path:
    """Where a URL's download is kept: torch's hub cache, under the URL's file name."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def hf_cached_file(repo_id: str, filename: str, cache_dir: str | None = None) -> str | None:
    """The Hugging Face cache's copy of a hub file, or None (no network: a cache lookup)."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, filename, cache_dir=cache_dir)
    return found if isinstance(found, str) else None


def locate_checkpoint(source: str, weights: str, cache_dir: str | None = None) -> WeightsLocation:
    """Where ``source`` (a file, ``hf-hub:org/name/file`` or a URL) is, reading nothing."""
    if source.startswith(HF_PREFIX):
        repo_id, filename = _hub_file(source.removeprefix(HF_PREFIX))
        cached = hf_cached_file(repo_id, filename, cache_dir)
        return WeightsLocation(weights, cached, f"{hf_endpoint()}/{repo_id}")
    if source.startswith(("http://", "https://")):
        target = _url_cache_file(source)
        return WeightsLocation(weights, str(target) if target.is_file() else None, source)
    path = Path(source).expanduser()
    return WeightsLocation(weights, str(path) if path.is_file() else None)


def resolve_checkpoint(source: str, weights: str, how: str, cache_dir: str | None = None) -> Path:
    """The local file holding ``source`` (see the module docstring), fetching it if allowed.

    ``weights`` names the weights and ``how`` says how to provide them, for the error.
    ``cache_dir`` overrides the Hugging Face cache for ``hf-hub:`` sources.
    """
    if source.startswith(HF_PREFIX):
        return _from_hub(source.removeprefix(HF_PREFIX), weights, how, cache_dir)
    if source.startswith(("http://", "https://")):
        return _from_url(source, weights, how)
    path = Path(source).expanduser()
    if not path.is_file():
        raise WeightsUnavailableError(f"{weights} ({source})", f"The file does not exist. {how}")
    return path


def _from_hub(spec: str, weights: str, how: str, cache_dir: str | None) -> Path:
    from huggingface_hub import hf_hub_download

    repo_id, filename = _hub_file(spec)
    try:
        local = hf_hub_download(
            repo_id, filename, cache_dir=cache_dir, local_files_only=hub_offline()
        )
    except OSError as exc:  # not cached (offline), not on the hub, or no network
        raise WeightsUnavailableError(
            f"{weights} ({HF_PREFIX}{spec})",
            f"{how} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
        ) from exc
    return Path(local)


def _from_url(url: str, weights: str, how: str) -> Path:
    target = _url_cache_file(url)
    if target.is_file():
        return target
    if hub_offline():
        raise WeightsUnavailableError(
            f"{weights} ({url})", f"Not in {target.parent} and HF_HUB_OFFLINE is set. {how}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    # a file named like torch hub's "name-<sha256 prefix>.ext" is checked against it
    match = torch.hub.HASH_REGEX.search(target.name)
    prefix = match.group(1) if match and len(match.group(1)) >= 8 else None
    try:
        torch.hub.download_url_to_file(url, str(target), hash_prefix=prefix, progress=True)
    except (URLError, OSError) as exc:
        raise WeightsUnavailableError(f"{weights} ({url})", f"{how} ({exc})") from exc
    except RuntimeError as exc:  # torch hub: "invalid hash value"; nothing was kept
        raise WeightsUnavailableError(
            f"{weights} ({url})", f"The download is corrupt or not these weights ({exc}). {how}"
        ) from exc
    return target


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors file or a ``torch.save`` state dict (no code is run)."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ValueError(f"{path} is not a state dict (got {type(state).__name__})")
    return state


def is_batch_counter(key: str) -> bool:
    """Batch norm's ``num_batches_tracked``: a training counter, unused in evaluation, so a
    weights file may lack it (older PyTorch ports predate it)."""
    return key.endswith("num_batches_tracked")


def check_load(
    load: Callable[[], Any],
    weights: str,
    source: str | os.PathLike[str],
    how: str,
    optional: Callable[[str], bool] = lambda key: False,
) -> None:
    """Run ``load()`` (a ``load_state_dict(..., strict=False)``), refusing what it left out.

    Every parameter and persistent buffer must have been in the file except keys for which
    ``optional(key)`` is true (the caller documents which, e.g. batch norm's
    ``num_batches_tracked``, unused in evaluation); tensors the network does not have and
    tensors of the wrong shape are refused too. Raises
    :class:`~tgibench.weights.WeightsMismatchError` naming ``source`` and the tensors.
    """
    try:
        result = load()
    except RuntimeError as exc:  # a tensor of the wrong shape
        raise WeightsMismatchError(
            f"{weights} from {os.fspath(source)}",
            "; ".join(line.strip() for line in str(exc).splitlines()[1:]) + f". {how}",
        ) from exc
    missing = [key for key in getattr(result, "missing_keys", []) if not optional(key)]
    check_complete(missing, getattr(result, "unexpected_keys", []), weights, source, how)


def load_complete(
    module: torch.nn.Module,
    state: dict[str, torch.Tensor],
    weights: str,
    source: str | os.PathLike[str],
    how: str,
    optional: Callable[[str], bool] = lambda key: False,
) -> None:
    """Load ``state`` into ``module`` with :func:`check_load`'s refusals."""
    check_load(lambda: module.load_state_dict(state, strict=False), weights, source, how, optional)
