"""Task variance and unit clustering (Yang, Joglekar, Song, Newsome & Wang 2019, Fig. 3), and
the lesion of each cluster (their Fig. 4).

For each task, the network runs noise-free on the task's test grid; a unit's task variance is
its activity's variance across trials at each step, averaged over the steps after the first
fixation epoch (the original's ``h.var(axis=1).mean(axis=0)`` on ``h[fix1 end:]``).  Units
whose variance summed over tasks is at most 1e-3 are inactive (the original's threshold); each
active unit's variances are normalised by their maximum over tasks, and the units are clustered
by k-means (20 seeded initialisations) with the number of clusters k in 2..29 that maximises
the silhouette score, as the original does with scikit-learn; here k-means and the silhouette
are computed directly (NumPy).  Clusters are numbered by the task they prefer (the argmax of
their summed normalised variance), so that networks can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnzoo.analysis.lesions import lesion
from rnnzoo.analysis.network import simulate, single_network
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network

ACTIVE_THRESHOLD = 1e-3
"""A unit whose task variance summed over tasks is at most this is inactive (the original's)."""

CLUSTER_RANGE = (2, 29)
"""Numbers of clusters tried (the original's range(2, 30))."""

N_INIT = 20
"""k-means initialisations per number of clusters (the original's n_init)."""


@dataclass(frozen=True)
class TaskVariance:
    """variance (N, K): each unit's task variance on each of the K ``tasks``; active (N,) bool;
    normalised (A, K) of the A active units (divided by their maximum over tasks);
    cluster (A,) the cluster of each active unit (numbered by preferred task); n_clusters;
    silhouette: the score of the chosen clustering; scores: the silhouette of each k tried."""

    tasks: tuple[str, ...]
    variance: np.ndarray
    active: np.ndarray
    normalised: np.ndarray
    cluster: np.ndarray
    n_clusters: int
    silhouette: float
    scores: dict[int, float]

    @property
    def active_units(self) -> np.ndarray:
        """Indices (A,) of the active units, in the order of ``normalised`` and ``cluster``."""
        return np.flatnonzero(self.active)

    def cluster_units(self, k: int) -> np.ndarray:
        """Unit indices of cluster ``k``."""
        return self.active_units[self.cluster == k]

    def summary(self) -> dict[str, Any]:
        """JSON-ready: tasks, active count, clusters (unit indices of each), silhouette."""
        return {
            "tasks": list(self.tasks),
            "n_active": int(self.active.sum()),
            "n_clusters": self.n_clusters,
            "silhouette": self.silhouette,
            "clusters": [self.cluster_units(k).tolist() for k in range(self.n_clusters)],
            "variance": self.variance.tolist(),
        }


def _tasks(tasks: Any) -> dict[str, Any]:
    """name -> task from a mapping, a list of tasks, or a composition (its labels)."""
    if hasattr(tasks, "tasks") and hasattr(tasks, "labels"):
        return dict(zip(tasks.labels, tasks.tasks, strict=True))
    if isinstance(tasks, dict):
        return dict(tasks)
    return {t.name: t for t in tasks}


def _after_fixation(batch) -> int:
    """First step after the first fixation epoch ('fix1' or 'fixation'), 0 without one."""
    for name in ("fix1", "fixation"):
        if name in batch.epochs:
            return int(batch.epochs[name][:, 1].min())
    return 0


def unit_task_variance(net: Network, tasks: Any, *, member: int | None = None) -> np.ndarray:
    """(N, K) task variance of each unit on each task (see the module docstring); ``tasks``: a
    composition, a mapping name -> task or a list of tasks, each with the network's inputs."""
    net = single_network(net, member)
    named = _tasks(tasks)
    columns = []
    for name, task in named.items():
        if task.n_inputs != net.config.n_inputs:
            raise InvalidParameterError(
                f"task '{name}' has {task.n_inputs} inputs but the network takes "
                f"{net.config.n_inputs}; task variance needs tasks with the network's channels"
            )
        batch = task.generate_test()
        rates = simulate(net, batch.inputs).rates  # (T, B, N)
        start = _after_fixation(batch)
        valid = batch.valid[start:, :, None]
        r = rates[start:]
        count = valid.sum(axis=1)
        mean = (r * valid).sum(axis=1) / np.maximum(count, 1)
        var = (((r - mean[:, None]) ** 2) * valid).sum(axis=1) / np.maximum(count, 1)
        steps = count[:, 0] > 1  # steps where at least two trials run
        columns.append(var[steps].mean(axis=0))
    return np.stack(columns, axis=1)


def kmeans(x: np.ndarray, k: int, seed: int, n_init: int = N_INIT) -> np.ndarray:
    """Labels (n,) of the best of ``n_init`` k-means++-started Lloyd runs (lowest inertia)."""
    rng = np.random.default_rng(seed)
    best, best_inertia = None, np.inf
    for _ in range(n_init):
        centres = [x[rng.integers(len(x))]]
        for _ in range(1, k):
            d2 = np.min([((x - c) ** 2).sum(axis=1) for c in centres], axis=0)
            p = d2 / d2.sum() if d2.sum() > 0 else np.full(len(x), 1 / len(x))
            centres.append(x[rng.choice(len(x), p=p)])
        c = np.array(centres)
        for _ in range(300):
            labels = ((x[:, None] - c[None]) ** 2).sum(axis=2).argmin(axis=1)
            moved = np.array(
                [x[labels == j].mean(axis=0) if (labels == j).any() else c[j] for j in range(k)]
            )
            if np.allclose(moved, c):
                break
            c = moved
        inertia = ((x - c[labels]) ** 2).sum()
        if inertia < best_inertia:
            best, best_inertia = labels, inertia
    return best


def silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette (Rousseeuw 1987), Euclidean; 0 for points alone in their cluster."""
    distance = np.sqrt(((x[:, None] - x[None]) ** 2).sum(axis=2))
    clusters = np.unique(labels)
    if len(clusters) < 2:
        return 0.0
    scores = np.zeros(len(x))
    for i in range(len(x)):
        own = labels == labels[i]
        if own.sum() == 1:
            continue
        a = distance[i, own].sum() / (own.sum() - 1)
        b = min(distance[i, labels == c].mean() for c in clusters if c != labels[i])
        scores[i] = (b - a) / max(a, b) if max(a, b) > 0 else 0.0
    return float(scores.mean())


def task_variance(
    net: Network, tasks: Any, *, member: int | None = None, seed: int = 0
) -> TaskVariance:
    """Task variance of every unit, and the clustering of the active units (module docstring)."""
    named = _tasks(tasks)
    variance = unit_task_variance(net, named, member=member)
    active = variance.sum(axis=1) > ACTIVE_THRESHOLD
    normalised = variance[active] / variance[active].max(axis=1, keepdims=True)
    low, high = CLUSTER_RANGE
    high = min(high, len(normalised) - 1)
    if high < low:
        raise InvalidParameterError(
            f"task variance: {int(active.sum())} active units are too few to cluster (need 3)"
        )
    scores, runs = {}, {}
    for k in range(low, high + 1):
        runs[k] = kmeans(normalised, k, seed)
        scores[k] = silhouette(normalised, runs[k])
    chosen = max(scores, key=lambda k: scores[k])
    labels = runs[chosen]
    preference = [normalised[labels == j].sum(axis=0).argmax() for j in range(chosen)]
    order = np.argsort(preference, kind="stable")
    renumber = np.empty(chosen, dtype=np.int64)
    renumber[order] = np.arange(chosen)
    return TaskVariance(
        tasks=tuple(named),
        variance=variance,
        active=active,
        normalised=normalised,
        cluster=renumber[labels],
        n_clusters=int(chosen),
        silhouette=float(scores[chosen]),
        scores=scores,
    )


def cluster_lesions(
    net: Network, tasks: Any, result: TaskVariance, *, member: int | None = None
) -> np.ndarray:
    """(C + 1, K) mean performance on each task's test grid (noise-free): intact (row 0), then
    with each cluster lesioned (Yang et al.'s Fig. 4)."""
    net = single_network(net, member)
    named = _tasks(tasks)
    batches = {name: task.generate_test() for name, task in named.items()}

    def scores(network: Network) -> list[float]:
        return [
            float(
                np.mean(task.performance(simulate(network, batches[n].inputs).outputs, batches[n]))
            )
            for n, task in named.items()
        ]

    rows = [scores(net)]
    rows += [scores(lesion(net, result.cluster_units(k))) for k in range(result.n_clusters)]
    return np.array(rows)
