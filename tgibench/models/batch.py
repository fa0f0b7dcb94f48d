"""``batch``: a program in its own environment generates every case of a run in one call.

A model that takes minutes to load cannot be started once per case (``command``). The
batch model starts it once, with a cases.jsonl of every case that still lacks a video:

    batch:cmd="python gen.py --cases {cases} --out {out}"

Each line holds the keys of an export (:mod:`tgibench.data.export`) with absolute paths:
``first`` and ``last`` are the keyframes (lossless PNG), ``video`` is where the program
writes the case's video (inside ``{out}``), and ``seed`` is the run's seed. The program
writes each video under another name and renames it when complete; a case it cannot
make, it reports by writing the reason to ``<video>.failed``. tgibench scores each video
as soon as it appears, so a crash keeps every row scored until then.

If the program ends (or stalls for ``case_timeout`` seconds without a new video, or runs
longer than ``timeout``) before every video appeared, the cases it never reached are not
failures: :class:`BatchIncomplete` says how many are left, with the exit code and the tail
of the program's stderr, and running the same command again asks it for exactly those.
The command is split like a shell line but run without a shell, so no caption reaches a
shell. Its output goes to ``<run>/batch/stdout.log`` and ``stderr.log``.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import torch
from PIL import Image

from tgibench.data.export import absolute_records, case_record, write_records
from tgibench.models.base import GenerationRequest, GenerationStopped, ModelBase
from tgibench.models.registry import register_model
from tgibench.video import ReadLimits, VideoError, read_video, write_image

if TYPE_CHECKING:
    from tgibench.data import Case

#: Suffix of the file in which the program reports a case it could not make.
FAILED_SUFFIX = ".failed"
#: Lines of the program's stderr quoted when it stops early.
STDERR_TAIL = 12
#: Linux's prctl option: the signal a process gets when its parent ends.
PR_SET_PDEATHSIG = 1


class BatchIncomplete(GenerationStopped):
    """The program stopped before every case had a video; ``left`` cases remain."""

    def __init__(self, left: int, reason: str) -> None:
        super().__init__(
            left,
            f"{left} case(s) left: {reason}. Run the same command again to continue with them.",
        )


@dataclass
class _Program:
    """The running program and the files its output goes to."""

    process: subprocess.Popen[bytes]
    stderr_path: Path
    logs: tuple[IO[bytes], IO[bytes]]

    def stop(self) -> None:
        """Terminate the program (then kill it after 10 s) and close its logs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for log in self.logs:
            log.close()

    def stderr_tail(self) -> str:
        lines = self.stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()
        tail = [line for line in lines if line.strip()][-STDERR_TAIL:]
        return " | ".join(tail) if tail else "(nothing on stderr)"


def _die_with_parent() -> None:
    """In the program's process before it starts (Linux): end it with SIGTERM when
    tgibench ends, even by SIGKILL, so that no orphan keeps writing videos that a resumed
    run asks for again."""
    import ctypes

    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _appeared(video: Path, sizes: dict[Path, int], program_done: bool) -> Path | None:
    """The video file or its .failed report once it is complete: present under its final
    name with the same size as at the previous look (or the program has ended)."""
    for path in (video, video.with_name(video.name + FAILED_SUFFIX)):
        if not path.is_file():
            continue
        size = path.stat().st_size
        if program_done or sizes.get(path) == size:
            return path
        sizes[path] = size
    return None


def _outcome(path: Path, record: dict[str, Any]) -> torch.Tensor | Exception:
    """The video at ``path`` (uint8), or the error that reading it or the report gives;
    a video over the case's :class:`ReadLimits` is refused before it is decoded."""
    if path.name.endswith(FAILED_SUFFIX):
        reason = path.read_text(encoding="utf-8", errors="replace").strip() or "no reason given"
        return RuntimeError(f"the batch program could not make this case: {reason}")
    try:
        with Image.open(record["first"]) as keyframe:  # the header: the case's frame size
            size = (keyframe.height, keyframe.width)
        limits = ReadLimits.for_case(int(record["num_frames"]), size)
        return read_video(path, dtype=torch.uint8, limits=limits)
    except VideoError as exc:
        return exc


@register_model("batch")
class Batch(ModelBase):
    """One program for all of a run's missing cases (cases.jsonl in, videos out), resumable.

    ``cmd`` has {cases} (a cases.jsonl of the cases still missing) and {out} (the folder
    their videos go to) filled in.

    ``case_timeout``: seconds without a new video before the program is stopped;
    ``timeout``: seconds the program may run in all (0: no limit); ``poll``: seconds
    between looks for new videos.
    """

    def __init__(
        self, cmd: str, case_timeout: float = 3600.0, timeout: float = 0.0, poll: float = 0.5
    ) -> None:
        self.template = shlex.split(cmd)
        if not any("{cases}" in part for part in self.template):
            raise ValueError(
                "batch model: cmd must contain {cases}, the cases.jsonl the program reads"
            )
        self.case_timeout = case_timeout
        self.timeout = timeout
        self.poll = poll

    def generate_batch(
        self, cases: Sequence[Case], work_dir: Path, seed: int
    ) -> Iterator[tuple[Case, torch.Tensor | Exception]]:
        """Each case with its video (uint8) or the error that stands for it, in the order
        the videos appear; videos already in ``work_dir/batch/videos`` are taken as they
        are, a ``.failed`` report is removed and the case asked for again. Raises
        :class:`BatchIncomplete` (after yielding the rest) when the program stops early."""
        batch_dir = work_dir / "batch"
        videos = batch_dir / "videos"
        records = absolute_records(cases, batch_dir / "inputs", videos, {"seed": seed})
        by_id = {case.case_id: case for case in cases}
        for case_id, outcome in self._run(records, batch_dir):
            yield by_id[case_id], outcome

    def make_frames(self, request: GenerationRequest) -> torch.Tensor:
        """One video through the program (a cases.jsonl of one line), for library use."""
        case_id = request.context.case_id or "case"
        with tempfile.TemporaryDirectory(prefix="tgibench-batch-") as tmp:
            work = Path(tmp)
            paths = {
                "first": str(work / "first.png"),
                "last": str(work / "last.png"),
                "video": str(work / "videos" / f"{case_id}.mp4"),
            }
            write_image(paths["first"], request.first)
            write_image(paths["last"], request.last)
            texts = {
                "case_id": case_id,
                "folder": request.context.folder or case_id,
                "challenge": request.context.challenge or "",
                "num_frames": request.num_frames,
                "caption": request.prompt,
                "first_desc": request.context.first_desc,
                "last_desc": request.context.last_desc,
            }
            record = case_record(texts, paths) | {"seed": request.seed}
            for _, outcome in self._run([record], work):
                if isinstance(outcome, Exception):
                    raise outcome
                return outcome
        raise AssertionError("unreachable: _run yields every record or raises")

    def _run(
        self, records: list[dict[str, Any]], batch_dir: Path
    ) -> Iterator[tuple[str, torch.Tensor | Exception]]:
        """Start the program for the records whose video is not there yet and yield
        (case_id, outcome) as each video appears."""
        pending: dict[str, Path] = {}
        for record in records:
            video = Path(record["video"])
            video.parent.mkdir(parents=True, exist_ok=True)
            if video.is_file():
                outcome = _outcome(video, record)
                if not isinstance(outcome, VideoError):
                    yield record["case_id"], outcome
                    continue
                video.replace(video.with_name(video.name + ".unreadable"))  # ask again
            video.with_name(video.name + FAILED_SUFFIX).unlink(missing_ok=True)
            pending[record["case_id"]] = video
        if not pending:
            return
        asked = [r for r in records if r["case_id"] in pending]
        cases_file = batch_dir / "cases.jsonl"
        write_records(cases_file, asked)
        program = self._start(cases_file, Path(asked[0]["video"]).parent, batch_dir)
        by_id = {r["case_id"]: r for r in asked}
        try:
            for case_id, found in self._collect(pending, program):
                yield case_id, _outcome(found, by_id[case_id])
        finally:
            program.stop()

    def _start(self, cases_file: Path, out: Path, batch_dir: Path) -> _Program:
        fields = {"cases": str(cases_file), "out": str(out)}
        argv = [part.format(**fields) for part in self.template]
        stdout = open(batch_dir / "stdout.log", "ab")  # noqa: SIM115 (closed by _Program.stop)
        stderr_path = batch_dir / "stderr.log"
        stderr = open(stderr_path, "wb")  # noqa: SIM115
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                env=os.environ,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        except OSError as exc:
            stdout.close()
            stderr.close()
            raise BatchIncomplete(0, f"cannot start {argv[0]!r}: {exc}") from None
        return _Program(process, stderr_path, (stdout, stderr))

    def _collect(self, pending: dict[str, Path], program: _Program) -> Iterator[tuple[str, Path]]:
        """(case_id, the video or .failed report) as each appears; BatchIncomplete when
        the program ends, stalls or overruns first."""
        started = last_video = time.monotonic()
        sizes: dict[Path, int] = {}
        while pending:
            code = program.process.poll()
            for case_id, video in list(pending.items()):
                found = _appeared(video, sizes, program_done=code is not None)
                if found is not None:
                    del pending[case_id]
                    last_video = time.monotonic()
                    yield case_id, found
            if not pending:
                return
            now = time.monotonic()
            if code is not None:
                reason = f"the batch program exited with code {code}"
            elif now - last_video > self.case_timeout:
                reason = f"no new video for {self.case_timeout:g} s (case_timeout)"
            elif self.timeout and now - started > self.timeout:
                reason = f"the batch program ran longer than {self.timeout:g} s (timeout)"
            else:
                time.sleep(self.poll)
                continue
            program.stop()
            raise BatchIncomplete(len(pending), f"{reason}; its stderr: {program.stderr_tail()}")
