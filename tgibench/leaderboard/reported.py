"""Numbers reported in the paper, kept as data (``leaderboard/reported.csv``).

They are never mixed with numbers measured here: they load into their own DataFrame
(``origin == "reported"``) and their own tables, and each value keeps the text the paper
printed, so a table reproduces the paper's digits exactly.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

#: The paper's numbers (Table 1 and Table 2 of PAPER.md): package data (in a clone, a link
#: to leaderboard/reported.csv).
REPORTED_CSV = Path(__file__).parent / "reported.csv"
#: Columns of reported.csv: ``metric`` is our metric's name where the paper's metric
#: matches one (else a snake_case name), ``paper_metric`` the paper's own name,
#: ``direction`` "higher" or "lower" (is better), ``source`` e.g. "paper Table 1".
REPORTED_COLUMNS = ("model", "num_frames", "metric", "paper_metric", "value", "direction", "source")
DIRECTIONS = ("higher", "lower")


def load_reported(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Reported numbers in long form, one row per (model, num_frames, metric).

    Columns: REPORTED_COLUMNS with ``value`` as float, plus ``text`` (the value as
    written in the CSV) and ``origin`` ("reported"). Raises ValueError naming the file
    and the fix if a column, a direction or a value is malformed.
    """
    csv = Path(path) if path is not None else REPORTED_CSV
    if not csv.is_file():
        raise ValueError(f"{csv}: reported numbers not found; pass the path of a reported.csv")
    table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    missing = [c for c in REPORTED_COLUMNS if c not in table]
    if missing:
        raise ValueError(f"{csv}: missing column(s) {', '.join(missing)}")
    bad = sorted(set(table["direction"]) - set(DIRECTIONS))
    if bad:
        raise ValueError(f"{csv}: direction must be higher or lower, not {', '.join(bad)}")
    try:
        values = table["value"].astype(float)
        lengths = table["num_frames"].astype(int)
    except ValueError as exc:
        raise ValueError(f"{csv}: value and num_frames must be numbers ({exc})") from None
    return table.assign(text=table["value"], value=values, num_frames=lengths, origin="reported")


#: Our model spec of a paper method whose name is not the spec's.
METHOD_SPECS = {"TGI (KAB+ReTRo)": "tgi"}


def _plain(name: str) -> str:
    """Letters and digits of ``name``, lower case ("TGI (KAB+ReTRo)" → "tgikabretro")."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def reported_method(model: str, methods: Iterable[str]) -> str | None:
    """The paper method of ``methods`` that a model (a spec or a run's label) is a run of:
    its name or spec, letters and digits in any case, is the method's name or its spec in
    METHOD_SPECS (``wan`` → Wan, ``tgi`` → TGI (KAB+ReTRo), a run labelled ``TRF`` → TRF).
    A spec with options (``tgi:kab=off``, ``wan:preset=tiny``) is another configuration:
    None.

    >>> reported_method("tgi", ["Wan", "TGI (KAB+ReTRo)"]), reported_method("wan:steps=4", ["Wan"])
    ('TGI (KAB+ReTRo)', None)
    """
    plain = _plain(model)
    for method in methods:
        if plain in (_plain(method), METHOD_SPECS.get(method)):
            return method
    return None
