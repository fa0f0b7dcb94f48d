"""The model template: ModelBase checks, the request it builds, the output helpers, the
options machinery, and the case context the runner passes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tgibench.data import load_benchmark
from tgibench.models import (
    CaseContext,
    GenerationRequest,
    ModelBase,
    build_model,
    check_keyframes,
    frame_times,
    model_options,
    register_model,
    to_video_output,
)
from tgibench.models.wan import PRESET_DEFAULTS
from tgibench.spec import SpecError
from tgibench.video import VideoError, write_video


class Recorder(ModelBase):
    """Returns the first keyframe repeated, after recording the request."""

    def __init__(self) -> None:
        self.requests: list[GenerationRequest] = []

    def make_frames(self, request: GenerationRequest) -> torch.Tensor:
        self.requests.append(request)
        return request.first.expand(request.num_frames, -1, -1, -1)


@register_model("test-context-recorder")
class _RegisteredRecorder(Recorder):
    """A recorder the runner can build (test only)."""

    seen: list[CaseContext] = []  # noqa: RUF012 (class-level on purpose: the runner builds it)

    def make_frames(self, request: GenerationRequest) -> torch.Tensor:
        _RegisteredRecorder.seen.append(request.context)
        return super().make_frames(request)


def test_the_request_carries_checked_inputs_and_the_time_grid():
    model = Recorder()
    first, last = torch.rand(3, 6, 8), torch.rand(3, 6, 8)
    context = CaseContext(case_id="a-9", folder="a", challenge="occlusion")
    video = model.generate(first, last, "a prompt", 9, seed=7, context=context)
    request = model.requests[0]
    assert video.shape == (9, 3, 6, 8) and video.is_contiguous()
    assert request.prompt == "a prompt" and request.seed == 7 and request.context is context
    assert request.size == (6, 8) and request.first is first and request.last is last
    torch.testing.assert_close(request.times, torch.arange(9, dtype=torch.float32) / 8)
    model.generate(first, last, "", 2)
    assert model.requests[1].context == CaseContext() and model.requests[1].seed == 0


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (torch.rand(3, 4, 4), torch.rand(3, 4, 5), "differ in size"),
        (torch.rand(4, 4), torch.rand(3, 4, 4), "first keyframe"),
        (torch.rand(3, 4, 4), torch.rand(3, 4, 4) + 2, "last keyframe: values must lie in"),
        (torch.rand(1, 4, 4), torch.rand(1, 4, 4), r"shape \(T, 3, H, W\)"),
    ],
)
def test_bad_keyframes_are_refused_before_the_model_runs(first, last, message):
    model = Recorder()
    with pytest.raises(VideoError, match=message):
        model.generate(first, last, "", 5)
    with pytest.raises(VideoError, match=message):
        check_keyframes(first, last)
    assert model.requests == []


@pytest.mark.parametrize("n", [1, 0, 2.5, True])
def test_frame_counts_below_two_or_not_integers_are_refused(n):
    with pytest.raises(ValueError, match="num_frames"):
        Recorder().generate(torch.rand(3, 4, 4), torch.rand(3, 4, 4), "", n)
    with pytest.raises(ValueError, match="num_frames"):
        frame_times(n)


def test_a_wrong_frame_count_from_make_frames_is_an_error():
    class Short(ModelBase):
        def make_frames(self, request):
            return request.first.expand(request.num_frames - 1, -1, -1, -1)

    with pytest.raises(VideoError, match=r"Short.make_frames returned 4 frames, 5 requested"):
        Short().generate(torch.rand(3, 4, 4), torch.rand(3, 4, 4), "", 5)
    with pytest.raises(NotImplementedError, match="make_frames"):
        ModelBase().generate(torch.rand(3, 4, 4), torch.rand(3, 4, 4), "", 5)


def test_to_video_output_converts_layouts_and_dtypes():
    rng = np.random.default_rng(0)
    hwc = rng.integers(0, 256, size=(4, 6, 8, 3), dtype=np.uint8)
    video = to_video_output(hwc, channels_last=True)
    assert video.dtype == torch.uint8 and video.shape == (4, 3, 6, 8)
    assert np.array_equal(video.permute(0, 2, 3, 1).numpy(), hwc)
    frames = [torch.rand(3, 6, 8, dtype=torch.float64) for _ in range(3)]
    stacked = to_video_output(frames)
    assert stacked.dtype == torch.float32 and torch.equal(stacked, torch.stack(frames).float())
    same = torch.rand(2, 3, 4, 4)
    assert to_video_output(same).data_ptr() == same.data_ptr()  # in the convention: no copy
    with pytest.raises(VideoError, match="dtype torch.int64"):
        to_video_output(torch.zeros(2, 3, 4, 4, dtype=torch.int64))
    with pytest.raises(VideoError, match="values must lie in"):
        to_video_output(torch.full((2, 3, 4, 4), 255.0))
    with pytest.raises(VideoError, match="no frames"):
        to_video_output([])


def test_folder_model_reads_the_case_from_the_context(tmp_path):
    video = (torch.arange(5 * 3 * 8 * 8) % 256).to(torch.uint8).reshape(5, 3, 8, 8)
    write_video(tmp_path / "cat-5.mp4", video)
    model = build_model(f"folder:path={tmp_path}")
    keyframe = torch.rand(3, 8, 8)
    out = model.generate(keyframe, keyframe, "", 5, context=CaseContext(case_id="cat-5"))
    assert torch.equal(out, video)
    with pytest.raises(ValueError, match="needs the case id"):
        model.generate(keyframe, keyframe, "", 5)


def test_the_runner_passes_each_case_its_context(tgi_root, tmp_path):
    from tgibench.eval.config import EvalConfig
    from tgibench.eval.runner import evaluate

    _RegisteredRecorder.seen.clear()
    config = EvalConfig(
        model="test-context-recorder",
        bench=str(tgi_root),
        out=tmp_path / "run",
        metrics=("psnr",),
        save_videos=False,
    )
    summary = evaluate(config, progress=False)
    assert summary.ok and summary.scored == 5
    expected = [CaseContext.from_case(case) for case in load_benchmark(str(tgi_root))]
    assert _RegisteredRecorder.seen == expected
    assert {c.challenge for c in expected} >= {"occlusion", "linear motion"}
    assert all(c.case_id and c.first_desc.startswith("first frame of") for c in expected)


# ------------------------------------------------------------------------------- options


def test_constructor_keywords_are_options():
    options = model_options(build_model("flow").__class__)
    assert [(o.name, o.default, o.annotation) for o in options.values()] == [
        ("levels", 5, int),
        ("winsize", 21, int),
        ("iterations", 5, int),
        ("occlusion_px", 1.5, float),
    ]
    with pytest.raises(SpecError, match=r"model 'folder' needs option\(s\) path"):
        build_model("folder")


def test_wan_and_tgi_share_one_options_dataclass():
    from dataclasses import fields

    from tgibench.methods import TGIConfig
    from tgibench.models import MODELS
    from tgibench.models.tgi import TgiOptions
    from tgibench.models.wan import WanOptions

    wan, tgi = model_options(MODELS.get("wan")), model_options(MODELS.get("tgi"))
    assert list(wan) == [f.name for f in fields(WanOptions)]
    method = [f.name for f in fields(TGIConfig) if f.name != "temporal_compression"]
    assert list(tgi) == list(wan) + method
    assert tgi["kab"].path == ("method", "kab") and tgi["steps"].path == ("steps",)
    assert tgi["edge_widths"].default == {25: 2, 33: 3, 65: 6, 81: 8}
    assert issubclass(TgiOptions, WanOptions)
    assert set(PRESET_DEFAULTS) == {"full", "tiny"}
    for bad, key in [
        ("preset=huge", "preset"),
        ("offload=disk", "offload"),
        ("dtype=fp8", "dtype"),
    ]:
        with pytest.raises(ValueError, match=key):
            WanOptions(**dict([bad.split("=")]))


def test_docstring_examples_run():
    import doctest

    import tgibench.models.base as base

    assert doctest.testmod(base).failed == 0
