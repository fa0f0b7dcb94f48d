"""A tiny random LTX-Video condition pipeline, built offline on the CPU (``preset=tiny``).

The same diffusers and transformers classes as ``Lightricks/LTX-Video-0.9.5`` with tiny
random configs and the real 8x temporal compression (so the same N = 8k + 1 frame rule):
for tests and smoke runs of ``ltx``, not for quality.
"""

from __future__ import annotations

from typing import Any

import torch

from tgibench.models.diffusers_runtime import frozen
from tgibench.models.wan_tiny import char_tokenizer


def tiny_pipeline(seed: int = 0) -> Any:
    """An ``LTXConditionPipeline`` with tiny random weights, built offline.

    T5 encoder (d_model 32, 2 layers) with a character tokenizer; ``AutoencoderKLLTXVideo``
    with 8 latent channels, 8x temporal and 8x spatial compression, no timestep
    conditioning; ``LTXVideoTransformer3DModel`` (2 layers of 4 heads x 8, patch 1);
    flow-matching Euler scheduler. Weights are a function of ``seed`` only.
    """
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXConditionPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        text_encoder = T5EncoderModel(
            T5Config(vocab_size=128, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4)
        )
        vae = AutoencoderKLLTXVideo(
            latent_channels=8,
            block_out_channels=(8, 8, 8, 8),
            decoder_block_out_channels=(8, 8, 8, 8),
            layers_per_block=(1, 1, 1, 1, 1),
            decoder_layers_per_block=(1, 1, 1, 1, 1),
            spatio_temporal_scaling=(True, True, True, False),
            decoder_spatio_temporal_scaling=(True, True, True, False),
            decoder_inject_noise=(False,) * 5,
            upsample_residual=(False,) * 4,
            upsample_factor=(1,) * 4,
            timestep_conditioning=False,
            patch_size=1,
            patch_size_t=1,
        )
        transformer = LTXVideoTransformer3DModel(
            in_channels=8,
            out_channels=8,
            patch_size=1,
            patch_size_t=1,
            num_attention_heads=4,
            attention_head_dim=8,
            cross_attention_dim=32,
            num_layers=2,
            caption_channels=32,
        )
    return LTXConditionPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=frozen(vae),
        text_encoder=frozen(text_encoder),
        tokenizer=char_tokenizer(),
        transformer=frozen(transformer),
    )
