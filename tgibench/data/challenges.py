"""The paper's four challenge categories and the aliases that map onto them.

TGI-Bench's project page names four categories; its caption JSON uses other wording
(the dataset card's example says "Large motion"). Labels are normalised through the
alias table below; an unknown label is kept verbatim and reported, never dropped.
"""

from __future__ import annotations

CHALLENGES: tuple[str, ...] = ("dynamic motion", "linear motion", "occlusion", "near-static")

#: alias (lower case, ``_``/``-`` read as spaces) → canonical challenge.
CHALLENGE_ALIASES: dict[str, str] = {
    "dynamic motion": "dynamic motion",
    "dynamic": "dynamic motion",
    "large motion": "dynamic motion",
    "fast motion": "dynamic motion",
    "complex motion": "dynamic motion",
    "nonlinear motion": "dynamic motion",
    "non linear motion": "dynamic motion",
    "linear motion": "linear motion",
    "linear": "linear motion",
    "simple motion": "linear motion",
    "uniform motion": "linear motion",
    "occlusion": "occlusion",
    "occlusions": "occlusion",
    "occluded": "occlusion",
    "near static": "near-static",
    "nearly static": "near-static",
    "static": "near-static",
    "small motion": "near-static",
    "slight motion": "near-static",
}


def _key(label: str) -> str:
    return " ".join(label.lower().replace("_", " ").replace("-", " ").split())


def normalize_challenge(label: str) -> tuple[str, bool]:
    """Return ``(canonical label, known)``; unknown labels come back stripped, unchanged.

    >>> normalize_challenge("Large motion")
    ('dynamic motion', True)
    >>> normalize_challenge("Camera shake")
    ('Camera shake', False)
    """
    canonical = CHALLENGE_ALIASES.get(_key(label))
    return (canonical, True) if canonical else (label.strip(), False)
