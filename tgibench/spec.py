"""Parse specs of the form ``name[:key=value,...]`` into a name and typed keyword arguments.

Values may be quoted with single or double quotes (to hold commas, spaces or ``=``);
unquoted values are typed: ``true/false/on/off/yes/no`` → bool, ``none`` → None,
integers → int, decimals → float, anything else → str. Quoted values stay strings.

>>> parse_spec("flow:levels=3,blend=soft")
('flow', {'levels': 3, 'blend': 'soft'})
>>> parse_spec('command:cmd="gen.py {first} {last}",timeout=60.5')
('command', {'cmd': 'gen.py {first} {last}', 'timeout': 60.5})
"""

from __future__ import annotations

import re
from typing import Any

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_BOOLS = {"true": True, "on": True, "yes": True, "false": False, "off": False, "no": False}


class SpecError(ValueError):
    """A spec string is malformed."""


def _typed(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in _BOOLS:
        return _BOOLS[lowered]
    if lowered == "none":
        return None
    if _INT.match(raw):
        return int(raw)
    if _FLOAT.match(raw):
        return float(raw)
    return raw


def _split_items(text: str, spec: str) -> list[tuple[str, str, bool]]:
    """Split ``k=v,k2="v,2"`` into (key, value, quoted) triples, honouring quotes."""
    items: list[tuple[str, str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        eq = text.find("=", i)
        if eq < 0:
            raise SpecError(f"in spec {spec!r}: {text[i:]!r} has no '=' (expected key=value)")
        key = text[i:eq].strip()
        if not _KEY.match(key):
            raise SpecError(f"in spec {spec!r}: {key!r} is not a valid option name")
        j = eq + 1
        quoted = j < n and text[j] in "\"'"
        if quoted:
            quote = text[j]
            end = text.find(quote, j + 1)
            if end < 0:
                raise SpecError(f"in spec {spec!r}: unterminated quote after {key}=")
            value = text[j + 1 : end]
            j = end + 1
            if j < n and text[j] != ",":
                raise SpecError(f"in spec {spec!r}: expected ',' after the quoted value of {key}")
        else:
            end = text.find(",", j)
            end = n if end < 0 else end
            value = text[j:end].strip()
            j = end
        items.append((key, value, quoted))
        i = j + 1 if j < n else j
    return items


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Return ``(name, options)`` for ``name[:key=value,...]``; raise SpecError if malformed."""
    name, _, rest = spec.strip().partition(":")
    name = name.strip()
    if not _NAME.match(name):
        raise SpecError(f"spec {spec!r} must start with a name such as 'flow' or 'tgi'")
    options: dict[str, Any] = {}
    for key, value, quoted in _split_items(rest, spec) if rest.strip() else []:
        if key in options:
            raise SpecError(f"in spec {spec!r}: option {key!r} is given twice")
        options[key] = value if quoted else _typed(value)
    return name, options


def format_spec(name: str, options: dict[str, Any]) -> str:
    """Inverse of :func:`parse_spec` for simple values (used to print canonical specs)."""
    if not options:
        return name

    def fmt(value: Any) -> str:
        text = str(value).lower() if isinstance(value, bool) or value is None else str(value)
        return f'"{text}"' if re.search(r"[,\s=\"']", text) else text

    return name + ":" + ",".join(f"{k}={fmt(v)}" for k, v in sorted(options.items()))
