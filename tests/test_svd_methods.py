"""The SVD family's sampling steps against plain implementations of the papers' equations.

Each step that differs from stock SVD sampling (EDM maths, CFG++, re-noising, time flips,
fusion, TRF's and GI's step orders, DDS, ViBiDSampler's step, GI's rotated attention) is
computed here a second way, in float64 where it matters, from the papers' definitions.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tgibench.methods.bidirectional import (
    dds_projection,
    fuse_bidirectional,
    injection_schedule,
    jump_schedule,
    linear_fusion_weights,
    per_frame,
    symmetric_guidance,
    time_flip,
)
from tgibench.methods.edm import (
    decoupled_euler_step,
    euler_step,
    guided,
    renoise,
    scale_input,
    x0_from_v,
)
from tgibench.methods.gi_attention import (
    GiAttentionState,
    RotatedTemporalAttention,
    install_gi_attention,
    rotate_attention_map,
    temporal_attention_layers,
)
from tgibench.methods.svd_sampler import (
    FusedStep,
    KeyframeCondition,
    NoiseSource,
    SamplingPlan,
    SvdDenoiser,
    VibidStep,
    sample,
)

SHAPE = (1, 7, 4, 3, 5)  # (B, F, C, h, w)


def _rand(*shape: int, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# --- EDM maths -------------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [0.03, 1.0, 14.6, 700.0])
def test_x0_from_v_inverts_the_v_parametrisation(sigma):
    """x = x0 + sigma·eps; in the scaled input x/sqrt(1+s^2) = alpha·x0 + beta·eps, the
    v-target is alpha·eps - beta·x0 (Salimans & Ho); x0_from_v must recover x0."""
    x0, eps = _rand(*SHAPE, seed=1), _rand(*SHAPE, seed=2)
    alpha, beta = 1 / np.sqrt(1 + sigma**2), sigma / np.sqrt(1 + sigma**2)
    x = x0 + sigma * eps
    v = alpha * eps - beta * x0
    torch.testing.assert_close(x0_from_v(v, x, torch.tensor(sigma, dtype=torch.float64)), x0)
    torch.testing.assert_close(scale_input(x, sigma), alpha * x0 + beta * eps)


def test_euler_step_is_exact_for_a_perfect_denoiser():
    """With the true x0 the probability-flow ODE is linear in sigma: x(s) = x0 + s·eps."""
    x0, eps = _rand(*SHAPE, seed=1), _rand(*SHAPE, seed=2)
    for sigma, sigma_next in [(14.6, 9.1), (1.0, 0.4), (0.05, 0.0)]:
        stepped = euler_step(x0 + sigma * eps, x0, sigma, sigma_next)
        torch.testing.assert_close(stepped, x0 + sigma_next * eps)


def test_guidance_is_linear_so_v_and_x0_guidance_agree():
    x = _rand(*SHAPE, seed=3)
    v_u, v_c = _rand(*SHAPE, seed=4), _rand(*SHAPE, seed=5)
    scale = per_frame(torch.linspace(1, 3, SHAPE[1], dtype=torch.float64))
    sigma = 2.5
    on_v = x0_from_v(guided(v_u, v_c, scale), x, sigma)
    on_x0 = guided(x0_from_v(v_u, x, sigma), x0_from_v(v_c, x, sigma), scale)
    torch.testing.assert_close(on_v, on_x0)
    plain = v_u.numpy() + scale.numpy() * (v_c.numpy() - v_u.numpy())
    np.testing.assert_allclose(guided(v_u, v_c, scale).numpy(), plain)


def test_cfgpp_step_renoises_along_the_unconditional_direction():
    """CFG++ (Chung et al.): x_next = x0_guided + sigma_next·eps_uncond, with eps_uncond =
    (x - x0_uncond)/sigma; with target = direction it is the plain Euler step."""
    x, x0_u, x0_g = _rand(*SHAPE, seed=6), _rand(*SHAPE, seed=7), _rand(*SHAPE, seed=8)
    sigma, sigma_next = 3.0, 1.7
    eps_uncond = (x.numpy() - x0_u.numpy()) / sigma
    np.testing.assert_allclose(
        decoupled_euler_step(x, x0_g, x0_u, sigma, sigma_next).numpy(),
        x0_g.numpy() + sigma_next * eps_uncond,
    )
    torch.testing.assert_close(
        decoupled_euler_step(x, x0_g, x0_g, sigma, sigma_next),
        euler_step(x, x0_g, sigma, sigma_next),
    )


def test_renoise_adds_the_missing_variance():
    x, noise = _rand(*SHAPE, seed=9), _rand(*SHAPE, seed=10)
    out = renoise(x, 0.5, 2.0, noise, ratio=0.95)
    np.testing.assert_allclose(out.numpy(), x.numpy() + 0.95 * np.sqrt(4.0 - 0.25) * noise.numpy())
    # x0 + s_from·eps re-noised to s_to has the marginal std of level s_to per element
    many = renoise(torch.zeros(200_000, dtype=torch.float64), 0.5, 2.0, _rand(200_000, seed=11))
    draws = many + 0.5 * _rand(200_000, seed=12)
    assert abs(float(draws.std()) - 2.0) < 0.02


# --- time reversal, fusion, schedules, DDS ------------------------------------------


def test_time_flip_reverses_frames_only():
    x = _rand(*SHAPE, seed=13)
    flipped = time_flip(x)
    for k in range(SHAPE[1]):
        torch.testing.assert_close(flipped[:, k], x[:, SHAPE[1] - 1 - k])
    torch.testing.assert_close(time_flip(flipped), x)


def test_fusion_weights_and_fusion_per_frame():
    frames = SHAPE[1]
    np.testing.assert_allclose(
        linear_fusion_weights(frames).numpy(), 1 - np.arange(frames) / (frames - 1), rtol=1e-7
    )
    forward, backward = _rand(*SHAPE, seed=14), _rand(*SHAPE, seed=15)
    w = per_frame(linear_fusion_weights(frames).double())
    fused = fuse_bidirectional(forward, backward, w)
    for k in range(frames):  # frame k of the backward pass is frame F-1-k of the clip
        wk = 1 - k / (frames - 1)
        expect = wk * forward[:, k] + (1 - wk) * backward[:, frames - 1 - k]
        torch.testing.assert_close(fused[:, k], expect)
    torch.testing.assert_close(fused[:, 0], forward[:, 0])
    torch.testing.assert_close(fused[:, -1], backward[:, 0])  # the last keyframe's own end
    half = fuse_bidirectional(forward, backward, 0.5)
    torch.testing.assert_close(half, (forward + time_flip(backward)) / 2)


def test_symmetric_guidance_is_the_mean_of_the_ramp_and_its_reverse():
    ramp = per_frame(torch.linspace(1.0, 3.0, 25))
    sym = symmetric_guidance(ramp).flatten()
    assert torch.allclose(sym, torch.full((25,), 2.0))  # a linear ramp averages to its middle
    odd = per_frame(torch.tensor([1.0, 4.0, 2.0]))
    assert symmetric_guidance(odd).flatten().tolist() == [1.5, 4.0, 1.5]


def _official_trf_order(steps: int, jump_length: int, jump_n_sample: int, ratio: float):
    """TRF's schedule as its paper's RePaint-style description puts it, in reversed time
    t = S-1-step: walk t down from S-1; at a jump point t = j go back up jump_length levels
    (re-noise each) jump_n_sample - 1 times. Returns (denoising step indices in order, the
    number of levels re-noised before each)."""
    jumps = {
        j: jump_n_sample - 1 for j in range(int(steps * ratio), steps - jump_length, jump_length)
    }
    order, renoised, t, pending = [], [], steps, 0
    while t >= 1:
        t -= 1
        order.append(steps - 1 - t)
        renoised.append(pending)
        pending = 0
        if jumps.get(t, 0) > 0:
            jumps[t] -= 1
            for _ in range(jump_length):
                t += 1
                pending += 1
    return order, renoised


@pytest.mark.parametrize(
    "steps,length,n,ratio", [(50, 5, 2, 0.8), (50, 5, 3, 0.5), (25, 3, 2, 0.6), (10, 2, 1, 0.5)]
)
def test_jump_schedule_matches_the_repaint_walk(steps, length, n, ratio):
    order = jump_schedule(steps, length, n, ratio)
    expected, renoised = _official_trf_order(steps, length, n, ratio)
    assert order == expected
    # each jump re-noises from the level after the last step up to the next step's level
    levels = [0] + [k + 1 for k in order[:-1]]
    assert [max(level - k, 0) for level, k in zip(levels, order, strict=True)] == renoised
    assert order[-1] == steps - 1 and sorted(set(order)) == list(range(steps))


def test_jump_schedule_official_default():
    order = jump_schedule(50, 5, 2, 0.8)
    assert order[:10] == list(range(10)) and order[10:15] == [5, 6, 7, 8, 9]
    assert order[15:] == list(range(10, 50)) and len(order) == 55


def test_injection_schedule():
    order = injection_schedule(6, 2, 0.5)
    assert order == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 4, 5]
    assert (
        injection_schedule(50, 5, 0.5).count(24) == 6
        and injection_schedule(50, 5, 0.5).count(25) == 1
    )
    assert injection_schedule(5, 0, 0.5) == list(range(5))


def _conjugate_gradient(apply_a, b, x, iterations=5, eps=1e-5):
    """Plain CG for A x = b from x (DDS's solver, as the official sampler runs it)."""
    r = b - apply_a(x)
    p = r.clone()
    rs = (r * r).sum()
    for _ in range(iterations):
        ap = apply_a(p)
        alpha = rs / (p * ap).sum()
        x = x + alpha * p
        r = r - alpha * ap
        rs_new = (r * r).sum()
        if rs_new.sqrt() < eps:
            break
        p = r + rs_new / rs * p
        rs = rs_new
    return x


@pytest.mark.parametrize("frame", [-1, 0])
def test_dds_projection_is_what_conjugate_gradient_reaches(frame):
    x0 = _rand(*SHAPE, seed=16)
    keyframe = _rand(1, *SHAPE[2:], seed=17)
    mask = torch.zeros(SHAPE, dtype=torch.float64)
    mask[:, frame] = 1
    measurement = torch.zeros(SHAPE, dtype=torch.float64)
    measurement[:, frame] = keyframe
    solved = _conjugate_gradient(lambda z: mask * (mask * z), mask * measurement, x0)
    projected = dds_projection(x0, keyframe, frame)
    torch.testing.assert_close(projected, solved)
    others = [k for k in range(SHAPE[1]) if k != frame % SHAPE[1]]
    torch.testing.assert_close(projected[:, others], x0[:, others])
    assert not torch.equal(x0[:, frame], keyframe)  # the input is left alone


# --- the sampler's steps with a stand-in denoiser -------------------------------------


class LinearUNet(torch.nn.Module):
    """A stand-in for the SVD UNet: v = tanh(a·x_in + b·cond) with cond the concatenated
    keyframe latent, plus a per-frame offset (so time order matters) and a timestep term."""

    dtype = torch.float64

    def forward(self, sample, timestep, encoder_hidden_states, added_time_ids, return_dict=False):
        x_in, cond = sample.chunk(2, dim=2)
        frames = torch.arange(sample.shape[1], dtype=sample.dtype).view(1, -1, 1, 1, 1)
        emb = encoder_hidden_states.mean(dim=(1, 2)).view(-1, 1, 1, 1, 1)
        return (torch.tanh(0.7 * x_in + 0.5 * cond + 0.1 * frames + emb + 0.01 * timestep),)


def _denoiser(guided_: bool) -> SvdDenoiser:
    sigmas = torch.tensor([14.0, 6.0, 2.0, 0.5, 0.0], dtype=torch.float64)
    return SvdDenoiser(
        LinearUNet(), sigmas, 0.25 * sigmas[:-1].clamp_min(1e-3).log(), torch.zeros(2, 3), guided_
    )


def _condition(seed: int, guided_: bool) -> KeyframeCondition:
    latent = _rand(1, 1, *SHAPE[2:], seed=seed).repeat(1, SHAPE[1], 1, 1, 1)
    embedding = _rand(1, 1, 8, seed=seed + 1)
    if guided_:
        latent = torch.cat([torch.zeros_like(latent), latent])
        embedding = torch.cat([torch.zeros_like(embedding), embedding])
    return KeyframeCondition(embedding, latent, _rand(1, *SHAPE[2:], seed=seed + 2))


def _plain_v(x, sigma, t, cond: KeyframeCondition, row: int):
    """The stand-in's v for one CFG row (0: uncond, 1: cond), computed directly."""
    x_in = x / np.sqrt(sigma**2 + 1)
    frames = torch.arange(x.shape[1], dtype=x.dtype).view(1, -1, 1, 1, 1)
    emb = cond.embeddings[row].mean()
    return torch.tanh(
        0.7 * x_in + 0.5 * cond.latents[row : row + 1] + 0.1 * frames + emb + 0.01 * t
    )


def test_fused_step_equals_trfs_fusion_of_two_stepped_passes():
    """TRF's code steps each pass with the scheduler and blends the latents; fusing the
    predictions before one Euler step is the same operation (weights sum to 1)."""
    den = _denoiser(True)
    first, last = _condition(20, True), _condition(30, True)
    ramp = per_frame(torch.linspace(1, 3, SHAPE[1], dtype=torch.float64))
    weights = per_frame(linear_fusion_weights(SHAPE[1]).double())
    x = 14.0 * _rand(*SHAPE, seed=18)
    ours = FusedStep(den, first, ramp, last, ramp, weights)(x, 0)

    sigma, sigma_next, t = 14.0, 6.0, float(den.timesteps[0])

    def one_pass(latents, cond):
        v_u = _plain_v(latents, sigma, t, cond, 0)
        v_c = _plain_v(latents, sigma, t, cond, 1)
        v = v_u + ramp * (v_c - v_u)
        x0 = v * (-sigma / np.sqrt(sigma**2 + 1)) + latents / (sigma**2 + 1)
        return latents + (latents - x0) / sigma * (sigma_next - sigma)

    forward = one_pass(x, first)
    backward = torch.flip(one_pass(torch.flip(x, [1]), last), [1])
    expected = weights * forward + (1 - weights) * backward
    torch.testing.assert_close(ours, expected)
    alone = FusedStep(den, first, ramp)(x, 0)
    torch.testing.assert_close(alone, forward)


def test_vibid_step_is_the_official_loop_body():
    """ViBiDSampler's step written as its paper's algorithm: forward half (CFG on x0,
    DDS with the last keyframe, CFG++ update), re-noise sigma_{i+1} → sigma_i, flip, the
    same with the first keyframe, flip back."""
    den = _denoiser(True)
    first, last = _condition(40, True), _condition(50, True)
    scale = per_frame(torch.full((SHAPE[1],), 1.0, dtype=torch.float64))
    x = 6.0 * _rand(*SHAPE, seed=19)
    step_index, sigma, sigma_next = 1, 6.0, 2.0
    t = float(den.timesteps[step_index])
    ours = VibidStep(den, first, last, scale, NoiseSource(torch.Generator().manual_seed(5)))(
        x, step_index
    )

    def half(latents, cond, far):
        x0_u, x0_c = (
            _plain_v(latents, sigma, t, cond, row) * (-sigma / np.sqrt(sigma**2 + 1))
            + latents / (sigma**2 + 1)
            for row in (0, 1)
        )
        x0 = x0_u + scale * (x0_c - x0_u)
        x0[:, -1] = far  # DDS
        return x0 + sigma_next * (latents - x0_u) / sigma  # CFG++

    noise = torch.randn(SHAPE, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    mid = half(x, first, last.clean_latent)
    mid = mid + noise * np.sqrt(sigma**2 - sigma_next**2)
    expected = torch.flip(half(torch.flip(mid, [1]), last, first.clean_latent), [1])
    torch.testing.assert_close(ours, expected)


def test_vibid_step_with_options_off_is_svds_step():
    den = _denoiser(True)
    first, last = _condition(40, True), _condition(50, True)
    ramp = per_frame(torch.linspace(1, 3, SHAPE[1], dtype=torch.float64))
    x = 6.0 * _rand(*SHAPE, seed=21)
    noise = NoiseSource(torch.Generator().manual_seed(0))
    plain = VibidStep(den, first, last, ramp, noise, backward=False, cfgpp=False, dds=False)
    assert torch.equal(plain(x, 1), FusedStep(den, first, ramp)(x, 1))
    with pytest.raises(ValueError, match="CFG\\+\\+ needs"):
        VibidStep(_denoiser(False), first, last, ramp, noise)


def test_sample_renoises_only_when_going_back():
    sigmas = torch.tensor([8.0, 4.0, 2.0, 1.0, 0.0], dtype=torch.float64)
    seen = []

    def step(x, k):
        seen.append((k, x.clone()))
        return x * 0.5  # any deterministic step

    generator = torch.Generator().manual_seed(3)
    x = torch.ones(SHAPE, dtype=torch.float64)
    plan = SamplingPlan(step, [0, 1, 2, 1, 2, 3], noise_ratio=0.9)
    out = sample(plan, x, sigmas, NoiseSource(generator))
    assert [k for k, _ in seen] == [0, 1, 2, 1, 2, 3]
    after_two = 0.125 * torch.ones(SHAPE, dtype=torch.float64)  # steps 0, 1, 2 run: level 3
    replay = torch.randn(SHAPE, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    # back to step 1: from sigma_3 = 1 up to sigma_1 = 4
    torch.testing.assert_close(seen[3][1], after_two + 0.9 * np.sqrt(16.0 - 1.0) * replay)
    torch.testing.assert_close(seen[1][1], 0.5 * x)  # no noise on the way down
    torch.testing.assert_close(out, seen[-1][1] * 0.5)


# --- GI's rotated temporal attention ---------------------------------------------------


def _temporal_attention(channels=16, heads=2, seed=0):
    from diffusers.models.attention_processor import Attention

    torch.manual_seed(seed)
    return Attention(query_dim=channels, heads=heads, dim_head=channels // heads).eval()


def _plain_attention(x, wq, wk, wv, wo, bo, heads, probs=None):
    """Multi-head self-attention over frames, per row of x (B, F, C), written out."""
    b, f, c = x.shape
    d = c // heads
    q = (x @ wq.T).view(b, f, heads, d).transpose(1, 2)
    k = (x @ wk.T).view(b, f, heads, d).transpose(1, 2)
    v = (x @ wv.T).view(b, f, heads, d).transpose(1, 2)
    if probs is None:
        probs = torch.softmax(q @ k.transpose(-1, -2) / np.sqrt(d), dim=-1)
    out = (probs @ v).transpose(1, 2).reshape(b, f, c)
    return out @ wo.T + bo, probs


def test_rotated_attention_against_the_plain_equations():
    attn = _temporal_attention()
    heads, frames = attn.heads, 5
    x_f = _rand(6, frames, 16, seed=22, dtype=torch.float32)
    x_b = _rand(6, frames, 16, seed=23, dtype=torch.float32)
    reverse = {
        "to_v.weight": _rand(16, 16, seed=24, dtype=torch.float32) * 0.2,
        "to_out.0.weight": _rand(16, 16, seed=25, dtype=torch.float32) * 0.2,
        "to_out.0.bias": _rand(16, seed=26, dtype=torch.float32) * 0.2,
    }
    state = GiAttentionState()
    processor = RotatedTemporalAttention("layer", state, attn.processor, True, reverse)
    wq, wk, wv = attn.to_q.weight, attn.to_k.weight, attn.to_v.weight
    wo, bo = attn.to_out[0].weight, attn.to_out[0].bias
    with torch.no_grad():
        state.mode = "stock"
        stock = processor(attn, x_f)
        state.mode = "forward"
        out_f = processor(attn, x_f)
        state.mode = "backward"
        out_b = processor(attn, x_b)
        plain_f, probs_f = _plain_attention(x_f, wq, wk, wv, wo, bo, heads)
        # rotated map: (i, j) of the backward pass is (F-1-i, F-1-j) of the forward one
        rotated = torch.empty_like(probs_f)
        for i in range(frames):
            for j in range(frames):
                rotated[..., i, j] = probs_f[..., frames - 1 - i, frames - 1 - j]
        plain_b, _ = _plain_attention(
            x_b,
            wq,
            wk,
            reverse["to_v.weight"],
            reverse["to_out.0.weight"],
            reverse["to_out.0.bias"],
            heads,
            probs=rotated,
        )
    torch.testing.assert_close(out_f, plain_f, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(stock, plain_f, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(
        state.maps["layer"], probs_f.reshape(-1, frames, frames), atol=1e-6, rtol=1e-5
    )
    torch.testing.assert_close(out_b, plain_b, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(rotate_attention_map(probs_f), rotated)


def test_backward_pass_without_rotation_attends_with_its_own_map():
    attn = _temporal_attention(seed=1)
    x_b = _rand(3, 4, 16, seed=27, dtype=torch.float32)
    state = GiAttentionState(mode="backward")
    processor = RotatedTemporalAttention("layer", state, attn.processor, rotate=False)
    with torch.no_grad():
        out = processor(attn, x_b)
        plain, _ = _plain_attention(
            x_b,
            attn.to_q.weight,
            attn.to_k.weight,
            attn.to_v.weight,
            attn.to_out[0].weight,
            attn.to_out[0].bias,
            attn.heads,
        )
    torch.testing.assert_close(out, plain, atol=1e-6, rtol=1e-5)
    rotating = RotatedTemporalAttention("other", GiAttentionState(mode="backward"), attn.processor)
    with pytest.raises(RuntimeError, match="before a forward pass"):
        rotating(attn, x_b)


def test_install_on_the_svd_unet_touches_temporal_self_attention_only():
    from tgibench.models.svd_tiny import tiny_unet

    unet = tiny_unet()
    stock = dict(unet.attn_processors)
    layers = temporal_attention_layers(list(stock))
    assert layers and all(".temporal_transformer_blocks.0.attn1" in layer for layer in layers)
    assert len(layers) == sum(1 for name in stock if "temporal_transformer_blocks" in name) // 2
    handle = install_gi_attention(unet)
    for name, processor in unet.attn_processors.items():
        changed = name.removesuffix(".processor") in layers
        assert isinstance(processor, RotatedTemporalAttention) == changed
        assert changed or processor is stock[name]
    inputs = {
        "sample": _rand(2, 5, 8, 4, 6, seed=28, dtype=torch.float32),
        "timestep": torch.tensor(0.5),
        "encoder_hidden_states": _rand(2, 1, 32, seed=29, dtype=torch.float32),
        "added_time_ids": torch.zeros(2, 3),
        "return_dict": False,
    }
    with torch.no_grad():
        installed = unet(**inputs)[0]  # "stock" mode: the stock processors run
        handle.remove()
        plain = unet(**inputs)[0]
    assert torch.equal(installed, plain)
    assert all(unet.attn_processors[name] is stock[name] for name in stock)
    with pytest.raises(ValueError, match="cover 1 layers"):
        install_gi_attention(unet, reverse={layers[0]: {}})
