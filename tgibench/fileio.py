"""Small file helpers shared by every stage: atomic writes and checksums."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_TEMPORARY_SUFFIX = ".tmp"
#: errno values of a full disk and of an exhausted quota.
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(exc: BaseException) -> bool:
    """True for the OSError of a write to a full disk (or over a quota)."""
    return isinstance(exc, OSError) and exc.errno in DISK_FULL


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    Readers never see a half-written file: either the old content or the new one. The
    temporary file, ``.<name>.<pid>.<random>.tmp``, is removed when the block raises; a
    process killed outright (SIGKILL) leaves it, for :func:`remove_orphaned_temporaries`.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=_TEMPORARY_SUFFIX
        )
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise


def _writer_is_gone(temporary: Path) -> bool:
    """True when ``temporary`` was made by :func:`atomic_path` in a process that has ended."""
    parts = temporary.name.split(".")
    if len(parts) < 5 or not parts[-3].isdigit():
        return False  # not named by atomic_path: not ours to remove
    try:
        os.kill(int(parts[-3]), 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # alive (another user's), or not a process id
        pass
    return False


def remove_orphaned_temporaries(directory: str | os.PathLike[str]) -> list[Path]:
    """Remove, under ``directory``, the temporary files of :func:`atomic_path` whose
    writing process has ended (it was killed outright); return their paths.

    Files of processes still running are kept: they may still be renamed into place.
    """
    orphaned = [
        path
        for path in Path(directory).rglob(f".*{_TEMPORARY_SUFFIX}")
        if path.is_file() and _writer_is_gone(path)
    ]
    for path in orphaned:
        path.unlink(missing_ok=True)
    return orphaned


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, fsynced before the rename."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented JSON, atomically."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
