"""docs/metrics.md holds the metrics table generated from the registry, unedited."""

from __future__ import annotations

from pathlib import Path

from tgibench.metrics.registry import select_metrics
from tgibench.metrics.table import BEGIN, END, markdown_table

DOC = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"


def test_docs_table_is_the_registry():
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, "docs/metrics.md lost its generated table markers"
    committed = text[text.index(BEGIN) : text.index(END) + len(END)] + "\n"
    assert committed == markdown_table(select_metrics(["all"])), (
        "docs/metrics.md's metrics table differs from the registry: replace it with the "
        "output of `tgibench metrics --markdown`"
    )
