"""FCVG (Zhu et al., CVPR 2025) on TGI-Bench cases, in FCVG's own environment (no tgibench).

A worked example of a real method behind the batch adapter. Run it from a clone of
github.com/Tian-one/FCVG set up as its README says (conda env, GlueStick and DWPose weights,
``checkpoints/controlnext.safetensors`` and ``checkpoints/unet.safetensors``, access to
``stabilityai/stable-video-diffusion-img2vid-xt-1-1``), with this file and
``batch_crossfade.py`` (for ``write_mp4``) copied into the clone and PyAV installed:

    python batch_fcvg.py --cases EXPORT_DIR/cases.jsonl
    tgibench evaluate --bench use08174/TGI-Benchmark --lengths 65,81 --out runs/fcvg \\
        --name FCVG --model 'batch:cmd="conda run -n FCVG python batch_fcvg.py --cases {cases}"'

For a case of N frames it does what FCVG's ``demo_FCVG.py`` does for its 25: both keyframes
centre-cropped to 16:9 and resized to 1024x576; GlueStick line matches and DWPose poses
between them, interpolated linearly to N - 2 in-between frames and drawn as the frame-wise
conditions (poses over lines); FCVG's pipeline over the N frames in windows of 25 that
overlap by 6 (FCVG's own way to long clips), 25 steps, guidance 3.0, fps 7, motion bucket
127, VAE chunks of 2. Unlike the demo it seeds each case with the run's seed. A case that
fails is reported in ``<video>.failed`` and the script goes on.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch_crossfade import write_mp4  # beside this file

#: FCVG's settings, as its demo script runs them (demo.sh and demo_FCVG.py's defaults).
SETTINGS = {
    "base": "stabilityai/stable-video-diffusion-img2vid-xt-1-1",
    "controlnext": "checkpoints/controlnext.safetensors",
    "unet": "checkpoints/unet.safetensors",
    "size": (1024, 576),
    "steps": 25,
    "window": 25,
    "overlap": 6,
    "max_points": 1000,
    "max_lines": 300,
}

#: (first, last, num_frames, seed) → num_frames RGB PIL images.
Inbetween = Callable[[Image.Image, Image.Image, int, int], list[Image.Image]]


def load_fcvg() -> Inbetween:
    """Load FCVG's models once (run from the FCVG clone) and return the inbetweening function."""
    import demo_FCVG as demo  # FCVG's demo: its model classes, loaders and condition drawing
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    demo.device = device  # the demo's matching function reads its module-level device
    matcher = (
        demo.TwoViewPipeline(
            {
                "name": "two_view_pipeline",
                "use_lines": True,
                "extractor": {
                    "name": "wireframe",
                    "sp_params": {
                        "force_num_keypoints": False,
                        "max_num_keypoints": SETTINGS["max_points"],
                    },
                    "wireframe_params": {"merge_points": True, "merge_line_endpoints": True},
                    "max_n_lines": SETTINGS["max_lines"],
                },
                "matcher": {
                    "name": "gluestick",
                    "weights": str(
                        demo.GLUESTICK_ROOT
                        / "resources"
                        / "weights"
                        / "checkpoint_GlueStick_MD.tar"
                    ),
                    "trainable": False,
                },
                "ground_truth": {"from_pose_depth": False},
            }
        )
        .to(device)
        .eval()
    )
    unet = demo.UNetSpatioTemporalConditionControlNeXtModel.from_pretrained(
        SETTINGS["base"], subfolder="unet", low_cpu_mem_usage=True
    )
    unet.load_state_dict(demo.load_tensor(SETTINGS["unet"]), strict=False)
    controlnext = demo.ControlNeXtSDVModel()
    controlnext.load_state_dict(demo.load_tensor(SETTINGS["controlnext"]))
    pipeline = demo.StableVideoDiffusionPipelineControlNeXtReverse.from_pretrained(
        SETTINGS["base"],
        controlnext=controlnext,
        unet=unet,
        vae=demo.AutoencoderKLTemporalDecoder.from_pretrained(SETTINGS["base"], subfolder="vae"),
        image_encoder=demo.CLIPVisionModelWithProjection.from_pretrained(
            SETTINGS["base"], subfolder="image_encoder"
        ),
    )
    pipeline.enable_model_cpu_offload()

    def inbetween(
        first: Image.Image, last: Image.Image, num_frames: int, seed: int
    ) -> list[Image.Image]:
        first = demo.crop_and_resize(first, SETTINGS["size"])
        last = demo.crop_and_resize(last, SETTINGS["size"])
        lines = demo.infer_gluestick_interp(matcher, first, last, interp_frames=num_frames - 2)
        poses = demo.infer_poses_interp(first, last, num_frames=num_frames - 2)
        conditions = []
        for line_image, pose_image in zip(lines, poses, strict=True):
            drawn = line_image.copy()
            drawn[pose_image != 0] = pose_image[pose_image != 0]
            conditions.append(Image.fromarray(drawn))
        width, height = SETTINGS["size"]
        output = pipeline(
            first,
            last,
            conditions,
            num_frames=num_frames,
            frames_per_batch=min(SETTINGS["window"], num_frames),
            overlap=SETTINGS["overlap"],
            num_inference_steps=SETTINGS["steps"],
            min_guidance_scale=3.0,
            max_guidance_scale=3.0,
            fps=7,
            motion_bucket_id=127.0,
            control_weight=1.0,
            decode_chunk_size=2,
            width=width,
            height=height,
            generator=torch.Generator("cpu").manual_seed(seed),
        )
        return [frame for video in output.frames for frame in video]

    return inbetween


def run(cases_file: Path, inbetween: Inbetween) -> None:
    """Make every case of ``cases_file``: its video at its ``video`` path, or ``<video>.failed``."""
    root = cases_file.parent  # paths in an export are relative to its folder
    for line in cases_file.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        video_path = root / case["video"]
        try:
            first = Image.open(root / case["first"]).convert("RGB")
            last = Image.open(root / case["last"]).convert("RGB")
            frames = inbetween(first, last, case["num_frames"], case.get("seed", 0))
            if len(frames) != case["num_frames"]:
                raise RuntimeError(f"{len(frames)} frames made, {case['num_frames']} asked for")
            write_mp4(video_path, np.stack([np.asarray(f.convert("RGB")) for f in frames]))
            print(f"{case['case_id']}: {len(frames)} frames", flush=True)
        except Exception as exc:  # the case fails, the run goes on
            video_path.parent.mkdir(parents=True, exist_ok=True)
            video_path.with_name(video_path.name + ".failed").write_text(
                f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
            )
            print(f"{case['case_id']}: failed ({exc})", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=Path, required=True, help="a cases.jsonl")
    args = parser.parse_args(argv)
    run(args.cases, load_fcvg())


if __name__ == "__main__":
    main()
