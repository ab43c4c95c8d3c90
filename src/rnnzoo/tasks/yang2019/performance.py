"""The performance rule of Yang et al. (2019) (``network.get_perf``), at the last step only."""

from __future__ import annotations

import numpy as np

from rnnzoo.tasks.yang2019.encoding import circular_distance, population_vector

FIXATION_THRESHOLD = 0.5
"""The fixation output counts as fixating when above this value."""

ANGLE_TOLERANCE_RAD = 0.2 * np.pi
"""A response is on target when its population-vector angle is closer than this (36 deg)."""


def last_step_correct(
    outputs: np.ndarray, lengths: np.ndarray, response_angle: np.ndarray
) -> np.ndarray:
    """1.0 for each correct trial, else 0.0 -> (B,).

    Parameters
    ----------
    outputs : ndarray (T, B, 33), fixation output first, then the 32 ring outputs.
    lengths : int ndarray (B,); the rule reads step ``lengths[b] - 1`` only.
    response_angle : ndarray (B,), the target angle in rad; NaN where the trial must end in
        fixation.

    A fixate trial is correct iff the fixation output is > 0.5. A response trial is correct
    iff the network is not fixating, i.e. the fixation output is not > 0.5 (the original's
    ``fixating = y_fix > 0.5``: exactly 0.5, a sigmoid at zero drive, and NaN count as
    released), and the population vector of the ring outputs lies strictly closer than 0.2*pi
    to the target angle.
    """
    last = outputs[np.asarray(lengths) - 1, np.arange(outputs.shape[1])]  # (B, 33)
    fixation = last[:, 0]
    should_fixate = np.isnan(response_angle)
    read_out = population_vector(last[:, 1:])
    on_target = np.zeros(len(fixation), dtype=bool)
    aim = ~should_fixate & ~np.isnan(read_out)
    on_target[aim] = circular_distance(read_out[aim], response_angle[aim]) < ANGLE_TOLERANCE_RAD
    fixating = fixation > FIXATION_THRESHOLD  # False for NaN, as NumPy compares in the original
    correct = np.where(should_fixate, fixating, ~fixating & on_target)
    return correct.astype(np.float64)


def last_step_choices(
    outputs: np.ndarray, lengths: np.ndarray, candidates: dict[str, np.ndarray]
) -> tuple[tuple[str, ...], np.ndarray]:
    """The choice of each trial as the metric reads it, one-hot (B, C).

    Choices are ``fixation`` (fixation output > 0.5 at the last step), then each candidate
    (a name -> (B,) angle in rad, NaN where it does not apply: e.g. the two stimulus
    locations of a decision task) whose angle lies closer than 0.2*pi to the population
    vector of the ring outputs (the nearest candidate when several do), and ``other`` (a
    response near no candidate).
    """
    last = outputs[np.asarray(lengths) - 1, np.arange(outputs.shape[1])]
    read_out = population_vector(last[:, 1:])
    names = ("fixation", *candidates, "other")
    distance = np.stack(
        [
            np.where(
                np.isnan(angle) | np.isnan(read_out),
                np.inf,
                circular_distance(np.nan_to_num(read_out), np.nan_to_num(angle)),
            )
            for angle in (np.asarray(a, dtype=np.float64) for a in candidates.values())
        ],
        axis=1,
    )
    pick = np.where(
        last[:, 0] > FIXATION_THRESHOLD,
        0,
        np.where(
            distance.min(axis=1) < ANGLE_TOLERANCE_RAD, 1 + distance.argmin(axis=1), len(names) - 1
        ),
    )
    return names, np.eye(len(names))[pick]
