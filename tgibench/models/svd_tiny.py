"""A tiny random Stable Video Diffusion pipeline, built offline on the CPU (``preset=tiny``).

The same diffusers and transformers classes as ``stabilityai/stable-video-diffusion-img2vid-xt``
(its scheduler config exactly), with tiny random weights: for tests and smoke runs of every
code path of ``svd``, ``trf``, ``gi`` and ``vibid``, not for quality.
"""

from __future__ import annotations

from typing import Any

import torch

from tgibench.models.diffusers_runtime import frozen

#: SVD-XT's scheduler config (``scheduler/scheduler_config.json`` of the checkpoint).
SVD_SCHEDULER: dict[str, Any] = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "interpolation_type": "linear",
    "num_train_timesteps": 1000,
    "prediction_type": "v_prediction",
    "sigma_max": 700.0,
    "sigma_min": 0.002,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "timestep_type": "continuous",
    "use_karras_sigmas": True,
}


def svd_scheduler() -> Any:
    """diffusers' ``EulerDiscreteScheduler`` configured as SVD-XT's."""
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler(**SVD_SCHEDULER)


def tiny_unet(seed: int = 0) -> Any:
    """A ``UNetSpatioTemporalConditionModel`` with SVD's block layout at tiny width.

    Two resolutions (32 and 64 channels), spatial and temporal cross-attention on the
    first, the spatio-temporal mid block, 25 trained frames; 4 latent channels (8 with
    the concatenated keyframe latent), 32-dim image embedding and added time ids.
    """
    from diffusers import UNetSpatioTemporalConditionModel

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNetSpatioTemporalConditionModel(
            sample_size=8,
            in_channels=8,
            out_channels=4,
            down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
            up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
            block_out_channels=(32, 64),
            addition_time_embed_dim=8,
            projection_class_embeddings_input_dim=24,
            layers_per_block=1,
            cross_attention_dim=32,
            num_attention_heads=(2, 4),
            num_frames=25,
        )
    return frozen(unet)


def tiny_pipeline(seed: int = 0) -> Any:
    """A ``StableVideoDiffusionPipeline`` with tiny random weights, built offline.

    :func:`tiny_unet`; ``AutoencoderKLTemporalDecoder`` with 8x spatial compression to 4
    latent channels (four levels of 32 channels); ``CLIPVisionModelWithProjection`` on
    224x224 input (32-pixel patches, 2 layers of width 32, 32-dim projection) with SVD's
    CLIP image processor; SVD-XT's Euler scheduler. Weights are a function of ``seed`` only.
    """
    from diffusers import AutoencoderKLTemporalDecoder, StableVideoDiffusionPipeline
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed + 1)
        vae = AutoencoderKLTemporalDecoder(
            block_out_channels=(32, 32, 32, 32),
            down_block_types=("DownEncoderBlock2D",) * 4,
            layers_per_block=1,
            latent_channels=4,
        )
        image_encoder = CLIPVisionModelWithProjection(
            CLIPVisionConfig(
                hidden_size=32,
                intermediate_size=64,
                num_hidden_layers=2,
                num_attention_heads=2,
                image_size=224,
                patch_size=32,
                projection_dim=32,
            )
        )
    feature_extractor = CLIPImageProcessor(
        size={"shortest_edge": 224},
        crop_size={"height": 224, "width": 224},
        image_mean=[0.48145466, 0.4578275, 0.40821073],
        image_std=[0.26862954, 0.26130258, 0.27577711],
    )
    return StableVideoDiffusionPipeline(
        vae=frozen(vae),
        image_encoder=frozen(image_encoder),
        unet=tiny_unet(seed),
        scheduler=svd_scheduler(),
        feature_extractor=feature_extractor,
    )
