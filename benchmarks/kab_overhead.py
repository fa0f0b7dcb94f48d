"""Cost of KAB + ReTRo (with isolated cross-attention) over stock Wan attention.

Times whole sampling runs (a flow-matching Euler loop over the transformer, conditional and
unconditional branch per step, classifier-free guidance) with the stock processors and with
:func:`tgibench.methods.install_tgi`, same weights and inputs, in one process, the two
variants alternating step by step. The transformer has the real model's 40 blocks and KAB schedule
(blocks 5-12, first 40% of steps, conditional branch) and the real ratio of video to
context tokens (a 33-frame 240x432 clip: 9 latent frames of 15x27 patches = 3645 video
tokens; 512 text and 2 x 257 image tokens) at reduced width (2 heads of dim 16) so it runs
on a CPU, single-threaded.

Run: ``python benchmarks/kab_overhead.py [--quick]`` prints the result as JSON.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from typing import Any

import torch

from tgibench.methods import TGIConfig, install_tgi

GOAL = 1.10


def _transformer(heads: int, head_dim: int, num_layers: int) -> Any:
    from diffusers import WanTransformer3DModel

    model: Any = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=heads,
        attention_head_dim=head_dim,
        in_channels=36,
        out_channels=16,
        text_dim=32,
        freq_dim=32,
        ffn_dim=2 * heads * head_dim,
        num_layers=num_layers,
        image_dim=32,
        added_kv_proj_dim=heads * head_dim,
        rope_max_seq_len=1024,
        pos_embed_seq_len=2 * 257,
    )
    return model.eval().requires_grad_(False)


def _sample_both(
    models: dict[str, Any],
    inputs: dict[str, torch.Tensor],
    sigmas: torch.Tensor,
    times: dict[str, list[float]],
) -> dict[str, torch.Tensor]:
    """One Euler flow-matching run with CFG (scale 5) per model, the models alternating step by
    step (order flipped every step) so that load drift hits both alike. Appends each model's
    total transformer time (s) for the run to ``times``; returns the final latents."""
    latents = {name: inputs["noise"].clone() for name in models}
    spent = dict.fromkeys(models, 0.0)
    names = list(models)
    for i in range(len(sigmas) - 1):
        timestep = (sigmas[i] * 1000).expand(1)
        common = {"encoder_hidden_states_image": inputs["image"], "return_dict": False}
        for name in names if i % 2 == 0 else names[::-1]:
            model_input = torch.cat([latents[name], inputs["condition"]], dim=1)
            start = time.perf_counter()
            cond = models[name](model_input, timestep, inputs["text"], **common)[0]
            uncond = models[name](model_input, timestep, inputs["negative"], **common)[0]
            spent[name] += time.perf_counter() - start
            velocity = uncond + 5.0 * (cond - uncond)
            latents[name] = latents[name] + (sigmas[i + 1] - sigmas[i]) * velocity
    for name in models:
        times[name].append(spent[name])
    return latents


def measure_kab_retro_overhead(quick: bool = False) -> dict[str, Any]:
    """Ratio of sampling time with KAB + ReTRo to stock attention (goal <= 1.10).

    Args:
        quick: a 25-frame 160x288 clip (1260 video tokens, so cross-attention and KAB weigh
            more than at full size), 5 steps, 2 repeats: under ~40 s on one CPU core.

    Returns:
        ``{"name", "ratio", "goal", "per_repeat", "detail"}``: ratio is the median over repeats of
        (KAB + ReTRo transformer time) / (stock transformer time) in one run whose steps
        alternate between the two; detail holds shapes, steps, repeats, the
        per-run times of both variants (seconds) and the median time per transformer forward.
    """
    from diffusers import FlowMatchEulerDiscreteScheduler

    heads, head_dim, num_layers = 2, 16, 40
    if quick:  # 25 frames at 160x288: 7 latent frames of 10x18 patches = 1260 video tokens
        steps, repeats, (latent_frames, latent_h, latent_w) = 5, 2, (7, 20, 36)
    else:  # 33 frames at 240x432: 9 latent frames of 15x27 patches = 3645 video tokens
        steps, repeats, (latent_frames, latent_h, latent_w) = 10, 3, (9, 30, 54)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            transformer = _transformer(heads, head_dim, num_layers)
            inputs = {
                "noise": torch.randn(1, 16, latent_frames, latent_h, latent_w),
                "condition": torch.randn(1, 20, latent_frames, latent_h, latent_w),
                "text": torch.randn(1, 512, 32),
                "negative": torch.randn(1, 512, 32),
                "image": torch.randn(2, 257, 32),
            }
        scheduler: Any = FlowMatchEulerDiscreteScheduler(shift=16.0)
        scheduler.set_timesteps(steps)
        sigmas = scheduler.sigmas
        times: dict[str, list[float]] = {"stock": [], "tgi": []}
        with torch.no_grad():
            tgi_model = copy.deepcopy(transformer)  # same weights, KAB + ReTRo installed
            handle = install_tgi(tgi_model, TGIConfig())
            models = {"stock": transformer, "tgi": tgi_model}
            handle.state.reset(1)
            _sample_both(models, inputs, sigmas[:2], {"stock": [], "tgi": []})  # warm-up
            for _ in range(repeats):
                handle.state.reset(steps)
                out = _sample_both(models, inputs, sigmas, times)
                if not all(torch.isfinite(x).all() for x in out.values()):
                    raise RuntimeError("sampling produced non-finite latents")
    finally:
        torch.set_num_threads(threads)
    stock, tgi = statistics.median(times["stock"]), statistics.median(times["tgi"])
    pair_ratios = [t / s for t, s in zip(times["tgi"], times["stock"], strict=True)]
    forwards = 2 * steps
    return {
        "name": "kab_retro_overhead",
        "ratio": statistics.median(pair_ratios),
        "goal": GOAL,
        "per_repeat": pair_ratios,
        "detail": {
            "clip": "25 frames 160x288" if quick else "33 frames 240x432",
            "video_tokens": latent_frames * (latent_h // 2) * (latent_w // 2),
            "latent_shape": [16, latent_frames, latent_h, latent_w],
            "text_tokens": 512,
            "image_tokens": 2 * 257,
            "blocks": num_layers,
            "heads": heads,
            "head_dim": head_dim,
            "steps": steps,
            "cfg_branches": 2,
            "kab_blocks": "5-12",
            "kab_steps": "0 < i/steps <= 0.4, cond branch",
            "parts": "kab+retro+isolate (tgi default)",
            "repeats": repeats,
            "threads": 1,
            "stock_run_s": times["stock"],
            "tgi_run_s": times["tgi"],
            "stock_per_forward_s": stock / forwards,
            "tgi_per_forward_s": tgi / forwards,
        },
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    print(json.dumps(measure_kab_retro_overhead(quick=parser.parse_args().quick), indent=2))
