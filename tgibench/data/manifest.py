"""Manifests: the exact content of a benchmark copy (cases, frame files, checksums).

A manifest records, for one benchmark source, every case (folder, length, challenge,
texts, the frame files it uses under the frame rule) and the SHA-256 of every file those
cases read (frames and caption files). ``verify_root`` checks a local copy against it;
``fingerprint`` is the hash runs record so that the leaderboard never puts runs on
different data side by side. The schema is ``data_manifests/manifest.schema.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from tgibench.data.benchmark import Benchmark, BenchmarkError, load_root
from tgibench.data.layout import FRAME_RULES, caption_files
from tgibench.fileio import sha256_file

SCHEMA_VERSION = 1
#: Manifests and their schema: package data (in a clone, a link to data_manifests/).
MANIFEST_DIR = Path(__file__).parent / "manifests"
SCHEMA_PATH = MANIFEST_DIR / "manifest.schema.json"


def build_manifest(bench: Benchmark) -> dict[str, Any]:
    """The manifest of a loaded benchmark; refuses benchmarks with defective cases."""
    if bench.defects:
        first = bench.defects[0]
        raise BenchmarkError(
            f"{len(bench.defects)} defective case(s), e.g. {first.case_id}: {first.defect}"
        )
    root = bench.root
    prefix = os.path.join(str(root), "")
    files: dict[str, str] = {}
    cases = []
    for case in bench:
        paths = [str(p) for p in case.frame_paths]
        frames = [_relative(path, prefix, root) for path in paths]
        for rel, path in zip(frames, paths, strict=True):
            if rel not in files:
                files[rel] = sha256_file(path)
        cases.append(
            {
                "case_id": case.case_id,
                "folder": case.folder,
                "num_frames": case.num_frames,
                "challenge": case.challenge,
                "challenge_label": case.challenge_label,
                "caption": case.caption,
                "first_desc": case.first_desc,
                "last_desc": case.last_desc,
                "frames": frames,
            }
        )
    lengths = sorted({c.num_frames for c in bench})
    for n, caption_path in sorted(caption_files(root).items()):
        if n in lengths:
            files[caption_path.relative_to(root).as_posix()] = sha256_file(caption_path)
    return {
        "schema_version": SCHEMA_VERSION,
        "name": bench.name,
        "frame_rule": {"name": bench.frame_rule, "description": FRAME_RULES[bench.frame_rule]},
        "lengths": lengths,
        "num_cases": len(cases),
        "cases": cases,
        "files": dict(sorted(files.items())),
    }


def _relative(path: str, prefix: str, root: Path) -> str:
    """``path`` relative to ``root`` (whose string is ``prefix`` + separator), POSIX style;
    a string slice, as pathlib's relative_to took half the time of hashing 40,000 files."""
    if path.startswith(prefix):
        return path[len(prefix) :].replace(os.sep, "/")
    return Path(path).relative_to(root).as_posix()


def fingerprint(manifest: dict[str, Any]) -> str:
    """SHA-256 of a manifest's content (cases, files, frame rule), independent of its name."""
    content = {k: manifest[k] for k in ("frame_rule", "cases", "files", "defects") if k in manifest}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def benchmark_fingerprint(bench: Benchmark) -> str:
    """Fingerprint of a loaded benchmark, defective cases included by id and cause."""
    manifest = build_manifest(replace(bench, cases=[c for c in bench if c.defect is None]))
    if bench.defects:
        manifest["defects"] = sorted(f"{c.case_id}: {c.defect}" for c in bench.defects)
    return fingerprint(manifest)


def validate_manifest(manifest: Any) -> None:
    """Check a manifest against the JSON schema; raise BenchmarkError naming the problem."""
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    try:
        jsonschema.validate(manifest, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise BenchmarkError(
            f"manifest does not follow the schema at {where}: {exc.message}"
        ) from None


def load_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a manifest file."""
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BenchmarkError(f"{path}: cannot read manifest ({exc})") from None
    validate_manifest(manifest)
    return manifest


def verify_root(root: Path, manifest: dict[str, Any]) -> list[str]:
    """Problems found when checking ``root`` against ``manifest``; empty when it matches.

    Reports missing and changed files, and cases whose definition (texts, challenge,
    frames) differs from the manifest's.
    """
    problems = []
    for rel, digest in manifest["files"].items():
        path = root / rel
        if not path.is_file():
            problems.append(f"missing: {rel}")
        elif sha256_file(path) != digest:
            problems.append(f"changed: {rel}")
    try:
        bench = load_root(
            root,
            manifest["name"],
            lengths=manifest["lengths"],
            frame_rule=manifest["frame_rule"]["name"],
        )
    except BenchmarkError as exc:
        return [*problems, f"cannot load: {exc}"]
    loaded = {c.case_id: c for c in bench}
    for expected in manifest["cases"]:
        case = loaded.pop(expected["case_id"], None)
        if case is None:
            problems.append(f"case missing: {expected['case_id']}")
        elif case.defect:
            problems.append(f"case defective: {case.case_id}: {case.defect}")
        elif (case.caption, case.first_desc, case.last_desc, case.challenge_label) != (
            expected["caption"],
            expected["first_desc"],
            expected["last_desc"],
            expected["challenge_label"],
        ):
            problems.append(f"case text changed: {case.case_id}")
    problems.extend(f"case not in manifest: {case_id}" for case_id in loaded)
    return problems
