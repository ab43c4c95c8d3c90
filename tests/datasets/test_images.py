"""Real images: Debian's Fashion-MNIST and scikit-learn's digits, seeded splits, resizing and
the Table S4 augmentations."""

import gzip

import numpy as np
import pytest

from rnnzoo import InvalidParameterError
from rnnzoo.datasets import images as image_data
from rnnzoo.datasets.augment import apply_augmentations, draw_augmentations
from rnnzoo.datasets.images import load_images, resize


def test_fashion_mnist_splits_are_the_official_test_set_and_a_seeded_validation_cut():
    train, val, test = (load_images("fashion_mnist", s) for s in ("train", "validation", "test"))
    assert (len(train), len(val), len(test)) == (55000, 5000, 10000)
    assert train.shape == (1, 28, 28) and train.images.dtype == np.float32
    assert train.images.min() >= 0 and train.images.max() <= 1
    assert not set(train.index) & set(val.index)
    assert sorted(np.concatenate([train.index, val.index])) == list(range(60000))
    assert np.bincount(test.labels).tolist() == [1000] * 10  # the official test set
    again = load_images("fashion_mnist", "validation")
    assert np.array_equal(again.index, val.index)
    other = load_images("fashion_mnist", "validation", split_seed=1)
    assert not np.array_equal(other.index, val.index)
    assert len(load_images("fashion_mnist", "validation", validation_size=100)) == 100


def test_digits_splits_cover_every_image_once():
    parts = [load_images("digits", s) for s in ("train", "validation", "test")]
    assert [len(p) for p in parts] == [1257, 180, 360]
    assert sorted(np.concatenate([p.index for p in parts])) == list(range(1797))
    assert parts[0].shape == (1, 8, 8) and parts[0].images.max() == 1.0


def test_digits_are_scikit_learns():
    from sklearn.datasets import load_digits

    data = load_digits()
    test = load_images("digits", "test")
    assert np.array_equal(test.images[:, 0], (data.images[test.index] / 16).astype(np.float32))
    assert np.array_equal(test.labels, data.target[test.index])


def test_missing_fashion_mnist_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNZOO_FASHION_MNIST", str(tmp_path))
    image_data._fashion_mnist.cache_clear()
    image_data._load_split.cache_clear()  # splits cut earlier in this process
    try:
        with pytest.raises(InvalidParameterError, match="apt-get install dataset-fashion-mnist"):
            load_images("fashion_mnist", "test")
        (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x09\x01"))
        (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00" * 8))
        with pytest.raises(InvalidParameterError, match="is not an IDX file of unsigned bytes"):
            load_images("fashion_mnist", "test")
    finally:
        image_data._fashion_mnist.cache_clear()
        image_data._load_split.cache_clear()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("mnist", "train"), "'dataset' must be one of fashion_mnist, digits"),
        (("digits", "dev"), "'split' must be one of train, validation, test"),
    ],
)
def test_bad_arguments_are_named(args, message):
    with pytest.raises(InvalidParameterError, match=message):
        load_images(*args)
    with pytest.raises(InvalidParameterError, match="'split_seed' must be an integer >= 0"):
        load_images("digits", "train", split_seed=-1)
    with pytest.raises(InvalidParameterError, match="'validation_size' must be an integer"):
        load_images("digits", "train", validation_size=5000)


def test_resize_averages_areas_and_interpolates_otherwise():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    half = resize(x, 2)
    assert np.allclose(half[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    assert np.array_equal(resize(x, 4), x)
    up = resize(np.ones((2, 1, 3, 3), dtype=np.float32), 5)
    assert up.shape == (2, 1, 5, 5) and np.allclose(up, 1.0)


def test_augmentations_follow_their_definitions():
    rng = np.random.default_rng(0)
    x = rng.random((4, 1, 9, 9)).astype(np.float32)
    none = {k: np.zeros(4) for k in ("flip", "angle_deg", "shift_x", "shift_y", "shear_deg")}
    none.update(scale=np.ones(4), brightness=np.ones(4), contrast=np.ones(4))
    assert np.array_equal(apply_augmentations(x, none), x)
    flipped = apply_augmentations(x, {**none, "flip": np.array([1.0, 0, 0, 0])})
    assert np.array_equal(flipped[0], x[0][..., ::-1]) and np.array_equal(flipped[1:], x[1:])
    turned = apply_augmentations(x, {**none, "angle_deg": np.full(4, 180.0)})
    assert np.allclose(turned, x[..., ::-1, ::-1], atol=1e-6)  # 180 deg about the centre pixel
    shifted = apply_augmentations(x, {**none, "shift_x": np.full(4, 1 / 9)})
    assert np.allclose(shifted[..., 1:], x[..., :-1], atol=1e-6) and not shifted[..., 0].any()
    jitter = apply_augmentations(
        x, {**none, "brightness": np.full(4, 0.5), "contrast": np.full(4, 2.0)}
    )
    bright = x * 0.5
    mean = bright.mean(axis=(1, 2, 3), keepdims=True)
    assert np.allclose(jitter, np.clip((bright - mean) * 2 + mean, 0, 1), atol=1e-6)


def test_augmentation_draws_are_seeded_and_within_their_ranges():
    kw = dict(
        flip=True, degrees=5, translate=0.05, scale=0.05, shear_deg=5, brightness=0.1, contrast=0.1
    )
    a = draw_augmentations(np.random.default_rng(3), 500, **kw)
    b = draw_augmentations(np.random.default_rng(3), 500, **kw)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert np.abs(a["angle_deg"]).max() <= 5 and np.abs(a["shift_x"]).max() <= 0.05
    assert a["scale"].min() >= 0.95 and a["scale"].max() <= 1.05
    assert 0.3 < a["flip"].mean() < 0.7
    off = draw_augmentations(np.random.default_rng(3), 500, **{**kw, "flip": False})
    assert not off["flip"].any() and np.array_equal(off["angle_deg"], a["angle_deg"])
