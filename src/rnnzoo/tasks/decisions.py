"""The decision structure of a trial, for reward-based use of a task (gymnasium, RL rules).

A trial is a *decision* when its metric asks for one choice in one response window.  Here
that is found with the task's own metric, never guessed from channel names: for every trial,
the candidate outputs "the targets, with the choice channels in the response window replaced
by the pattern of choice k" are scored by `Task.performance`, and the choices that score 1
are the accepted ones; "withhold" (the choice channels at rest in the window) is candidate 0,
accepted alone on a no-go trial (see `decisions`).

Actions follow neurogym: 0 = fixate (or withhold), k >= 1 = choice k.  Choices are the
output channels, except a channel named ``fixation`` (kept at its target); a task with one
output channel has the choices -1 and +1 (its sign).

Rewards (neurogym's convention, `episode_rewards`): a non-zero action before the window is a
fixation break (``fixation_break_penalty`` per break, None = no reward; with ``abort`` the
episode ends there); the first non-zero action in the window ends the episode with
``correct`` if accepted, else ``fail``; holding fixation through the window ends it there,
with ``correct`` if withholding is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.batch import TrialBatch

RESPONSE_EPOCHS = ("response", "decision", "go1")
"""Epoch names that mark the response window, in order of preference."""


@dataclass(frozen=True)
class Decisions:
    """Decision structure of B trials.

    start, stop : int64 (B,), the response window [start, stop) in steps.
    accepted : bool (B, 1 + C), accepted[b, a] is True when action a is correct in trial b
        (a = 0: withholding a response).
    choice_channels : the output channels the C choices drive.
    patterns : float32 (C, len(choice_channels)), the output pattern of each choice.
    """

    start: np.ndarray
    stop: np.ndarray
    accepted: np.ndarray
    choice_channels: tuple[int, ...]
    patterns: np.ndarray

    @property
    def n_actions(self) -> int:
        """1 + C: fixate, then one action per choice."""
        return int(self.accepted.shape[1])


def response_epoch(batch: TrialBatch) -> str | None:
    """The name of the batch's response epoch, or None."""
    return next((name for name in RESPONSE_EPOCHS if name in batch.epochs), None)


def choice_layout(output_names: tuple[str, ...]) -> tuple[tuple[int, ...], np.ndarray]:
    """(choice channels, patterns (C, channels)): one-hot per channel, or -1/+1 for one output."""
    channels = tuple(i for i, n in enumerate(output_names) if n != "fixation")
    if len(channels) == 1:
        return channels, np.array([[-1.0], [1.0]], dtype=np.float32)
    return channels, np.eye(len(channels), dtype=np.float32)


def decisions(task, batch: TrialBatch) -> Decisions:
    """The decision structure of ``batch`` or `InvalidParameterError` saying why it has none."""
    owner = f"{task.name}/{task.version}"
    if task.metric.name != "accuracy":
        raise InvalidParameterError(f"{owner}: its metric ({task.metric.name}) asks for no choice")
    epoch = response_epoch(batch)
    if epoch is None:
        raise InvalidParameterError(
            f"{owner}: no response epoch (one of {', '.join(RESPONSE_EPOCHS)})"
        )
    bounds = batch.epochs[epoch]
    start, stop = bounds[:, 0].copy(), bounds[:, 1].copy()
    if np.any(start < 0) or np.any(stop <= start):
        raise InvalidParameterError(f"{owner}: a trial has no '{epoch}' steps")
    channels, patterns = choice_layout(batch.output_names)
    window = batch.epoch_mask(epoch)  # (T, B)
    accepted = np.zeros((batch.batch_size, 1 + len(patterns)), dtype=bool)
    rest = np.zeros(len(channels), dtype=np.float32)
    for action, pattern in enumerate([rest, *patterns]):
        outputs = batch.targets.astype(np.float64)
        chosen = outputs[:, :, channels]
        chosen[window] = pattern
        outputs[:, :, channels] = chosen
        accepted[:, action] = task.performance(outputs, batch) >= 1 - 1e-9
    # A no-go trial accepts withholding and either no choice or every choice (a metric that
    # then reads only the fixation output); withholding with some choices is a metric's argmax
    # breaking the tie of all-zero outputs in favour of one choice, not a no-go trial.
    choices = accepted[:, 1:]
    nogo = accepted[:, 0] & (choices.all(axis=1) | ~choices.any(axis=1))
    choices[nogo] = False
    accepted[~nogo, 0] = False
    if not accepted.any(axis=1).all():
        raise InvalidParameterError(f"{owner}: some trials accept no single choice")
    if accepted.all(axis=1).any():
        raise InvalidParameterError(f"{owner}: some trials accept every choice")
    return Decisions(start, stop, accepted, channels, patterns)


def episode_rewards(
    actions: np.ndarray,
    structure: Decisions,
    *,
    correct: float = 1.0,
    fail: float = 0.0,
    fixation_break_penalty: float | None = None,
    abort: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rewards of B episodes played with ``actions`` (T, B) ints, as a gymnasium env gives them.

    A non-zero action before the response window earns ``fixation_break_penalty`` (None: no
    reward) and, with ``abort``, ends the episode (neurogym's ``abort`` option; by default
    the episode goes on, as in neurogym).

    Returns
    -------
    rewards : float64 (T, B), the reward of each step (0 after the episode's end).
    last : int64 (B,), the step at which each episode ends (inclusive).
    outcome : int64 (B,), 1 correct, 0 failed or no response, -1 aborted by a fixation break.
    """
    n_steps, batch_size = actions.shape
    t = np.arange(n_steps)[:, None]
    moved = actions != 0
    early = moved & (t < structure.start[None, :])
    in_window = moved & (t >= structure.start[None, :]) & (t < structure.stop[None, :])
    big = np.iinfo(np.int64).max
    first_break = np.where(early.any(0), early.argmax(0), big)
    if fixation_break_penalty is None or not abort:
        first_break[:] = big
    first_response = np.where(in_window.any(0), in_window.argmax(0), big)
    window_end = structure.stop - 1
    last = np.minimum(np.minimum(first_break, first_response), window_end)
    rewards = np.zeros((n_steps, batch_size), dtype=np.float64)
    if fixation_break_penalty is not None:
        rewards[early & (t <= last[None, :])] = fixation_break_penalty
    outcome = np.zeros(batch_size, dtype=np.int64)
    columns = np.arange(batch_size)
    broke = first_break <= np.minimum(first_response, window_end)
    responded = ~broke & (first_response <= window_end)
    ended = ~broke
    chosen = actions[np.minimum(last, n_steps - 1), columns]
    ok = structure.accepted[columns, np.where(responded, chosen, 0)]
    outcome[broke] = -1
    rewards[last[ended], columns[ended]] += np.where(ok[ended], correct, fail)
    outcome[ended & ok] = 1
    return rewards, last, outcome
