"""The input and output code of Yang et al. (2019): channels, ring bumps, population vector.

Inputs (85): ``fixation``; ring 1 (``ring1_0`` .. ``ring1_31``) and ring 2 (``ring2_0`` ..
``ring2_31``), one ring per stimulus modality; 20 rule units (``rule_<name>``) in the paper's
rule order. Outputs (33): ``fixation`` and the response ring ``ring_0`` .. ``ring_31``.
Unit i of every ring prefers the angle 2*pi*i/32.

A stimulus at angle psi with strength gamma drives ring unit i with
``gamma * 0.8 * exp(-d^2 / (2 (pi/8)^2))``, d the circular distance between psi and the unit's
preferred angle; the response target of unit i is ``0.05 + 0.8 * exp(...)`` (the same bump on
the 0.05 baseline of every output).
"""

from __future__ import annotations

import numpy as np

from rnnzoo.tasks._build import ring_code

RULES = (
    "fdgo",
    "reactgo",
    "delaygo",
    "fdanti",
    "reactanti",
    "delayanti",
    "dm1",
    "dm2",
    "contextdm1",
    "contextdm2",
    "multidm",
    "delaydm1",
    "delaydm2",
    "contextdelaydm1",
    "contextdelaydm2",
    "multidelaydm",
    "dmsgo",
    "dmsnogo",
    "dmcgo",
    "dmcnogo",
)
"""The 20 rules in the order of their rule input units (the paper's order)."""

N_RING = 32
"""Units per ring (inputs and output)."""

BUMP_WIDTH_RAD = np.pi / 8
"""Standard deviation of the Gaussian ring bump (22.5 deg)."""

BUMP_PEAK = 0.8
"""Peak of a bump of strength 1, on the input rings and on the response ring."""

TARGET_BASELINE = 0.05
"""Target of every output that is not driven (fixation after the go cue, ring away from a bump)."""

RING1 = slice(1, 1 + N_RING)
RING2 = slice(1 + N_RING, 1 + 2 * N_RING)
RULE_START = 1 + 2 * N_RING
"""Index of the first rule unit (65)."""

INPUT_NAMES = (
    "fixation",
    *(f"ring1_{i}" for i in range(N_RING)),
    *(f"ring2_{i}" for i in range(N_RING)),
    *(f"rule_{rule}" for rule in RULES),
)
OUTPUT_NAMES = ("fixation", *(f"ring_{i}" for i in range(N_RING)))

PREFERRED_RAD = 2 * np.pi * np.arange(N_RING) / N_RING
"""Preferred angle of each ring unit, (32,)."""


def rule_unit(rule: str) -> int:
    """Input index of ``rule``'s rule unit (65 + its position in `RULES`)."""
    return RULE_START + RULES.index(rule)


def bump(angles_rad: np.ndarray) -> np.ndarray:
    """The ring pattern of strength 1 for each angle: (B,) -> (B, 32), peak `BUMP_PEAK`."""
    return ring_code(np.asarray(angles_rad, dtype=np.float64), N_RING, BUMP_WIDTH_RAD, BUMP_PEAK)


def circular_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance between angles on the circle, in [0, pi] (radians)."""
    d = np.mod(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64), 2 * np.pi)
    return np.minimum(d, 2 * np.pi - d)


def population_vector(ring: np.ndarray) -> np.ndarray:
    """Angle in [0, 2*pi) read out from ring activity (..., 32) -> (...).

    As the original ``popvec``: atan2 of the sums of sin and cos of the preferred angles, each
    weighted by the activity and divided by the summed activity (a negative sum turns the angle
    by pi). NaN where the summed activity is 0 (no direction can be read out).
    """
    ring = np.asarray(ring, dtype=np.float64)
    sign = np.sign(ring.sum(axis=-1))
    angle = np.arctan2(sign * (ring @ np.sin(PREFERRED_RAD)), sign * (ring @ np.cos(PREFERRED_RAD)))
    return np.where(sign != 0, np.mod(angle, 2 * np.pi), np.nan)
