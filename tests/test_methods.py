"""KAB and ReTRo: schedules against PAPER.md, bias maths, and measured effects in a tiny Wan."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tgibench.methods import (
    TGIConfig,
    frame_mean_attention,
    install_tgi,
    kab_betas,
    kab_bias,
    kab_targets,
    latent_frames,
    retro_scales,
)

# The per-latent-frame vectors published in PAPER.md (official code).
PAPER_RETRO = {
    25: [1.012, 0.988, 0.964, 0.94, 0.964, 0.988, 1.012],
    33: [1.012, 0.988, 0.964, 0.94, 0.94, 0.94, 0.964, 0.988, 1.012],
    65: [1.036, 1.012, 0.988, 0.964] + [0.94] * 9 + [0.964, 0.988, 1.012, 1.036],
    81: [1.036, 1.012, 0.988, 0.964] + [0.94] * 13 + [0.964, 0.988, 1.012, 1.036],
}
PAPER_BETAS_81_HALF = [0, 0.6902, 0.6618, 0.6176, 0.5618, 0.5, 0.4382, 0.3824, 0.3382, 0.3098, 0.3]


@pytest.fixture(autouse=True)
def one_thread():
    """The tiny model is latency-bound: one thread avoids oversubscription on shared cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("num_frames", sorted(PAPER_RETRO))
def test_retro_scales_match_paper(num_frames):
    scales = retro_scales(num_frames)
    assert scales.shape == (latent_frames(num_frames),)
    torch.testing.assert_close(scales, torch.tensor(PAPER_RETRO[num_frames]), atol=5e-4, rtol=0)


def _retro_rule(n: int, s_edge=1.06, s_mid=0.94, smooth=5) -> np.ndarray:
    """PAPER.md's rule written independently with numpy (edge width N // 10 off the table)."""
    f = (n - 1) // 4 + 1
    width = {25: 2, 33: 3, 65: 6, 81: 8}.get(n, n // 10)
    t = np.linspace(0, 1, f)
    raw = np.where((t < width / n) | (t > 1 - width / n), s_edge, s_mid)
    padded = np.pad(raw, smooth // 2, mode="edge")
    return np.convolve(padded, np.ones(smooth) / smooth, mode="valid")


@pytest.mark.parametrize("num_frames", [9, 17, 41, 49, 121, 161])
def test_retro_scales_other_lengths_follow_the_rule(num_frames):
    scales = retro_scales(num_frames)
    np.testing.assert_allclose(scales.numpy(), _retro_rule(num_frames), atol=1e-6)
    torch.testing.assert_close(scales, scales.flip(0))
    assert scales.min() >= 0.94 - 1e-6 and scales.max() <= 1.06 + 1e-6


def test_retro_scales_options():
    flat = retro_scales(81, smooth=1)
    assert flat[:2].tolist() == pytest.approx([1.06, 1.06]) and flat[2] == pytest.approx(0.94)
    wide = retro_scales(81, edge_width=20)
    assert (wide[:5] > retro_scales(81)[:5]).any()
    with pytest.raises(ValueError):
        retro_scales(81, smooth=4)


def test_kab_betas_match_paper():
    torch.testing.assert_close(
        kab_betas(7), torch.tensor([0, 0.6, 0.4, 0.3, 0.4, 0.6, 0]), atol=1e-6, rtol=0
    )
    full = PAPER_BETAS_81_HALF + PAPER_BETAS_81_HALF[-2::-1]
    torch.testing.assert_close(kab_betas(21), torch.tensor(full), atol=1e-4, rtol=0)
    assert kab_betas(2).tolist() == [0, 0] and kab_betas(3).tolist() == pytest.approx([0, 0.3, 0])


def _random_distributions(batch: int, frames: int, keys: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, frames, keys, generator=g) * 2).softmax(-1)


def test_kab_bias_formula():
    att = _random_distributions(2, 9, 40)
    betas = kab_betas(9)
    bias = kab_bias(att, betas, eps=5e-4)
    f = att.shape[1]
    for i in range(f):
        mix = (1 - i / (f - 1)) * att[:, 0] + i / (f - 1) * att[:, -1]
        expected = betas[i] * (mix.clamp_min(5e-4).log() - att[:, i].clamp_min(5e-4).log())
        torch.testing.assert_close(bias[:, i], expected)
    assert bias[:, 0].abs().max() == 0 and bias[:, -1].abs().max() == 0
    torch.testing.assert_close(kab_targets(att)[:, [0, -1]], att[:, [0, -1]])


def test_full_strength_bias_reaches_the_anchor_mix():
    """One head, one query per frame, beta = 1, no flooring: softmax(L + B) equals M exactly."""
    g = torch.Generator().manual_seed(1)
    frames, keys, dim = 7, 16, 8
    q = torch.randn(1, 1, frames, dim, generator=g)
    k = torch.randn(1, 1, keys, dim, generator=g)
    att = frame_mean_attention(q, k, frames)
    bias = kab_bias(att, torch.ones(frames), eps=1e-30)
    guided = frame_mean_attention(q, k, frames, bias=bias)
    torch.testing.assert_close(guided, kab_targets(att), atol=1e-5, rtol=1e-4)


def test_frame_mean_attention_matches_explicit_softmax():
    g = torch.Generator().manual_seed(2)
    q = torch.randn(2, 3, 5 * 4, 8, generator=g)
    k = torch.randn(2, 3, 11, 8, generator=g)
    probs = (q @ k.transpose(-1, -2) / math.sqrt(8)).softmax(-1)  # (B, H, L, K)
    expected = probs.view(2, 3, 5, 4, 11).mean(dim=(1, 3))
    torch.testing.assert_close(frame_mean_attention(q, k, 5), expected)
    torch.testing.assert_close(expected.sum(-1), torch.ones(2, 5))


# ---------------------------------------------------------------- the tiny Wan, measured


@pytest.fixture(scope="module")
def tiny_pipe():
    from tgibench.models.wan_tiny import tiny_pipeline

    return tiny_pipeline()


def _transformer_inputs(pipe, frames: int = 7, seed: int = 0) -> dict:
    """Random latents and contexts shaped like the pipeline's transformer call."""
    cfg = pipe.transformer.config
    g = torch.Generator().manual_seed(seed)
    image_tokens = cfg.pos_embed_seq_len // 2
    return {
        "hidden_states": torch.randn(1, cfg.in_channels, frames, 4, 6, generator=g),
        "encoder_hidden_states": torch.randn(1, 512, cfg.text_dim, generator=g),
        "encoder_hidden_states_image": torch.randn(2, image_tokens, cfg.image_dim, generator=g),
    }


def test_retro_scales_the_temporal_rotary_part(tiny_pipe):
    from diffusers.models.transformers.transformer_wan import WanRotaryPosEmbed

    transformer = tiny_pipe.transformer
    captured = []

    def grab(module, args):
        captured.append(args[3])

    hook = transformer.blocks[3].attn1.register_forward_pre_hook(grab)
    handle = install_tgi(transformer, TGIConfig(kab=False, isolate=False))
    inputs = _transformer_inputs(tiny_pipe)
    try:
        with torch.no_grad():
            transformer(timestep=torch.tensor([500.0]), **inputs)
    finally:
        handle.remove()
        hook.remove()
    cos, sin = (x.double() for x in captured[0])
    head_dim = transformer.config.attention_head_dim
    stock = WanRotaryPosEmbed(head_dim, (1, 2, 2), 64)(inputs["hidden_states"])
    stock_cos, stock_sin = (x.double() for x in stock)
    t_dim = head_dim - 4 * (head_dim // 6)
    scales = retro_scales(25).double()  # 7 latent frames = 25 pixel frames
    per_token = scales.repeat_interleave(2 * 3)[None, :, None, None]
    close = {"atol": 1e-6, "rtol": 1e-6}
    torch.testing.assert_close(cos[..., :t_dim], stock_cos[..., :t_dim] * per_token, **close)
    torch.testing.assert_close(sin[..., :t_dim], stock_sin[..., :t_dim] * per_token, **close)
    torch.testing.assert_close(cos[..., t_dim:], stock_cos[..., t_dim:], **close)  # spatial
    torch.testing.assert_close(sin[..., t_dim:], stock_sin[..., t_dim:], **close)

    # the temporal share of the logit between frames n and m scales by s_n · s_m
    def rotate(x, c, s):
        x1, x2 = x.unflatten(-1, (-1, 2)).unbind(-1)
        return torch.stack(
            [x1 * c[..., 0::2] - x2 * s[..., 1::2], x1 * s[..., 1::2] + x2 * c[..., 0::2]], -1
        ).flatten(-2)

    g = torch.Generator().manual_seed(3)
    q = torch.randn(1, cos.shape[1], 1, t_dim, generator=g, dtype=torch.float64)
    k = torch.randn(1, cos.shape[1], 1, t_dim, generator=g, dtype=torch.float64)
    a, b = 0, 6 * 3  # a token of frame 0 and one of frame 3
    new = (
        rotate(q, cos[..., :t_dim], sin[..., :t_dim])[0, a]
        * rotate(k, cos[..., :t_dim], sin[..., :t_dim])[0, b]
    ).sum()
    old = (
        rotate(q, stock_cos[..., :t_dim], stock_sin[..., :t_dim])[0, a]
        * rotate(k, stock_cos[..., :t_dim], stock_sin[..., :t_dim])[0, b]
    ).sum()
    assert float(new / old) == pytest.approx(float(scales[0] * scales[3]), rel=1e-5)


def test_kab_moves_attention_toward_anchors_only_where_configured(tiny_pipe, monkeypatch):
    """Record every cross-attention softmax through torch's SDPA entry point during sampling."""
    from tgibench.models.wan import set_sampler

    pipe = tiny_pipe
    transformer = pipe.transformer
    set_sampler(pipe, "euler", 16.0)
    pipe.set_progress_bar_config(disable=True)
    config = TGIConfig()
    handle = install_tgi(transformer, config)
    prompt = "a glider floats over fields"
    cond_embeds, _ = pipe.encode_prompt(
        prompt, "", do_classifier_free_guidance=True, max_sequence_length=512, device="cpu"
    )
    where = {"block": None}
    records = []
    stock_sdpa = torch.nn.functional.scaled_dot_product_attention

    def observe(module, args, kwargs):
        t = kwargs["timestep"].flatten()[0]
        where["step"] = int((pipe.scheduler.timesteps == t).nonzero()[0])
        same = torch.allclose(kwargs["encoder_hidden_states"], cond_embeds, atol=1e-4)
        where["branch"] = "cond" if same else "uncond"

    def capture(query, key, value, attn_mask=None, **kwargs):
        if where["block"] is not None:
            records.append((where["block"], where["step"], where["branch"], query, key, attn_mask))
        return stock_sdpa(query, key, value, attn_mask=attn_mask, **kwargs)

    hooks = [transformer.register_forward_pre_hook(observe, with_kwargs=True)]
    for index, block in enumerate(transformer.blocks):
        hooks.append(
            block.attn2.register_forward_pre_hook(lambda m, a, i=index: where.update(block=i))
        )
        hooks.append(block.attn2.register_forward_hook(lambda m, a, o: where.update(block=None)))
    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", capture)
    g = torch.Generator().manual_seed(0)
    first, last = torch.rand(3, 32, 48, generator=g), torch.rand(3, 32, 48, generator=g)
    steps = 5
    try:
        handle.state.reset(steps)
        with torch.no_grad():
            video = pipe(
                image=_pil(first),
                last_image=_pil(last),
                prompt=prompt,
                negative_prompt="",
                height=32,
                width=48,
                num_frames=25,
                num_inference_steps=steps,
                guidance_scale=5.0,
                generator=torch.Generator().manual_seed(0),
                output_type="pt",
            ).frames[0]
    finally:
        for hook in hooks:
            hook.remove()
        handle.remove()
    assert torch.isfinite(video).all()
    frames = 7
    num_blocks = len(transformer.blocks)
    # 3 isolated softmaxes per block and call; 2 branches per step
    assert len(records) == 3 * num_blocks * steps * 2
    active_calls = 0
    for block, step, branch, q, k, mask in records:
        raw = frame_mean_attention(q, k, frames)
        configured = 5 <= block <= 12 and 0 < step / steps <= 0.4 and branch == "cond"
        if not configured:
            assert mask is None, (block, step, branch, mask.abs().max())
            continue
        active_calls += 1
        assert mask is not None
        per_frame_bias = mask[:, 0].unflatten(1, (frames, -1))[:, :, 0]  # (B, f, K)
        used = frame_mean_attention(q, k, frames, bias=per_frame_bias.float())
        target = kab_targets(raw)
        torch.testing.assert_close(used[:, [0, -1]], raw[:, [0, -1]])  # anchors untouched
        before = (raw - target)[:, 1:-1].abs().sum(-1)
        after = (used - target)[:, 1:-1].abs().sum(-1)
        assert (after < before).all(), (block, step, before, after)
    assert active_calls == 3 * 8 * 2  # blocks 5-12, steps 1 and 2 of 5, cond only


def _pil(image: torch.Tensor):
    from tgibench.models.wan import to_pil

    return to_pil(image)


def test_docstring_examples_run():
    import doctest

    import tgibench.methods.schedules as schedules

    assert doctest.testmod(schedules).failed == 0
