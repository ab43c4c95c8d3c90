"""The image tasks: classification with seed 004's protocol, numerosity and random-dot motion
(images held once per trial, the presentation as inputs)."""

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks
from rnnzoo.datasets import export_task, load_batch
from rnnzoo.datasets.images import dataset_statistics, load_images


def test_classification_follows_the_seed_protocol():
    task = tasks.make("image_classification")
    batch = task.generate(6, 0)
    assert batch.inputs.shape == (300, 6, 1)  # 200 + 200 + 200 ms at dt 2 ms; one input
    assert batch.stimuli.shape == (6, 1, 1, 28, 28)  # the image once, not 300 times
    shown = batch.epoch_mask("image_1")
    assert shown[:, 0].nonzero()[0].tolist() == list(range(100, 200))
    assert np.array_equal(batch.inputs[:, :, 0], shown.astype(np.float32))
    scored = batch.weights[:, 0, 0] > 0
    assert scored.nonzero()[0].tolist() == list(range(170, 200))  # the last 60 ms
    assert np.allclose(batch.weights[170:200, 0, 0], np.logspace(-3, 0, 30))
    labels = batch.conditions["label"][:, 0]
    assert np.array_equal(batch.targets[185].argmax(-1), labels)
    assert not batch.targets[:170].any() and not batch.targets[200:].any()
    penalty = task.state_penalty
    assert (penalty.weight, penalty.reference_epoch, penalty.window_epoch) == (
        1e-3,
        "spontaneous",
        "return",
    )
    assert batch.epochs["spontaneous"][0].tolist() == [0, 100]
    assert batch.epochs["return"][0].tolist() == [290, 300]


def test_each_stream_draws_from_its_own_split_and_the_images_are_the_files():
    task = tasks.make("image_classification", "digits", normalize=False)
    for split in ("train", "validation", "test"):
        batch = task.generate(5, 1, split=split)
        pool = load_images("digits", split)
        index = batch.conditions["image_index"][:, 0]
        assert np.array_equal(batch.stimuli[:, 0], pool.images[index])
        assert np.array_equal(batch.conditions["label"][:, 0], pool.labels[index])
    subset = tasks.make("image_classification", "digits", subset=7).generate(200, 0)
    assert subset.conditions["image_index"].max() < 7
    mean, std = dataset_statistics("digits")
    normal = tasks.make("image_classification", "digits").generate(5, 1, split="test")
    raw = task.generate(5, 1, split="test")
    assert np.allclose(normal.stimuli, (raw.stimuli - mean) / std, atol=1e-6)


def test_test_grid_is_the_first_test_images_and_accuracy_reads_the_last_scored_step():
    task = tasks.make("image_classification", "digits", test_size=10)
    grid = task.generate_test()
    assert grid.batch_size == 10 and grid.conditions["image_index"][:, 0].tolist() == list(
        range(10)
    )
    outputs = np.zeros((grid.n_steps, 10, 10))
    labels = grid.conditions["label"][:, 0]
    outputs[199, np.arange(10), labels] = 1.0  # right only at the last scored step
    outputs[198, np.arange(10), (labels + 1) % 10] = 5.0
    assert task.performance(outputs, grid).tolist() == [1.0] * 10
    outputs[199] = 0
    outputs[199, np.arange(10), (labels + 1) % 10] = 1.0
    assert task.performance(outputs, grid).tolist() == [0.0] * 10


def test_sequences_show_several_images_one_after_another():
    task = tasks.make("image_classification", "sequence")
    batch = task.generate(3, 0)
    assert batch.inputs.shape == (900, 3, 4) and batch.stimuli.shape == (3, 4, 1, 28, 28)
    for k in range(4):
        on = batch.inputs[:, 0, k].nonzero()[0]
        assert on.tolist() == list(range(100 + 200 * k, 200 + 200 * k))
        assert np.array_equal(
            batch.targets[195 + 200 * k].argmax(-1), batch.conditions["label"][:, k]
        )


def test_augmentation_only_on_training_images_and_contrast_scales_the_presentation():
    task = tasks.make("image_classification", "realistic")
    train = task.generate(20, 0)
    val = task.generate(20, 0, split="validation")
    assert train.conditions["aug_angle_deg"].std() > 0 and not val.conditions["aug_angle_deg"].any()
    contrast = train.conditions["contrast"][:, 0]
    assert contrast.min() >= 0.5 and contrast.max() <= 1
    assert np.allclose(train.inputs[150, :, 0], contrast)


def test_bad_parameters_are_named():
    with pytest.raises(InvalidParameterError, match="'score_ms'"):
        tasks.make("image_classification", score_ms=300)
    with pytest.raises(InvalidParameterError, match="'dataset'"):
        tasks.make("image_classification", dataset="cifar10")
    with pytest.raises(InvalidParameterError, match="'max_count'"):
        tasks.make("numerosity", max_count=20)
    with pytest.raises(InvalidParameterError, match="'frames'"):
        tasks.make("random_dot_motion", frames=500)


def test_image_batches_export_and_reload_with_their_images(tmp_path):
    task = tasks.make("numerosity")
    path = export_task(task, tmp_path / "n.h5", batch_size=4, seed=3)
    again = load_batch(path)
    assert again.equals(task.generate(4, 3)) and again.stimuli is not None


def test_image_tasks_cannot_be_composed():
    with pytest.raises(InvalidParameterError, match="cannot be composed"):
        tasks.compose([tasks.make("numerosity"), tasks.make("flipflop")])


def test_numerosity_draws_count_dots_and_controls_their_area():
    task = tasks.make("numerosity", p_control=1.0)
    batch = task.generate(40, 0)
    count, radius = batch.conditions["count"], batch.conditions["dot_radius"]
    assert np.array_equal((radius > 0).sum(1), count)
    area = (np.pi * radius**2).sum(1)
    assert np.allclose(area, np.pi * 2.0**2)  # radius_max^2 pi for every count

    def brightness_ratio(b):  # mean pixel sum of 5-dot displays over 1-dot displays
        lit, n = b.stimuli[:, 0, 0].sum(axis=(1, 2)), b.conditions["count"]
        return lit[n == 5].mean() / lit[n == 1].mean()

    assert brightness_ratio(task.generate(400, 1)) < 1.2  # area control: brightness ~ constant
    assert brightness_ratio(tasks.make("numerosity").generate(400, 1)) > 3  # standard: grows
    assert np.array_equal(batch.targets[-1].argmax(-1), count - 1)


def test_random_dots_move_coherently_with_the_coherence():
    task = tasks.make("random_dot_motion", coherences_pct=(100.0,), n_dots=5, interleave=3)
    batch = task.generate(6, 0)
    x, y = batch.conditions["dot_x"], batch.conditions["dot_y"]
    direction = batch.conditions["direction"]
    step = (x[:, 3:] - x[:, :-3]) % 16  # each set moves between its showings
    expected = (direction[:, None, None] * 1.5) % 16
    assert np.allclose(step, np.broadcast_to(expected, step.shape))
    assert np.allclose(y[:, 3:], y[:, :-3])
    frames = batch.inputs[:, 0, :20]
    assert (frames.sum(axis=1)[batch.epoch_mask("stimulus")[:, 0]] == 1).all()  # one at a time
    noise = tasks.make("random_dot_motion", coherences_pct=(0.0,)).generate(6, 0)
    moved = (noise.conditions["dot_x"][:, 3:] - noise.conditions["dot_x"][:, :-3]) % 16
    assert not np.allclose(moved, 1.5) and not np.allclose(moved, 16 - 1.5)
