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
  it) and read from there afterwards; with ``HF_HUB_OFFLINE=1`` nothing is downloaded.

Weights that are none of these, or cannot be found or fetched, raise
:class:`~tgibench.weights.WeightsUnavailableError`.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.error import URLError

import torch

from tgibench.weights import WeightsUnavailableError, hub_offline

HF_PREFIX = "hf-hub:"


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

    parts = spec.split("/", 2)
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"hub source must be hf-hub:org/name/file, got {HF_PREFIX}{spec!r}")
    repo_id, filename = f"{parts[0]}/{parts[1]}", parts[2]
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
    target = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)
    if target.is_file():
        return target
    if hub_offline():
        raise WeightsUnavailableError(
            f"{weights} ({url})", f"Not in {target.parent} and HF_HUB_OFFLINE is set. {how}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(url, str(target), progress=False)
    except (URLError, OSError) as exc:
        raise WeightsUnavailableError(f"{weights} ({url})", f"{how} ({exc})") from exc
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
