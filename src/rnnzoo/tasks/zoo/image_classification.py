"""Image classification as a timed task (seed 004 section 3, eq. 4): the network sits without
input, sees an image, reports its class, and returns to its spontaneous state.

Images are real data (Fashion-MNIST from Debian's package, scikit-learn's digits; see
`rnnzoo.datasets.images`), held once per trial in ``TrialBatch.stimuli``; the first inputs are
their presentation (contrast per step), so the network builds the drive itself.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks._build import window
from rnnzoo.tasks.base import Metric, StatePenalty, Task, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import TaskParams, ms_field
from rnnzoo.tasks.registry import register
from rnnzoo.tasks.seeding import check_batch_size, generators

SPLIT_CODES = ("train", "validation", "test")
_AUGMENT_TEXT = (
    "Augmentations (train split only, when augment is on; seed 004 Table S4 for Fashion-MNIST "
    "without CutMix/MixUp): horizontal flip with probability 1/2, rotation U(-5, 5) deg, "
    "translation U(-5, 5) % of the side, scale U(0.95, 1.05), shear U(-5, 5) deg (bilinear, "
    "zero fill), brightness and contrast factors U(0.9, 1.1) (torchvision's ColorJitter), "
    "each magnitude a parameter; their draws are conditions."
)


def _fraction(default: float, description: str) -> Any:
    return Field(default, ge=0, le=0.5, description=description, json_schema_extra={"unit": ""})


class ImageClassificationParams(TaskParams):
    """Parameters of image classification; see the task card."""

    dt_ms: float = Field(
        2.0, gt=0, le=100, description="sampling period", json_schema_extra={"unit": "ms"}
    )
    noise_scale: float = Field(
        0.0,
        ge=0,
        le=10,
        description="std of noise added to the presentation inputs (pixel noise is the "
        "network's pixel_noise option)",
        json_schema_extra={"unit": "a.u."},
    )
    dataset: Literal["fashion_mnist", "digits"] = Field(
        "fashion_mnist", description="image set (Debian's Fashion-MNIST or scikit-learn's digits)"
    )
    image_size: int | None = Field(
        None,
        ge=4,
        le=224,
        description="side of the square images shown (resized); None = native (28 or 8)",
        json_schema_extra={"unit": "pixels"},
    )
    normalize: bool = Field(
        True, description="standardise pixels by the training file's mean and std"
    )
    n_images: int = Field(
        1,
        ge=1,
        le=20,
        description="images per trial, shown one after another (Fig. 3B)",
        json_schema_extra={"unit": "images"},
    )
    spontaneous_ms: float = ms_field(200.0, "epoch without input before the first image")
    image_ms: float = ms_field(200.0, "presentation of each image")
    after_ms: float = ms_field(200.0, "epoch without input after each image")
    score_ms: float = ms_field(60.0, "the last score_ms of each presentation are scored")
    ramp_decades: float = Field(
        3.0,
        ge=0,
        le=10,
        description="scored steps weighted by logspace(-ramp_decades, 0, n) (0 = equal)",
        json_schema_extra={"unit": "decades"},
    )
    spontaneous_penalty: float = Field(
        1e-3,
        ge=0,
        le=100,
        description="weight of the return-to-spontaneous-state penalty (0 = none)",
        json_schema_extra={"unit": ""},
    )
    return_ms: float = ms_field(20.0, "final epoch whose state must equal the spontaneous state")
    contrast_min: float = Field(
        1.0,
        gt=0,
        le=1,
        description="each image's contrast drawn from U(contrast_min, 1)",
        json_schema_extra={"unit": ""},
    )
    split_seed: int = Field(0, ge=0, le=2**31, description="seed of the train/validation split")
    validation_size: int | None = Field(
        None,
        ge=1,
        le=59000,
        description="validation images carved from the training file "
        "(None = 5000 Fashion-MNIST, 180 digits)",
        json_schema_extra={"unit": "images"},
    )
    subset: int | None = Field(
        None,
        ge=1,
        le=60000,
        description="train on the first subset images of the train split only (None = all)",
        json_schema_extra={"unit": "images"},
    )
    test_size: int = Field(
        500,
        ge=1,
        le=10000,
        description="test images in the deterministic test grid",
        json_schema_extra={"unit": "images"},
    )
    augment: bool = Field(False, description="augment training images (see the card)")
    flip: bool = Field(True, description="augmentation: random horizontal flip")
    degrees: float = Field(
        5.0,
        ge=0,
        le=45,
        description="augmentation: rotation range",
        json_schema_extra={"unit": "deg"},
    )
    translate: float = _fraction(0.05, "augmentation: translation range (fraction of the side)")
    scale: float = _fraction(0.05, "augmentation: scale range (1 +- scale)")
    shear_deg: float = Field(
        5.0, ge=0, le=45, description="augmentation: shear range", json_schema_extra={"unit": "deg"}
    )
    brightness: float = _fraction(0.1, "augmentation: brightness factor range (1 +- b)")
    contrast: float = _fraction(0.1, "augmentation: contrast factor range (1 +- c)")

    @model_validator(mode="after")
    def _windows_fit(self) -> ImageClassificationParams:
        if self.steps(self.score_ms) > self.steps(self.image_ms):
            raise ValueError(
                f"'score_ms' ({self.score_ms:g}) must not exceed image_ms ({self.image_ms:g})"
            )
        if self.steps(self.return_ms) > self.steps(self.after_ms):
            raise ValueError(
                f"'return_ms' ({self.return_ms:g}) must not exceed after_ms ({self.after_ms:g})"
            )
        return self

    @property
    def native_size(self) -> int:
        return 28 if self.dataset == "fashion_mnist" else 8

    @property
    def size(self) -> int:
        return self.native_size if self.image_size is None else self.image_size


@register
class ImageClassification(Task):
    name = "image_classification"
    aliases = ("images",)
    title = "Image classification in time (CordsNet protocol)"
    summary = (
        "A network at rest sees an image for 200 ms, reports its class over the last 60 ms of the "
        "presentation, and must return to its spontaneous state after the image is gone; seed "
        "004's training protocol for CordsNets, on real images (Fashion-MNIST or 8x8 digits)."
    )
    source = (
        "Soo W.W.M., Battista A., Radmard P. & Wang X.-J. (2024) Recurrent neural network dynamical "
        "systems for biological vision. NeurIPS 2024 (rnnzoo seed 004), section 3 eq. 4 and "
        "appendix D (loss, its time windows and the spontaneous penalty), appendix C.2 and Table "
        "S4 (augmentations), Fig. 3B (sequences of images). Images: Fashion-MNIST (Xiao, Rasul & "
        "Vollgraf 2017) from Debian's dataset-fashion-mnist package; digits: scikit-learn's copy "
        "of the UCI optdigits 8x8 images."
    )
    definition = (
        "Inputs: one presentation channel per image (image_1..image_K, the first K inputs): "
        "contrast c_k (1 unless contrast_min < 1) during image k's epoch, 0 otherwise; the "
        "images themselves are TrialBatch.stimuli (B, K, 1, S, S), held once per trial. "
        "Outputs: one logit per class. Epochs (steps by floor(ms / dt_ms + 1/2)): spontaneous "
        "(spontaneous_ms), then per image image_k (image_ms) and after_k (after_ms); scored_k is "
        "the last score_ms of image_k; return is the last return_ms of the trial. Targets: the "
        "one-hot class of image k on scored_k, 0 elsewhere. Weights: on scored_k "
        "logspace(-ramp_decades, 0, n) over its n steps (eq. 4's log-weighted sum; train with "
        "loss=cross_entropy), 0 elsewhere. State penalty (the task's state_penalty, applied by "
        "the trainer): spontaneous_penalty times the mean squared deviation of the network state "
        "over the return epoch from its state at the end of the spontaneous epoch, which runs "
        "without gradient (eq. 4: 1e-3 * MSE(activity[290:300], spontaneous)). Images: drawn "
        "uniformly (with replacement) from the split of the stream (train batches from the train "
        "split, validation from validation, test from test; see rnnzoo.datasets.images for the "
        "seeded split), the first `subset` train images only when set; resized to image_size and "
        "standardised by the training file's mean and std when normalize is on. "
        + _AUGMENT_TEXT
        + " Metric accuracy: the mean over the trial's images of [argmax of the output at the "
        "last step of scored_k == class of image k]. Conditions: split (0 train, 1 validation, 2 "
        "test), image_index (B, K) within the split, label (B, K), contrast (B, K) and the "
        "augmentation draws (B, K). Test grid: the first test_size test images in order, K per "
        "trial, contrast 1, no augmentation."
    )
    Params = ImageClassificationParams
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version(
            "seed 004's protocol on Fashion-MNIST at 28x28, dt 2 ms: 200 ms spontaneous, 200 ms "
            "image scored on its last 60 ms (log ramp), 200 ms after, penalty 1e-3 on the last 20 ms"
        ),
        "realistic": Version(
            "vanilla with the seed's augmentations and image contrast drawn from U(0.5, 1)",
            {"augment": True, "contrast_min": 0.5},
        ),
        "long": Version(
            "1000 ms without input after the image before the return-to-rest window",
            {"after_ms": 1000.0},
        ),
        "soo2024": Version(
            "seed 004's Fashion-MNIST set-up: the protocol of vanilla with the Table S4 "
            "augmentations (flip, affine, brightness/contrast; CutMix/MixUp not implemented)",
            {"augment": True},
        ),
        "sequence": Version(
            "Fig. 3B: four images one after another, each followed by 200 ms without input",
            {"n_images": 4},
        ),
        "digits": Version(
            "vanilla on scikit-learn's 8x8 digits (a small, fast image set)",
            {"dataset": "digits"},
        ),
    }
    metric = Metric(
        "accuracy",
        "fraction of the trial's images whose class is the argmax of the output at the last "
        "scored step of its presentation",
        criterion=0.85,
    )

    # ---- channels and declarations --------------------------------------------------------
    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(f"image_{k + 1}" for k in range(self.params.n_images))

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(_classes(self.params.dataset))

    @property
    def stimulus_shape(self) -> tuple[int, int, int, int]:
        return (self.params.n_images, 1, self.params.size, self.params.size)

    @property
    def state_penalty(self) -> StatePenalty | None:
        if self.params.spontaneous_penalty == 0:
            return None
        return StatePenalty(self.params.spontaneous_penalty, "spontaneous", "return")

    # ---- generation ----------------------------------------------------------------------
    def sample_split_conditions(
        self, rng: np.random.Generator, batch_size: int, split: str
    ) -> dict[str, np.ndarray]:
        """Images of the stream's split (train batches from the train split, ...)."""
        return self._draw(rng, batch_size, split)

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        return self._draw(rng, batch_size, "train")

    def _draw(self, rng: np.random.Generator, batch_size: int, split: str) -> dict[str, Any]:
        from rnnzoo.datasets.augment import draw_augmentations

        p, k = self.params, self.params.n_images
        pool = self._pool(split)
        size = len(pool) if split != "train" or p.subset is None else min(p.subset, len(pool))
        index = rng.integers(0, size, size=(batch_size, k))
        contrast = rng.uniform(p.contrast_min, 1.0, size=(batch_size, k))
        aug = draw_augmentations(
            rng,
            batch_size * k,
            flip=p.flip,
            degrees=p.degrees,
            translate=p.translate,
            scale=p.scale,
            shear_deg=p.shear_deg,
            brightness=p.brightness,
            contrast=p.contrast,
        )
        on = p.augment and split == "train"
        identity = {"flip": 0.0, "scale": 1.0, "brightness": 1.0, "contrast": 1.0}
        aug = {
            key: (value if on else np.full_like(value, identity.get(key, 0.0))).reshape(
                batch_size, k
            )
            for key, value in aug.items()
        }
        return {
            "split": np.full(batch_size, SPLIT_CODES.index(split), dtype=np.int64),
            "image_index": index.astype(np.int64),
            "label": pool.labels[index],
            "contrast": contrast if p.contrast_min < 1 else np.ones_like(contrast),
            **{f"aug_{key}": value for key, value in aug.items()},
        }

    def test_conditions(self) -> dict[str, np.ndarray]:
        p, k = self.params, self.params.n_images
        pool = self._pool("test")
        n_trials = max(1, min(p.test_size, len(pool)) // k)
        index = np.arange(n_trials * k).reshape(n_trials, k)
        ones, zeros = np.ones((n_trials, k)), np.zeros((n_trials, k))
        aug = {
            "aug_flip": zeros,
            "aug_angle_deg": zeros,
            "aug_shift_x": zeros,
            "aug_shift_y": zeros,
            "aug_scale": ones,
            "aug_shear_deg": zeros,
            "aug_brightness": ones,
            "aug_contrast": ones,
        }
        return {
            "split": np.full(n_trials, 2, dtype=np.int64),
            "image_index": index,
            "label": pool.labels[index],
            "contrast": ones,
            **aug,
        }

    def sample_images(
        self, batch_size: int, seed: int, *, split: str = "train", index: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """The images (B, K, 1, S, S) and labels (B, K) of ``generate(batch_size, seed,
        split=split, index=index)`` without building its time course (for feed-forward
        training on the same stream)."""
        batch_size = check_batch_size(batch_size)
        draws, _ = generators(seed, split, index)
        conditions = self._draw(draws, batch_size, split)
        return self.images_of(conditions)

    def images_of(self, conditions: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Images (B, K, 1, S, S) after augmentation, resizing and standardisation, and their
        labels (B, K), from the conditions."""
        from rnnzoo.datasets.augment import AUGMENT_KEYS, apply_augmentations
        from rnnzoo.datasets.images import dataset_statistics, resize

        p, k = self.params, self.params.n_images
        index = np.asarray(conditions["image_index"], dtype=np.int64)
        batch_size = index.shape[0]
        splits = np.asarray(conditions["split"], dtype=np.int64)
        if index.shape != (batch_size, k) or not np.isin(splits, (0, 1, 2)).all():
            raise InvalidParameterError(
                f"{self.name}: condition 'image_index' must be (B, {k}) and 'split' in 0, 1, 2"
            )
        pixels = np.zeros((batch_size, k, 1, p.native_size, p.native_size), dtype=np.float32)
        labels = np.zeros((batch_size, k), dtype=np.int64)
        for code, name in enumerate(SPLIT_CODES):
            rows = np.nonzero(splits == code)[0]
            if len(rows):
                pool = self._pool(name)
                pixels[rows] = pool.images[index[rows]]
                labels[rows] = pool.labels[index[rows]]
        flat = pixels.reshape(batch_size * k, 1, p.native_size, p.native_size)
        draws = {
            key: np.asarray(conditions[f"aug_{key}"], dtype=np.float64).reshape(-1)
            for key in AUGMENT_KEYS
        }
        flat = resize(apply_augmentations(flat, draws), p.size)
        if p.normalize:
            mean, std = dataset_statistics(p.dataset)
            flat = (flat - mean) / std
        return flat.reshape(batch_size, k, 1, p.size, p.size), labels

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p, k = self.params, self.params.n_images
        stimuli, labels = self.images_of(conditions)
        batch_size = stimuli.shape[0]
        epochs, n_steps = self._epochs(batch_size)
        contrast = np.asarray(conditions["contrast"], dtype=np.float64)
        inputs = np.zeros((n_steps, batch_size, k), dtype=np.float32)
        targets = np.zeros((n_steps, batch_size, self.n_outputs), dtype=np.float32)
        weights = np.zeros_like(targets)
        for j in range(k):
            shown = window(n_steps, *epochs[f"image_{j + 1}"].T)
            inputs[:, :, j] = shown * contrast[None, :, j]
            start, stop = epochs[f"scored_{j + 1}"][0]
            ramp = _ramp(stop - start, p.ramp_decades)
            targets[start:stop, np.arange(batch_size), labels[:, j]] = 1.0
            weights[start:stop] = ramp[:, None, None]
        lengths = np.full(batch_size, n_steps, dtype=np.int64)
        return self._batch(inputs, targets, weights, lengths, epochs, conditions, stimuli=stimuli)

    def _epochs(self, batch_size: int) -> tuple[dict[str, np.ndarray], int]:
        p = self.params
        spont, image, after = (int(p.steps(v)) for v in (p.spontaneous_ms, p.image_ms, p.after_ms))
        score, back = int(p.steps(p.score_ms)), int(p.steps(p.return_ms))
        bounds = {"spontaneous": (0, spont)}
        t = spont
        for j in range(1, p.n_images + 1):
            bounds[f"image_{j}"] = (t, t + image)
            bounds[f"scored_{j}"] = (t + image - score, t + image)
            bounds[f"after_{j}"] = (t + image, t + image + after)
            t += image + after
        bounds["return"] = (t - back, t)
        epochs = {
            name: np.tile(np.array(b, dtype=np.int64), (batch_size, 1))
            for name, b in bounds.items()
        }
        return epochs, t

    def _pool(self, split: str):
        from rnnzoo.datasets.images import load_images

        p = self.params
        return load_images(
            p.dataset, split, split_seed=p.split_seed, validation_size=p.validation_size
        )

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        correct = np.zeros(batch.batch_size)
        labels = np.asarray(batch.conditions["label"])
        for j in range(self.params.n_images):
            last = batch.epochs[f"scored_{j + 1}"][:, 1] - 1
            chosen = outputs[last, np.arange(batch.batch_size)].argmax(axis=-1)
            correct += chosen == labels[:, j]
        return correct / self.params.n_images


def _ramp(n: int, decades: float) -> np.ndarray:
    """logspace(-decades, 0, n) (seed 004 eq. 4 with decades = 3, n = 30)."""
    return np.logspace(-decades, 0, n) if n > 1 else np.ones(n)


def _classes(dataset: str) -> tuple[str, ...]:
    from rnnzoo.datasets.images import FASHION_MNIST_CLASSES

    if dataset == "fashion_mnist":
        return tuple(c.replace("/", "_").replace(" ", "_") for c in FASHION_MNIST_CLASSES)
    return tuple(f"digit_{d}" for d in range(10))
