"""`on_divergence: rollback` ends: the count of rollbacks and the learning-rate scale survive
the restore of the snapshot, so the run stops as diverged after max_rollbacks, its row final."""

from __future__ import annotations

import json

import pytest
from helpers import small

from rnnzoo.training import train
from rnnzoo.training.methods import make_method
from rnnzoo.training.results import read_runs


class Bounded:
    """The control method, with a cap on training steps tried (a rollback that never ends
    fails the test instead of hanging it)."""

    name = "control"

    def __init__(self, limit: int = 200) -> None:
        self.inner, self.calls, self.limit = make_method("control"), 0, limit

    def outputs(self, *args, **kwargs):
        self.calls += 1
        if self.calls > self.limit:
            raise AssertionError(f"more than {self.limit} training steps tried: rollback loops")
        return self.inner.outputs(*args, **kwargs)


@pytest.mark.parametrize("max_rollbacks", [0, 3])
def test_rollback_stops_after_max_rollbacks(tmp_path, max_rollbacks):
    # every loss is above divergence_loss: each step diverges, at step 0 and after each rollback
    config = small(on_divergence="rollback", max_rollbacks=max_rollbacks, divergence_loss=1e-12)
    method = Bounded()
    result = train(config, tmp_path / "roll", method=method)
    assert result.status == "diverged" and result.rollbacks == max_rollbacks
    assert method.calls == max_rollbacks + 1
    events = [json.loads(x) for x in (tmp_path / "roll" / "metrics.jsonl").read_text().splitlines()]
    assert [e["lr"] for e in events] == [
        config.train.lr * 0.5**k for k in range(1, max_rollbacks + 1)
    ]
    summary = json.loads((tmp_path / "roll" / "summary.json").read_text())
    assert summary["status"] == "diverged" and summary["rollbacks"] == max_rollbacks
    (row,) = read_runs(tmp_path / "results.sqlite")
    assert row["status"] == "diverged"


def test_rollback_then_recovery_keeps_the_halved_rate(tmp_path):
    """A divergence at one step only: one rollback to the last checkpoint, then training goes
    on at half the rate (the optimiser's groups say so) to max_steps."""

    class DivergeOnce(Bounded):
        def outputs(self, net, inputs, progress, generator, **kwargs):
            out = super().outputs(net, inputs, progress, generator, **kwargs)
            return out * 1e9 if self.calls == 8 else out  # step 7 (after the checkpoint at 5)

    method = DivergeOnce()
    from rnnzoo.training.trainer import Trainer

    trainer = Trainer(
        small(on_divergence="rollback", max_rollbacks=2), tmp_path / "r", method=method
    )
    result = trainer.run()
    assert result.status == "max_steps" and result.steps == 12 and result.rollbacks == 1
    assert trainer.lr_scale == 0.5
    assert all(
        g["lr"] == pytest.approx(trainer.tc.lr * 0.5)
        for g in trainer.learner.optimizer.param_groups
    )
    assert method.calls == 12 + 1 + 2  # 12 steps, the diverged one, steps 5-6 again
