"""Cases and benchmarks: what a model is asked to inbetween, and the ground truth."""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import torch

from tgibench.data.challenges import normalize_challenge
from tgibench.data.layout import (
    DEFAULT_FRAME_RULE,
    LayoutError,
    caption_files,
    frames_root,
    list_frame_files,
    parse_record,
    read_caption_file,
    safe_folder,
    select_frames,
)
from tgibench.video import VideoError, read_frames, read_image

if TYPE_CHECKING:
    import datasets


class BenchmarkError(ValueError):
    """A benchmark source cannot be loaded at all (missing root, bad caption file, offline)."""


class CaseError(ValueError):
    """One case cannot be used; the message names the case and the cause."""


@dataclass(frozen=True)
class Case:
    """One inbetweening task: keyframes, text, and the ground-truth frames between them.

    ``first``, ``last`` are (3, H, W) float32 images in [0, 1]; ``frames`` is the
    (num_frames, 3, H, W) ground-truth video (frame 0 and num_frames-1 are the keyframes).
    Reading them raises :class:`CaseError` if the case is defective (``defect`` says why).
    """

    case_id: str
    folder: str
    challenge: str
    num_frames: int
    caption: str
    first_desc: str
    last_desc: str
    challenge_label: str = ""
    frame_paths: tuple[Path, ...] = ()
    defect: str | None = None

    def _require_ok(self) -> None:
        if self.defect is not None:
            raise CaseError(f"case {self.case_id}: {self.defect}")

    def _read(self, paths: Sequence[Path], dtype: torch.dtype = torch.float32) -> torch.Tensor:
        self._require_ok()
        try:
            if len(paths) == 1:
                return read_image(paths[0], dtype)
            return read_frames(paths, dtype)
        except VideoError as exc:
            raise CaseError(f"case {self.case_id}: {exc}") from None

    @property
    def first(self) -> torch.Tensor:
        """The first keyframe, (3, H, W) float32 in [0, 1]."""
        return self._read(self.frame_paths[:1])

    @property
    def last(self) -> torch.Tensor:
        """The last keyframe, (3, H, W) float32 in [0, 1]."""
        return self._read(self.frame_paths[-1:])

    def keyframes(self, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
        """The first and last keyframes, each (3, H, W): float32 in [0, 1] or uint8."""
        return self._read(self.frame_paths[:1], dtype), self._read(self.frame_paths[-1:], dtype)

    @property
    def frames(self) -> torch.Tensor | None:
        """The ground-truth video, (num_frames, 3, H, W) float32 in [0, 1], or None if absent."""
        return self.load_frames()

    def load_frames(self, dtype: torch.dtype = torch.float32) -> torch.Tensor | None:
        """The ground-truth video in ``dtype``: float32 in [0, 1] or uint8 (0..255, a
        quarter of the memory); None if the case has no frames."""
        if not self.frame_paths and self.defect is None:
            return None
        return self._read(self.frame_paths, dtype)


_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9._ -]")


def make_case_id(folder: str, num_frames: int) -> str:
    """A case id that is also a safe file name: ``<folder>-<N>`` with odd characters as '_'."""
    return f"{_UNSAFE_ID_CHARS.sub('_', folder).lstrip('.') or '_'}-{num_frames}"


@dataclass
class Benchmark(Sequence[Case]):
    """A sized, iterable, filterable list of cases from one source.

    ``unknown_challenges`` counts labels that matched no alias (kept verbatim).
    """

    name: str
    root: Path
    cases: list[Case]
    frame_rule: str = DEFAULT_FRAME_RULE
    unknown_challenges: Counter[str] = field(default_factory=Counter)

    @overload
    def __getitem__(self, index: int) -> Case: ...
    @overload
    def __getitem__(self, index: slice) -> list[Case]: ...
    def __getitem__(self, index: int | slice) -> Case | list[Case]:
        return self.cases[index]

    def __len__(self) -> int:
        return len(self.cases)

    def __iter__(self) -> Iterator[Case]:
        return iter(self.cases)

    def get(self, case_id: str) -> Case:
        for case in self.cases:
            if case.case_id == case_id:
                return case
        raise KeyError(f"no case {case_id!r} in benchmark {self.name}")

    def filter(
        self, lengths: Iterable[int] | None = None, challenges: Iterable[str] | None = None
    ) -> Benchmark:
        """Cases whose length is in ``lengths`` and challenge in ``challenges`` (aliases ok)."""
        wanted_lengths = set(lengths) if lengths is not None else None
        wanted = {normalize_challenge(c)[0] for c in challenges} if challenges is not None else None
        kept = [
            case
            for case in self.cases
            if (wanted_lengths is None or case.num_frames in wanted_lengths)
            and (wanted is None or case.challenge in wanted)
        ]
        return replace(self, cases=kept)

    @property
    def defects(self) -> list[Case]:
        """Cases that cannot be used, each with its ``defect`` message."""
        return [case for case in self.cases if case.defect is not None]

    def counts(self) -> dict[str, dict[int, int]]:
        """Number of cases per challenge and length."""
        table: dict[str, dict[int, int]] = {}
        for case in self.cases:
            row = table.setdefault(case.challenge, {})
            row[case.num_frames] = row.get(case.num_frames, 0) + 1
        return table

    def to_hf_dataset(self) -> datasets.Dataset:
        """The usable cases as a ``datasets.Dataset``.

        Columns: case_id, folder, challenge, challenge_label, num_frames, caption,
        first_desc, last_desc, first and last (``datasets.Image``), frame_paths.
        Defective cases are left out (see :attr:`defects`).
        """
        import datasets

        ok = [c for c in self.cases if c.defect is None]
        text = (
            "case_id",
            "folder",
            "challenge",
            "challenge_label",
            "caption",
            "first_desc",
            "last_desc",
        )
        columns: dict[str, list[Any]] = {k: [getattr(c, k) for c in ok] for k in text}
        columns["num_frames"] = [c.num_frames for c in ok]
        columns["first"] = [str(c.frame_paths[0]) for c in ok]
        columns["last"] = [str(c.frame_paths[-1]) for c in ok]
        columns["frame_paths"] = [[str(p) for p in c.frame_paths] for c in ok]
        features = datasets.Features(
            {
                **{k: datasets.Value("string") for k in text},
                "num_frames": datasets.Value("int32"),
                "first": datasets.Image(),
                "last": datasets.Image(),
                "frame_paths": datasets.Sequence(datasets.Value("string")),
            }
        )
        return datasets.Dataset.from_dict(columns, features=features)


#: A folder's frame files, or the reason it has none: listed once per load, for every length.
Listings = dict[str, "list[Path] | LayoutError"]


def _frame_files(frames_dir: Path, folder: str, listings: Listings) -> list[Path]:
    """The folder's frame files (:func:`list_frame_files`), listed once per load."""
    if folder not in listings:
        try:
            listings[folder] = list_frame_files(safe_folder(frames_dir, folder))
        except LayoutError as exc:
            listings[folder] = exc
    found = listings[folder]
    if isinstance(found, LayoutError):
        raise found
    return found


def _cases_for_length(
    root: Path,
    frames_dir: Path,
    caption_path: Path,
    num_frames: int,
    frame_rule: str,
    listings: Listings,
) -> list[Case]:
    """All cases of one caption file; unusable entries become cases with a ``defect``."""
    cases: list[Case] = []
    seen: set[str] = set()
    for index, entry in enumerate(read_caption_file(caption_path)):
        where = f"{caption_path.name} entry {index}"
        try:
            record = parse_record(entry, where)
        except LayoutError as exc:
            folder = entry.get("folder") if isinstance(entry, dict) else None
            label = folder if isinstance(folder, str) and folder.strip() else f"entry{index}"
            cases.append(
                Case(
                    make_case_id(label, num_frames),
                    str(label),
                    "unknown",
                    num_frames,
                    "",
                    "",
                    "",
                    defect=str(exc),
                )
            )
            continue
        challenge, _ = normalize_challenge(record.challenge)
        case = Case(
            case_id=make_case_id(record.folder, num_frames),
            folder=record.folder,
            challenge=challenge,
            num_frames=num_frames,
            caption=record.caption,
            first_desc=record.first_desc,
            last_desc=record.last_desc,
            challenge_label=record.challenge,
        )
        try:
            if case.case_id in seen:
                raise LayoutError(f"{where}: folder {record.folder!r} is listed twice")
            files = _frame_files(frames_dir, record.folder, listings)
            case = replace(case, frame_paths=tuple(select_frames(files, num_frames, frame_rule)))
        except LayoutError as exc:
            case = replace(case, defect=str(exc))
        seen.add(case.case_id)
        cases.append(case)
    return cases


def load_root(
    root: Path,
    name: str,
    lengths: Iterable[int] | None = None,
    frame_rule: str = DEFAULT_FRAME_RULE,
) -> Benchmark:
    """Load every case of a TGI-Bench-layout directory (optionally only some lengths)."""
    if not root.is_dir():
        raise BenchmarkError(f"benchmark root {root} is not a directory")
    try:
        frames_dir = frames_root(root)
    except LayoutError as exc:
        raise BenchmarkError(str(exc)) from None
    files = caption_files(root)
    if not files:
        raise BenchmarkError(f"{root}: no <N>_dataset_caption.json files found")
    wanted = sorted(set(lengths)) if lengths is not None else sorted(files)
    missing = [n for n in wanted if n not in files]
    if missing:
        raise BenchmarkError(
            f"{root}: no caption file for length(s) {missing}; available: {sorted(files)}"
        )
    cases: list[Case] = []
    listings: Listings = {}
    for n in wanted:
        try:
            cases.extend(_cases_for_length(root, frames_dir, files[n], n, frame_rule, listings))
        except LayoutError as exc:
            raise BenchmarkError(str(exc)) from None
    unknown = Counter(
        c.challenge_label
        for c in cases
        if c.challenge_label and not normalize_challenge(c.challenge_label)[1]
    )
    if unknown:
        warnings.warn(
            f"benchmark {name}: challenge label(s) not in the alias table, kept as is: "
            + ", ".join(f"{k!r} ({v})" for k, v in sorted(unknown.items())),
            stacklevel=2,
        )
    return Benchmark(
        name=name, root=root, cases=cases, frame_rule=frame_rule, unknown_challenges=unknown
    )
