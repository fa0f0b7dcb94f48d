"""Benchmarks and cases: the TGI-Bench layout, the bundled mini-bench, the HF hub, manifests."""

from tgibench.data.benchmark import Benchmark, BenchmarkError, Case, CaseError
from tgibench.data.challenges import CHALLENGE_ALIASES, CHALLENGES, normalize_challenge
from tgibench.data.layout import FRAME_RULES, LENGTHS, LayoutError
from tgibench.data.sources import TGI_BENCH_HUB_ID, load_benchmark

__all__ = [
    "CHALLENGES",
    "CHALLENGE_ALIASES",
    "FRAME_RULES",
    "LENGTHS",
    "TGI_BENCH_HUB_ID",
    "Benchmark",
    "BenchmarkError",
    "Case",
    "CaseError",
    "LayoutError",
    "load_benchmark",
    "normalize_challenge",
]
