"""A tiny random Wan2.1-FLF2V pipeline, built offline on the CPU (``preset=tiny``).

The same diffusers and transformers classes as the real checkpoint, with tiny random
configs: for tests and smoke runs of every code path, not for quality.
"""

from __future__ import annotations

from typing import Any

import torch

from tgibench.models.diffusers_runtime import frozen


def char_tokenizer() -> Any:
    """A character-level fast tokenizer (printable ASCII), built offline for the tiny preset."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "<unk>": 1, "</s>": 2}
    vocab.update({chr(c): 3 + i for i, c in enumerate(range(32, 127))})
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", unk_token="<unk>", eos_token="</s>"
    )


def tiny_pipeline(num_layers: int = 14, seed: int = 0) -> Any:
    """A ``WanImageToVideoPipeline`` (FLF2V layout) with tiny random weights, built offline.

    UMT5 text encoder (d_model 32, 2 layers) with a character tokenizer, CLIP vision encoder
    (32x32 input, 8x8 patches: 17 tokens per keyframe), ``AutoencoderKLWan`` (z_dim 16, 4x
    temporal and 8x spatial compression) and ``WanTransformer3DModel`` (``num_layers`` blocks,
    2 heads of dim 16, image position embedding for two keyframes). 14 blocks keep the
    paper's KAB blocks 5-12 inside the model. Weights are a function of ``seed`` only.
    """
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanTransformer3DModel,
    )
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        CLIPVisionModel,
        UMT5Config,
        UMT5EncoderModel,
    )

    clip_tokens = (32 // 8) ** 2 + 1
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        text_encoder = UMT5EncoderModel(
            UMT5Config(
                vocab_size=128,
                d_model=32,
                d_kv=8,
                d_ff=64,
                num_layers=2,
                num_heads=4,
                relative_attention_num_buckets=8,
            )
        )
        image_encoder = CLIPVisionModel(
            CLIPVisionConfig(
                hidden_size=16,
                intermediate_size=32,
                num_hidden_layers=2,
                num_attention_heads=2,
                image_size=32,
                patch_size=8,
                projection_dim=16,
            )
        )
        vae = AutoencoderKLWan(
            base_dim=3,
            z_dim=16,
            dim_mult=[1, 1, 1, 1],
            num_res_blocks=1,
            temperal_downsample=[False, True, True],
        )
        transformer = WanTransformer3DModel(
            patch_size=(1, 2, 2),
            num_attention_heads=2,
            attention_head_dim=16,
            in_channels=36,
            out_channels=16,
            text_dim=32,
            freq_dim=32,
            ffn_dim=64,
            num_layers=num_layers,
            image_dim=16,
            added_kv_proj_dim=32,
            rope_max_seq_len=64,
            pos_embed_seq_len=2 * clip_tokens,
        )
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    return WanImageToVideoPipeline(
        tokenizer=char_tokenizer(),
        text_encoder=frozen(text_encoder),
        vae=frozen(vae),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=16.0),
        image_processor=image_processor,
        image_encoder=frozen(image_encoder),
        transformer=frozen(transformer),
    )
