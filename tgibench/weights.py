"""Where model weights come from, the errors raised when they are absent, and the hub probe.

Every backbone (LPIPS nets, CLIP, X-CLIP, Inception, I3D, Wan) is loaded by real code that
takes a hub id or a local path and honours ``HF_HUB_OFFLINE`` / ``HF_HOME``. When weights
cannot be found, loaders raise :class:`WeightsUnavailableError`, whose message names the
weights and how to provide them; the runner then records the metric or model as
unavailable for the run instead of producing a number. A weights file that lacks tensors
its network needs raises :class:`WeightsMismatchError` (a kind of both).

Before a backbone downloads anything, :func:`unreachable` asks the server once per process
(a HEAD request with a short timeout); when it does not answer, every backbone that would
download from it is unavailable at once with that reason, instead of each loader retrying.
``HF_HUB_OFFLINE=1`` (or ``tgibench evaluate --offline``) skips the probe: offline means
the local caches only. How to supply each backbone's weights: docs/weights.md.
"""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from tgibench.handbook import reference

#: How every WeightsUnavailableError message (and so a metric's "unavailable" reason) starts.
UNAVAILABLE_PREFIX = "weights unavailable: "
#: The page that says, per backbone, how to supply its weights.
WEIGHTS_DOCS = reference("weights")
#: Seconds the hub probe waits for an answer (connection, TLS and response together).
PROBE_TIMEOUT = 3.0
#: The Hugging Face hub's default endpoint (``HF_ENDPOINT`` overrides it).
DEFAULT_HF_ENDPOINT = "https://huggingface.co"


class WeightsUnavailableError(RuntimeError):
    """Weights needed by a model or metric are not available on this machine.

    Args:
        weights: what is missing, e.g. ``"LPIPS AlexNet"`` or a hub id.
        how: how to provide them (an option, an environment variable, a download command).
    """

    def __init__(self, weights: str, how: str) -> None:
        self.weights = weights
        self.how = how
        super().__init__(f"{UNAVAILABLE_PREFIX}{weights}. {how}")


class WeightsMismatchError(WeightsUnavailableError, ValueError):
    """A weights file does not fit its network: tensors it needs are missing (or extra).

    Loading such a file would leave layers at their random initialisation and produce a
    plausible-looking but wrong number, so it is refused; the metric is unavailable with
    this message, which names the file and the tensors.
    """


def check_complete(
    missing: Iterable[str],
    unexpected: Iterable[str],
    weights: str,
    source: str | os.PathLike[str],
    how: str,
) -> None:
    """Raise WeightsMismatchError when a load left ``missing`` tensors or ``unexpected`` ones.

    ``missing``/``unexpected`` are what ``load_state_dict(strict=False)`` reported, less
    what the caller documents as optional (aliases, constants of the architecture).
    """
    missing, unexpected = sorted(missing), sorted(unexpected)
    if not missing and not unexpected:
        return
    parts = []
    if missing:
        parts.append(f"lacks {len(missing)} tensor(s) the network needs: {_listing(missing)}")
    if unexpected:
        parts.append(f"has {len(unexpected)} tensor(s) it does not know: {_listing(unexpected)}")
    raise WeightsMismatchError(
        f"{weights} from {os.fspath(source)}",
        f"The file {' and '.join(parts)}; it is not (a complete copy of) these weights. {how}",
    )


def _listing(names: Sequence[str], most: int = 12) -> str:
    shown = ", ".join(names[:most])
    return shown + (f", ... ({len(names) - most} more)" if len(names) > most else "")


def cache_dir() -> Path:
    """TGI-Bench's cache for converted weights: ``$TGIBENCH_CACHE`` or ~/.cache/tgibench."""
    root = os.environ.get("TGIBENCH_CACHE") or Path.home() / ".cache" / "tgibench"
    return Path(root)


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` asks the Hugging Face libraries not to use the network."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def go_offline() -> None:
    """Use no network from now on in this process: sets ``HF_HUB_OFFLINE=1`` (``--offline``).

    Call it before the Hugging Face libraries are imported (they read the variable once).
    """
    os.environ["HF_HUB_OFFLINE"] = "1"


def hf_endpoint() -> str:
    """The Hugging Face hub's address: ``$HF_ENDPOINT`` or https://huggingface.co."""
    return os.environ.get("HF_ENDPOINT", "").strip().rstrip("/") or DEFAULT_HF_ENDPOINT


@dataclass(frozen=True)
class WeightsLocation:
    """Where a backbone's weights are, found without network and without building a model.

    ``weights``: what they are (e.g. ``"CLIP ViT-B-32 laion2b_s34b_b79k"``). ``local``:
    where they are on this machine (a file, a folder, a cache entry), or None. ``remote``:
    the URL they would be downloaded from when not local (a hub endpoint or an https URL),
    or None when nothing can be downloaded (they must be supplied by hand).
    """

    weights: str
    local: str | None = None
    remote: str | None = None

    @property
    def available(self) -> bool:
        return self.local is not None


#: ``locate(**backbone_options) -> WeightsLocation``: a backbone's cheap availability check.
Locator = Callable[..., WeightsLocation]


_PROBED: dict[str, str | None] = {}
_PROBE_LOCK = threading.Lock()


def unreachable(url: str, timeout: float = PROBE_TIMEOUT) -> str | None:
    """Why the server of ``url`` cannot be reached, or None when it answers.

    One HEAD request to the server's root (proxies from ``HTTPS_PROXY``/``HTTP_PROXY``/
    ``NO_PROXY`` honoured), waited for at most ``timeout`` seconds in all (name lookup
    included); the answer is kept for the process, so a run asks each server once. Any
    HTTP answer, even an error status, means reachable.
    """
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    with _PROBE_LOCK:
        if origin not in _PROBED:
            _PROBED[origin] = _probe(origin, timeout)
        return _PROBED[origin]


def forget_probes() -> None:
    """Forget what :func:`unreachable` found (the network came back; tests)."""
    with _PROBE_LOCK:
        _PROBED.clear()


def _probe(origin: str, timeout: float) -> str | None:
    outcome: list[str | None] = []

    def ask() -> None:
        try:
            urllib.request.urlopen(urllib.request.Request(origin, method="HEAD"), timeout=timeout)
            outcome.append(None)
        except urllib.error.HTTPError:
            outcome.append(None)  # the server answered
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            outcome.append(f"{type(exc).__name__}: {reason}")

    thread = threading.Thread(target=ask, daemon=True)  # a DNS lookup ignores socket timeouts
    thread.start()
    thread.join(timeout)
    if not outcome:
        return f"no answer within {timeout:g} s"
    return outcome[0]


def docs_link(anchor: str) -> str:
    """``tgibench docs weights#<anchor>``: the command that shows the section of
    docs/weights.md that says how to supply some weights."""
    return f"{WEIGHTS_DOCS}#{anchor}"


class _MetricLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def backbones(self) -> tuple[str, ...]: ...


def missing_weights_lines(
    unavailable: Mapping[str, str],
    metrics: Iterable[_MetricLike],
    anchors: Mapping[str, str] | None = None,
) -> list[str]:
    """One line per backbone whose weights are missing, naming the metrics it disables.

    ``unavailable`` maps metric names to their reasons (a run's ``unavailable``);
    ``metrics`` are the run's metric definitions (``name``, ``backbones``); ``anchors``
    maps backbone names to their section of docs/weights.md (default: the registered
    backbones'). A metric unavailable for another reason (no ground truth, no VQA scorer
    registered) gets a line of its own with its reason. The full reasons stay in the
    rows of results.jsonl.

    >>> from types import SimpleNamespace as M
    >>> metrics = [M(name="clip_score", backbones=("clip",)), M(name="clipsim_frames",
    ...     backbones=("clip",)), M(name="psnr", backbones=())]
    >>> reason = "weights unavailable: CLIP ViT-B-32. Set TGIBENCH_CLIP_PRETRAINED ..."
    >>> missing_weights_lines({"clip_score": reason, "clipsim_frames": reason,
    ...     "psnr": "needs target"}, metrics, {"clip": "clip"})
    ['weights missing for clip: clip_score, clipsim_frames unavailable; how to supply them: tgibench docs weights#clip', 'unavailable psnr: needs target']
    """
    if anchors is None:
        from tgibench.features.backbones import backbone_anchors

        anchors = backbone_anchors()
    backbones_of = {m.name: m.backbones for m in metrics}
    disabled: dict[str, list[str]] = {}
    others: list[str] = []
    for name, reason in unavailable.items():
        owners = backbones_of.get(name, ())
        if reason.startswith(UNAVAILABLE_PREFIX) and owners:  # every metric has one backbone
            disabled.setdefault(owners[0], []).append(name)
        else:
            others.append(f"unavailable {name}: {reason}")
    lines = [
        f"weights missing for {backbone}: {', '.join(sorted(names))} unavailable; "
        f"how to supply them: {docs_link(anchors[backbone]) if backbone in anchors else WEIGHTS_DOCS}"
        for backbone, names in sorted(disabled.items())
    ]
    return lines + others
