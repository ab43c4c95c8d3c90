"""`--resume` takes the run's own config and applies only the documented changes (max_steps,
target_performance, device); a folder that holds no run is refused (issue 15 item 6, issue 14
item 7)."""

from __future__ import annotations

import json

from helpers import TINY_CLI, files_under, invoke, one_line_error


def test_resume_of_a_folder_without_a_run_is_refused(tmp_path):
    empty = tmp_path / "empty"
    line = one_line_error(invoke("train", "--out", str(empty), "--resume"))
    assert "holds no run to resume" in line and not empty.exists()
    empty.mkdir()
    (empty / "notes.txt").write_text("mine")
    one_line_error(invoke("train", "--out", str(empty), "--resume", "--max-steps", "5"))
    assert files_under(tmp_path) == ["empty", "empty/notes.txt"]


def test_resume_extends_a_finished_run_with_its_own_config(tmp_path):
    run = tmp_path / "run"
    first = invoke("train", "--out", str(run), "--max-steps", "4", "--seed", "7", *TINY_CLI)
    assert first.exit_code == 0, first.output
    saved = (run / "config.yaml").read_text()
    more = invoke("train", "--out", str(run), "--resume", "--max-steps", "6", "--no-report")
    assert more.exit_code == 0, more.output
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == 6 and summary["seed"] == 7
    assert (run / "config.yaml").read_text() == saved.replace("max_steps: 4", "max_steps: 6")
    # the documented changes through --set too; the original options may be repeated
    again = invoke(
        "train", "--out", str(run), "--resume", "--set", "max_steps=8", "--seed", "7",
        "--set", "target_performance=0.99", *TINY_CLI,
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert json.loads((run / "summary.json").read_text())["steps"] == 8


def test_resume_refuses_other_changes_and_names_them(tmp_path):
    run = tmp_path / "run"
    assert invoke("train", "--out", str(run), "--max-steps", "2", *TINY_CLI).exit_code == 0
    before = {p: (run / p).read_bytes() for p in files_under(run) if (run / p).is_file()}
    for args, named in (
        (["--set", "lr=0.5"], "train.lr: run 0.003, given 0.5"),
        (["--seed", "3"], "train.seed: run 0, given 3"),
        (["--set", "n_hidden=32"], "model.options.n_hidden: run 16, given 32"),
        (["--task", "dm1"], "task.task: run 'flipflop', given 'dm1'"),
    ):
        line = one_line_error(invoke("train", "--out", str(run), "--resume", *args))
        assert named in line and "only max_steps, target_performance, device may change" in line
    after = {p: (run / p).read_bytes() for p in files_under(run) if (run / p).is_file()}
    assert after == before
