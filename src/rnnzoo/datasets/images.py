"""Real image data without downloads: Fashion-MNIST from Debian's ``dataset-fashion-mnist``
package and scikit-learn's bundled 8x8 digits, loaded once per process, split into
train/validation/test with a seeded, reproducible order (NumPy only, no torch).

- ``fashion_mnist``: 70,000 28x28 grey images of 10 clothing classes (Xiao, Rasul & Vollgraf
  2017), read from the package's IDX files in ``/usr/share/datasets/fashion-mnist`` (or the
  folder named by ``RNNZOO_FASHION_MNIST``).  The official 10,000 test images are the test
  split; the 60,000 training images are permuted by ``split_seed`` and the first
  ``validation_size`` (default 5,000) become the validation split, the rest the train split.
- ``digits``: scikit-learn's 1,797 8x8 handwritten digits (values 0..16, UCI optdigits).  All
  images are permuted by ``split_seed``; the first 360 are the test split, the next 180 (or
  ``validation_size``) the validation split, the rest the train split.

Pixels are float32 in [0, 1] (Fashion-MNIST / 255, digits / 16), shape (N, 1, H, W).
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from rnnzoo.errors import InvalidParameterError

DATASETS = ("fashion_mnist", "digits")
SPLITS = ("train", "validation", "test")
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = (
    "t-shirt/top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)
_DEFAULT_VALIDATION = {"fashion_mnist": 5000, "digits": 180}
_DIGITS_TEST = 360


@dataclass(frozen=True, eq=False)
class ImageSet:
    """Images (N, C, H, W) float32 in [0, 1] with labels (N,) int64 and the class names; the
    ``index`` (N,) of each image in its source file (Fashion-MNIST: within its train or test
    file; digits: within scikit-learn's array)."""

    name: str
    split: str
    images: np.ndarray
    labels: np.ndarray
    index: np.ndarray
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(int(s) for s in self.images.shape[1:])  # type: ignore[return-value]


def fashion_mnist_dir() -> Path:
    """The folder holding Fashion-MNIST's IDX files (``RNNZOO_FASHION_MNIST`` overrides)."""
    return Path(os.environ.get("RNNZOO_FASHION_MNIST", FASHION_MNIST_DIR))


def _read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzip-compressed): big-endian magic (0, 0, type 0x08 = uint8, ndim), dims."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise InvalidParameterError(f"'{path}' is not an IDX file of unsigned bytes")
    ndim = data[3]
    dims = np.frombuffer(data, dtype=">u4", count=ndim, offset=4).astype(np.int64)
    values = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if values.size != int(np.prod(dims)):
        raise InvalidParameterError(f"'{path}' is truncated: {values.size} bytes for dims {dims}")
    return values.reshape(tuple(int(d) for d in dims))


@cache
def _fashion_mnist(part: str) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 1, 28, 28) float32, labels (N,) int64) of the 'train' or 't10k' files."""
    folder = fashion_mnist_dir()
    images_path = folder / f"{part}-images-idx3-ubyte.gz"
    labels_path = folder / f"{part}-labels-idx1-ubyte.gz"
    for path in (images_path, labels_path):
        if not path.is_file():
            raise InvalidParameterError(
                f"Fashion-MNIST file '{path}' is missing; install Debian's package with "
                "`apt-get install dataset-fashion-mnist` (scripts/setup.sh does) or set "
                "RNNZOO_FASHION_MNIST to a folder holding the four IDX .gz files"
            )
    images = _read_idx(images_path)
    labels = _read_idx(labels_path).astype(np.int64)
    if images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
        raise InvalidParameterError(
            f"Fashion-MNIST files in '{folder}' have unexpected shapes {images.shape}, "
            f"{labels.shape}"
        )
    pixels = (images.astype(np.float32) / 255.0)[:, None]
    pixels.flags.writeable = False
    labels.flags.writeable = False
    return pixels, labels


@cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits.csv.gz (64 pixel values and the label per row), read
    without importing scikit-learn (seconds on a busy machine); `load_digits` is the fallback."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    path = (
        None
        if spec is None or spec.origin is None
        else (Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz")
    )
    if path is not None and path.is_file():
        table = np.loadtxt(path, delimiter=",", dtype=np.float64)
        images, target = table[:, :64].reshape(-1, 8, 8), table[:, 64]
    else:
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise InvalidParameterError(
                "the digits come with scikit-learn: pip install scikit-learn"
            ) from None
        data = load_digits()
        images, target = data.images, data.target
    pixels = (np.asarray(images, dtype=np.float32) / 16.0)[:, None]
    labels = np.asarray(target, dtype=np.int64)
    pixels.flags.writeable = False
    labels.flags.writeable = False
    return pixels, labels


def _permutation(n: int, split_seed: int) -> np.ndarray:
    return np.random.default_rng(np.random.SeedSequence(split_seed, spawn_key=(7,))).permutation(n)


def load_images(
    name: str, split: str, *, split_seed: int = 0, validation_size: int | None = None
) -> ImageSet:
    """The ``split`` ("train", "validation", "test") of dataset ``name`` (see the module
    docstring for the split rule); the same arguments always give the same images in the
    same order.  Files are read, and each split is cut, once per process (read-only
    arrays)."""
    return _load_split(name, split, split_seed, validation_size)


@cache
def _load_split(name: str, split: str, split_seed: int, validation_size: int | None) -> ImageSet:
    if name not in DATASETS:
        raise InvalidParameterError(f"'dataset' must be one of {', '.join(DATASETS)}; got {name!r}")
    if split not in SPLITS:
        raise InvalidParameterError(f"'split' must be one of {', '.join(SPLITS)}; got {split!r}")
    if isinstance(split_seed, bool) or not isinstance(split_seed, int) or split_seed < 0:
        raise InvalidParameterError(f"'split_seed' must be an integer >= 0; got {split_seed!r}")
    n_val = _DEFAULT_VALIDATION[name] if validation_size is None else validation_size
    if name == "fashion_mnist":
        limit = 59000
        classes = FASHION_MNIST_CLASSES
    else:
        limit = 1797 - _DIGITS_TEST - 100
        classes = tuple(str(d) for d in range(10))
    if not isinstance(n_val, int) or isinstance(n_val, bool) or not 1 <= n_val <= limit:
        raise InvalidParameterError(
            f"'validation_size' must be an integer in [1, {limit}] for {name}; got {n_val!r}"
        )
    if name == "fashion_mnist":
        if split == "test":
            pixels, labels = _fashion_mnist("t10k")
            index = np.arange(len(labels))
        else:
            pixels, labels = _fashion_mnist("train")
            order = _permutation(len(labels), split_seed)
            index = order[:n_val] if split == "validation" else order[n_val:]
    else:
        pixels, labels = _digits()
        order = _permutation(len(labels), split_seed)
        parts = {
            "test": order[:_DIGITS_TEST],
            "validation": order[_DIGITS_TEST : _DIGITS_TEST + n_val],
            "train": order[_DIGITS_TEST + n_val :],
        }
        index = parts[split]
    images, chosen = pixels[index], labels[index]
    for array in (images, chosen, index):
        array.flags.writeable = False
    return ImageSet(name, split, images, chosen, index, classes)


def dataset_statistics(name: str) -> tuple[float, float]:
    """(mean, std) of the pixels of the dataset's whole training file (Fashion-MNIST's 60,000
    training images; all 1,797 digits), used to standardise images."""
    return _statistics(name)


@cache
def _statistics(name: str) -> tuple[float, float]:
    pixels = _fashion_mnist("train")[0] if name == "fashion_mnist" else _digits()[0]
    return float(pixels.mean(dtype=np.float64)), float(pixels.std(dtype=np.float64))


def resize(images: np.ndarray, size: int) -> np.ndarray:
    """Resize (N, C, H, W) images to (N, C, size, size): area averaging when ``size`` divides
    H and W, otherwise bilinear interpolation with half-pixel centres (torch's
    ``align_corners=False``); zero padding is never added."""
    images = np.asarray(images, dtype=np.float32)
    height, width = images.shape[-2:]
    if (height, width) == (size, size):
        return images
    rows, cols = _resize_matrix(height, size), _resize_matrix(width, size)
    return np.einsum("ih,nchw,jw->ncij", rows, images, cols, optimize=True).astype(np.float32)


def _resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) linear map of one axis."""
    if n_in % n_out == 0:
        factor = n_in // n_out
        matrix = np.zeros((n_out, n_in))
        for i in range(n_out):
            matrix[i, i * factor : (i + 1) * factor] = 1.0 / factor
        return matrix
    centres = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    centres = np.clip(centres, 0, n_in - 1)
    low = np.floor(centres).astype(int)
    high = np.minimum(low + 1, n_in - 1)
    frac = centres - low
    matrix = np.zeros((n_out, n_in))
    matrix[np.arange(n_out), low] += 1 - frac
    matrix[np.arange(n_out), high] += frac
    return matrix


__all__ = [
    "DATASETS",
    "FASHION_MNIST_CLASSES",
    "SPLITS",
    "ImageSet",
    "dataset_statistics",
    "fashion_mnist_dir",
    "load_images",
    "resize",
]
