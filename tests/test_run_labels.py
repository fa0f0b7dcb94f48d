"""A run's label: --name, else its spec, shortened for videos made elsewhere."""

from __future__ import annotations

from typer.testing import CliRunner

from tgibench.cli import app
from tgibench.leaderboard import load_runs
from tgibench.leaderboard.runs import LABEL_WIDTH, run_label

runner = CliRunner()


def _record(model: str, name: str | None = None) -> dict[str, object]:
    return {"model": model, "config": {"model": model, "name": name}}


def test_labels_of_specs():
    long_folder = "folder:path=/data/outs/a,pattern={num_frames}/{folder}.mp4"
    assert run_label(_record(long_folder)) == "folder:a"
    batch = 'batch:cmd="python /home/me/svd/gen.py --cases {cases} --out {out}",timeout=9'
    assert run_label(_record(batch)) == "batch:gen.py"
    assert run_label(_record('command:cmd="fcvg-run {first} {last} {out}"')) == "command:fcvg-run"
    assert run_label(_record("tgi:preset=tiny")) == "tgi:preset=tiny"
    assert run_label(_record(long_folder, name="TRF (ours)")) == "TRF (ours)"
    long_spec = "wan:" + ",".join(f"option{i}={i}" for i in range(20))
    assert len(run_label(_record(long_spec))) == LABEL_WIDTH


def test_name_labels_a_run_in_every_table_and_can_change_on_resume(tmp_path):
    made = tmp_path / "made"
    select = ["--bench", "mini", "--lengths", "25", "--challenges", "linear motion"]
    common = ["--metrics", "psnr", "-q", "--workers", "1"]
    done = runner.invoke(
        app, ["evaluate", "--model", "crossfade", *select, *common, "--out", str(made)]
    )
    assert done.exit_code == 0, done.output
    scored = tmp_path / "scored"
    score = ["score", "--videos", str(made / "videos"), *select, *common, "--out", str(scored)]
    assert runner.invoke(app, score).exit_code == 0
    assert set(load_runs([scored]).cases["model"]) == {"folder:videos"}
    board = runner.invoke(app, ["leaderboard", str(made), str(scored)])
    assert "folder:videos" in board.output and "path=" not in board.output
    assert max(len(line) for line in board.output.splitlines()) <= 120
    assert runner.invoke(app, [*score, "--name", "my model"]).exit_code == 0  # a resume
    assert set(load_runs([scored]).cases["model"]) == {"my model"}
    markdown = runner.invoke(app, ["leaderboard", str(scored), "--format", "md"])
    assert "| my model |" in markdown.output
