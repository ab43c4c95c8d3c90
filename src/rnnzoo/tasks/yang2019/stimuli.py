"""Random stimulus draws of the Yang et al. (2019) tasks (locations, strengths, categories).

Every function draws from the generator it is given and returns arrays of shape (B,).
Angles are in radians in [0, 2*pi).
"""

from __future__ import annotations

import numpy as np

TWO_PI = 2 * np.pi

PAIR_OFFSET_RAD = (0.5 * np.pi, 1.5 * np.pi)
"""Range of |stim2 - stim1| before the random sign, in the decision tasks."""

NON_MATCH_OFFSET_RAD = (np.pi / 9, 17 * np.pi / 9)
"""Range of |test - sample| before the random sign, on DMS non-match trials (20 to 340 deg)."""

MATCH_TOLERANCE_RAD = np.pi / 36
"""A DMS test within 5 deg of the sample is a match (the original psychometric rule)."""

SPLIT_FRACTION = (0.2, 0.8)
"""Range of the fraction of a stimulus' strength moved between the rings (multi-sensory tasks)."""

CATEGORY_LOCATIONS_RAD = np.pi * np.array([0.1, 0.3, 0.5, 0.7, 0.9, 1.1, 1.3, 1.5, 1.7, 1.9])
"""The 10 stimulus locations of DMC/DNMC; category 0 below pi, category 1 above."""


def random_sign(rng: np.random.Generator, n: int) -> np.ndarray:
    """+1 or -1 with probability 1/2 each."""
    return rng.choice(np.array([-1.0, 1.0]), size=n)


def angles(rng: np.random.Generator, n: int) -> np.ndarray:
    """Locations uniform on the circle."""
    return rng.uniform(0.0, TWO_PI, size=n)


def paired_location(rng: np.random.Generator, first: np.ndarray) -> np.ndarray:
    """The second location of a decision task: first + U(pi/2, 3pi/2) * (+-1), wrapped."""
    offset = rng.uniform(*PAIR_OFFSET_RAD, size=len(first)) * random_sign(rng, len(first))
    return np.mod(first + offset, TWO_PI)


def strength_pair(
    rng: np.random.Generator,
    n: int,
    coherences: tuple[float, ...],
    mean_range: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """Strengths (mean + c*s, mean - c*s): mean ~ U(mean_range), c uniform on ``coherences``,
    s = +-1."""
    mean = rng.uniform(*mean_range, size=n)
    coherence = rng.choice(np.asarray(coherences, dtype=np.float64), size=n)
    sign = random_sign(rng, n)
    return mean + coherence * sign, mean - coherence * sign


def split_between_rings(
    rng: np.random.Generator, strength: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-sensory split of one stimulus: d = strength * U(0.2, 0.8) * (+-1); ring 1 gets
    strength + d/2 and ring 2 strength - d/2 (the sum stays ``strength``)."""
    diff = strength * rng.uniform(*SPLIT_FRACTION, size=len(strength))
    diff *= random_sign(rng, len(strength))
    return strength + diff / 2, strength - diff / 2


def match_pair(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """DMS sample and test locations: match with probability 1/2 (test = sample), otherwise the
    test is sample + U(pi/9, 17pi/9) * (+-1), wrapped."""
    match = rng.integers(0, 2, size=n).astype(bool)
    offset = rng.uniform(*NON_MATCH_OFFSET_RAD, size=n) * random_sign(rng, n)
    sample = angles(rng, n)
    return sample, np.mod(sample + np.where(match, 0.0, offset), TWO_PI)


def category_pair(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """DMC sample and test locations, each uniform on `CATEGORY_LOCATIONS_RAD`."""
    return rng.choice(CATEGORY_LOCATIONS_RAD, size=n), rng.choice(CATEGORY_LOCATIONS_RAD, size=n)


def category(location: np.ndarray) -> np.ndarray:
    """Category of a location: 0 on [0, pi), 1 on [pi, 2*pi)."""
    return (np.asarray(location) >= np.pi).astype(np.int64)
