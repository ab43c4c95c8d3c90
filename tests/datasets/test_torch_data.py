"""The PyTorch adapter: layout, padding and collation, and worker-independent streams."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from rnnzoo import InvalidParameterError, tasks
from rnnzoo.datasets import export_task
from rnnzoo.datasets.torch_data import TaskStream, TrialDataset, collate_trials, to_tensors


@pytest.fixture
def variable_task():
    return tasks.make("tmaze", "realistic")  # corridor lengths vary: trials have different lengths


def test_to_tensors_time_major_and_batch_first(variable_task):
    batch = variable_task.generate(5, 0)
    tm, bf = to_tensors(batch), to_tensors(batch, batch_first=True)
    assert tm["inputs"].shape == (batch.n_steps, 5, 3) and bf["inputs"].shape == (
        5,
        batch.n_steps,
        3,
    )
    assert torch.equal(tm["targets"].transpose(0, 1), bf["targets"])
    assert np.array_equal(tm["weights"].numpy(), batch.weights)


@pytest.mark.parametrize("batch_first", [False, True])
def test_trial_dataset_crops_and_collate_pads_back(variable_task, batch_first, tmp_path):
    batch = variable_task.generate(8, 1)
    assert len(set(batch.lengths.tolist())) > 1
    path = export_task(variable_task, tmp_path / "t.h5", batch_size=8, seed=1)
    dataset = TrialDataset(path, batch_first=batch_first)
    assert dataset[3]["inputs"].shape[0] == batch.lengths[3]
    loader = DataLoader(dataset, batch_size=8, shuffle=False, collate_fn=dataset.collate)
    (out,) = list(loader)
    expected = to_tensors(batch, batch_first=batch_first)
    for name in ("inputs", "targets", "weights", "lengths"):
        assert torch.equal(out[name], expected[name]), name
    assert out["conditions"][2]["side"] == batch.conditions["side"][2]
    with pytest.raises(IndexError):
        dataset[8]


def test_collate_trials_as_collate_fn_honours_the_datasets_layout(variable_task):
    batch = variable_task.generate(6, 2)
    dataset = TrialDataset(batch, batch_first=True)
    (out,) = list(DataLoader(dataset, batch_size=6, collate_fn=collate_trials))
    assert out["inputs"].shape == (6, batch.n_steps, len(batch.input_names))
    assert torch.equal(out["inputs"], to_tensors(batch, batch_first=True)["inputs"])
    # an explicit argument still wins
    assert collate_trials([dataset[0], dataset[1]], batch_first=False)["inputs"].shape[1] == 2


def test_stream_is_the_same_with_and_without_workers():
    task = tasks.make("flipflop", n_bits=2)
    single = list(DataLoader(TaskStream(task, 4, seed=3, n_batches=4), batch_size=None))
    multi = list(
        DataLoader(TaskStream(task, 4, seed=3, n_batches=4), batch_size=None, num_workers=2)
    )
    assert len(single) == len(multi) == 4
    for a, b in zip(single, multi, strict=True):
        assert torch.equal(a["inputs"], b["inputs"])
    direct = to_tensors(task.generate(4, 3, index=2))
    assert torch.equal(single[2]["inputs"], direct["inputs"])


def test_stream_arguments_are_checked():
    task = tasks.make("flipflop")
    with pytest.raises(InvalidParameterError, match="'n_batches'"):
        TaskStream(task, 4, 0, n_batches=0)
    with pytest.raises(InvalidParameterError, match="'seed'"):
        TaskStream(task, 4, -1)
