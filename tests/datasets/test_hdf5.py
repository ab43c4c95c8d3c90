"""HDF5 export: full config in attributes, bit-identical reload, atomic writes, clear errors."""

import json
import os

import h5py
import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks
from rnnzoo.datasets import export_task, load_batch, load_task, read_attributes, save_batch


@pytest.mark.parametrize(("name", "version"), [("flipflop", "jarne2020"), ("tmaze", "realistic")])
def test_export_reload_is_bit_identical(tmp_path, name, version):
    task = tasks.make(name, version)
    path = export_task(task, tmp_path / "data.h5", batch_size=12, seed=9, split="validation")
    stored = load_batch(path)
    assert stored.equals(task.generate(12, 9, split="validation"))
    assert stored.inputs.dtype == np.float32 and stored.config == task.config()


def test_attributes_hold_the_full_config_and_regenerate_the_data(tmp_path):
    task = tasks.make("flipflop", "realistic", n_bits=2, noise_scale=0.2)
    path = export_task(task, tmp_path / "ff.h5", batch_size=8, seed=4)
    attrs = read_attributes(path)
    assert (
        attrs["config"]["params"]["n_bits"] == 2 and attrs["config"]["params"]["noise_scale"] == 0.2
    )
    assert attrs["config"]["params"]["interval_ms"]["kind"] == "truncexp"
    assert attrs["seed"] == 4 and attrs["split"] == "train" and attrs["format_version"] == 1
    rebuilt = load_task(path)
    assert rebuilt.generate(8, attrs["seed"], split=attrs["split"]).equals(load_batch(path))


def test_compositions_export_too(tmp_path):
    multi = tasks.compose(
        [tasks.make("flipflop", n_bits=1)] * 2,
        mode="parallel",
        rule_inputs=False,
        silenced=["flipflop_1"],
    )
    path = export_task(multi, tmp_path / "multi.h5", batch_size=6, seed=1)
    assert load_task(path).generate(6, 1).equals(load_batch(path))


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    batch = tasks.make("flipflop").generate(4, 0)

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(h5py.Group, "create_group", explode)
    with pytest.raises(OSError, match="disk full"):
        save_batch(batch, tmp_path / "x.h5")
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_replaced_only_when_complete(tmp_path):
    path = tmp_path / "x.h5"
    export_task(tasks.make("flipflop"), path, batch_size=2, seed=0)
    export_task(tasks.make("flipflop"), path, batch_size=3, seed=1)
    assert load_batch(path).batch_size == 3 and [p.name for p in tmp_path.iterdir()] == ["x.h5"]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"batch_size": 0, "seed": 0}, "'batch_size'"),
        ({"batch_size": 2, "seed": -3}, "'seed'"),
        ({"batch_size": 2, "seed": 0, "split": "dev"}, "'split'"),
    ],
)
def test_bad_arguments_are_named_and_write_nothing(tmp_path, kwargs, fragment):
    with pytest.raises(InvalidParameterError, match=fragment):
        export_task(tasks.make("flipflop"), tmp_path / "x.h5", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_bad_paths(tmp_path):
    task = tasks.make("flipflop")
    with pytest.raises(InvalidParameterError, match="does not exist"):
        export_task(task, tmp_path / "missing" / "x.h5", batch_size=2, seed=0)
    with pytest.raises(InvalidParameterError, match=r"\.h5 or \.hdf5"):
        export_task(task, tmp_path / "x.csv", batch_size=2, seed=0)
    with pytest.raises(InvalidParameterError, match="no such file"):
        load_batch(tmp_path / "nothing.h5")
    (tmp_path / "plain.h5").write_text("not hdf5")
    with pytest.raises(InvalidParameterError, match="not an HDF5 file"):
        load_batch(tmp_path / "plain.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.attrs["config"] = json.dumps({})
    with pytest.raises(InvalidParameterError, match="not an rnnzoo trial-batch file"):
        load_batch(tmp_path / "other.h5")


def test_written_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = export_task(tasks.make("flipflop"), tmp_path / "p.h5", batch_size=2, seed=0)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
