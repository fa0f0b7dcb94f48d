"""Backbones with real weight loading, and per-video features computed once and shared.

``tgibench.features.backbones`` loads networks (LPIPS, CLIP, ...) once per process;
``tgibench.features.store`` computes each named feature of a video at most once and hands
it to every metric that needs it.
"""
