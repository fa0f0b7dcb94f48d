"""The documentation that ships with tgibench: ``tgibench docs [TOPIC[#SECTION]]``.

The repository's docs/*.md are package data (``tgibench/docs/``), so an installed tgibench
(``pip install`` of the wheel, in a model's own environment) can show them: error messages
point at ``tgibench docs weights#clip`` rather than at a file only a clone has.
"""

from __future__ import annotations

import re
from pathlib import Path

DOCS_DIR = Path(__file__).parent / "docs"
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


def reference(topic: str, section: str | None = None) -> str:
    """The command that shows a topic (and section): what messages point users at."""
    return f"tgibench docs {topic}" + (f"#{section}" if section else "")


def topics() -> dict[str, str]:
    """Topic name → its title (the first heading), for every shipped document."""
    found = {}
    for path in sorted(DOCS_DIR.glob("*.md")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        found[path.stem] = first.lstrip("# ").strip()
    return found


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces as -.

    >>> slug("I3D (FVD)")
    'i3d-fvd'
    """
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line index, level, anchor) of every heading outside fenced code blocks."""
    found, fenced = [], False
    for index, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (match := _HEADING.match(line)):
            found.append((index, len(match.group(1)), slug(match.group(2))))
    return found


def read(ref: str) -> str:
    """The text of ``topic`` or of ``topic#section`` (the section's heading down to the next
    heading of the same or a higher level). KeyError names what exists."""
    topic, _, section = ref.partition("#")
    path = DOCS_DIR / f"{topic}.md"
    if not path.is_file():
        raise KeyError(f"no document {topic!r}; the documents are: {', '.join(topics())}")
    lines = path.read_text(encoding="utf-8").splitlines()
    if not section:
        return "\n".join(lines)
    headings = _headings(lines)
    for position, (start, level, anchor) in enumerate(headings):
        if anchor == section:
            later = [i for i, lvl, _ in headings[position + 1 :] if lvl <= level]
            return "\n".join(lines[start : later[0] if later else len(lines)]).rstrip()
    anchors = ", ".join(anchor for _, _, anchor in headings)
    raise KeyError(f"no section {section!r} in {topic}; its sections: {anchors}")
