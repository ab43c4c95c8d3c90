"""Hostile or malformed config and sweep files never reach Python internals: one safe YAML
reader (size, depth and alias limits; duplicate keys an error; no tags that build objects) and
every section strict about unknown keys, each refusal one line naming the file, nothing
written."""

from __future__ import annotations

import pytest
import yaml
from helpers import files_under, invoke, one_line_error

from rnnzoo.bench.sweep import load_sweep
from rnnzoo.errors import InvalidParameterError

MAX_BYTES, MAX_DEPTH, MAX_NODES = 1_000_000, 32, 100_000  # the limits of rnnzoo._yaml


def bomb(indent: str) -> str:
    """A "billion laughs": 9 levels of 10 aliases each (10^9 values once expanded)."""
    lines = [f"{indent}a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"{indent}a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


BOMB = "task:\n  task: flipflop\n  params:\n" + bomb("    ")
SWEEP_BOMB = "name: s\nresults: out\ntasks:\n  - task: flipflop\n    params:\n" + bomb("      ")
CASES = {
    # name: (file content, words the error line must hold)
    "alias bomb in task": (BOMB, f"more than {MAX_NODES} values"),
    "deep nesting": ("task: " + "[" * 10_000 + "]" * 10_000 + "\n", f"nested more than {MAX_DEPTH}"),
    "binary garbage": (bytes(range(256)) * 8, "not UTF-8 text"),
    "NUL bytes": ("task: {task: flipflop}\n\x00\x00", "not valid YAML"),
    "too large": ("# " + "x" * MAX_BYTES + "\n", f"larger than {MAX_BYTES} bytes"),
    "python tag": ("task: !!python/object/apply:os.system [echo hi]\n", "not valid YAML"),
    "params a list": ("task: {task: flipflop, params: [1, 2]}\n", "'params' must be a mapping"),
    "version a number": ("task: {task: flipflop, version: 5}\n", "'version' must be text"),
    "task name a list": ("task: {task: [flipflop]}\n", "'task' must be text"),
    "duplicate key": (
        "task: {task: flipflop}\ntrain: {lr: 0.1}\ntrain: {lr: 0.2}\n", "'train' is given twice (lines 2 and 3)"
    ),
    "duplicate in flow": ("task: {task: flipflop, task: dm1}\n", "'task' is given twice"),
    "misspelt version": ("task: {task: flipflop, verison: long}\n", "did you mean 'version'"),
    "misspelt params": ("task: {task: flipflop, parms: {n_bits: 2}}\n", "did you mean 'params'"),
    "misspelt train key": ("task: {task: flipflop}\ntrain: {lrr: 0.1}\n", "unknown parameter 'lrr'"),
    "misspelt section": ("task: {task: flipflop}\ntrian: {lr: 0.1}\n", "unknown parameter 'trian'"),
    "misspelt compose key": ("task: {compose: {tasks: [{task: flipflop}], mdoe: x}}", "did you mean 'mode'"),
    "compose weights text": ("task: {compose: {tasks: [{task: flipflop}], weights: [a]}}", "list of numbers"),
    "misspelt option": ("task: {task: flipflop}\nmodel: {options: {n_hiden: 8}}", "did you mean 'n_hidden'"),
    "impossible date": ("task: {task: flipflop}\ncreated: 2020-13-45\n", "cannot read"),
    "not a mapping": ("- task\n- flipflop\n", "expected a mapping"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_config_is_one_line_error_and_writes_nothing(tmp_path, case):
    content, words = CASES[case]
    path = tmp_path / "config.yaml"
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    before = files_under(tmp_path)
    line = one_line_error(invoke("train", "--out", str(tmp_path / "run"), "--config", str(path)))
    assert words in line, line
    assert files_under(tmp_path) == before


SWEEP = {
    "name": "s",
    "results": "out",
    "tasks": [{"task": "flipflop", "params": {"n_bits": 1}}],
    "models": [{"kind": "leaky_rate", "options": {"n_hidden": 8}}],
    "train": {"max_steps": 5},
}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"tasks": [{"task": "flipflop", "parms": {}}]}, "unknown parameter 'parms'"),
        ({"tasks": [{"task": "flipflop", "params": {"n_bit": 1}}]}, "did you mean 'n_bits'"),
        ({"models": [{"kind": "leaky_rate", "option": {}}]}, "unknown parameter 'option'"),
        ({"methods": [{"name": "sctt", "hyperparameter": {}}]}, "unknown parameter"),
        ({"train": {"max_step": 5}}, "did you mean 'max_steps'"),
        ({"dask": {"clustr": "local"}}, "unknown parameter 'clustr'"),
        ({"seeds": {"start": 0, "cont": 2}}, "'seeds'"),
        ({"resutls": "x"}, "unknown parameter 'resutls'"),
    ],
)
def test_every_sweep_section_is_strict(tmp_path, change, words):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({**SWEEP, **change}))
    with pytest.raises(InvalidParameterError, match=words):
        load_sweep(path)


def test_sweep_files_go_through_the_same_reader(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP_BOMB)
    line = one_line_error(invoke("bench", "plan", str(path)))
    assert "sweep file" in line and f"more than {MAX_NODES} values" in line
