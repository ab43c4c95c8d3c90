"""The mechanism part of a sweep's report: what the analyses inside the sweep found
(`rnnzoo.bench.mechanisms`), per cell and across networks.

- mechanisms.md / mechanisms.csv: per cell (task, model, column as in table.md) over its
  analysed networks, the distribution of fixed-point counts ("count x networks"), the
  stability classes of those fixed points (totals), participation ratio, spectral radius and
  Lyapunov exponent (mean ± sd), and the latent circuits' fit (embedding and output R^2, mean
  over networks) per number of nodes; latent_fit.png draws the fit against the nodes.
- similarity_<task>_<metric>.csv and mds_<task>.png: per task, the pairwise distance
  between all its analysed networks (`rnnzoo.analysis.similarity.distance_matrix`:
  Procrustes shape distance of the rates at the valid steps, DSA of the rate trajectories),
  run noise-free on the task's test grid, and a classical (Torgerson) MDS embedding of each
  matrix coloured by one sweep axis.
- psychometric.csv / psychometric.png (with the section's ``psychometric``): every
  network's psychometric curve (`rnnzoo.bench.psychometric_report`).
- complexity.md / complexity.csv (with the section's ``complexity``): the tasks ranked by
  the smallest latent circuit that fits their networks (`rnnzoo.bench.complexity`).
- mechanisms.md, "Latent connectivity after node alignment": per task and latent size, the
  correlation of w_rec between pairs of networks after aligning their nodes
  (`rnnzoo.analysis.alignment`), within and between the values of the colouring axis
  (``color_by``: models, methods, rules, ...).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnzoo._atomic import atomic_path
from rnnzoo.bench.report import _label, _mean_sd, _pyplot, _save, column_labels, write_csv

DSA_OPTIONS = {"rank": 6, "n_iters": 100, "n_restarts": 2}
CLASSES = ("stable", "saddle", "unstable", "marginal")


@dataclass(frozen=True)
class MechanismStats:
    """One cell's analysed networks: fixed-point counts (count -> networks), stability
    classes (class -> fixed points over all networks), scalar means and sds, latent fit
    (nodes -> (mean embedding R^2, mean output R^2, networks))."""

    task: str
    model: str
    method: str
    networks: int
    fixed_point_counts: dict[int, int] = field(default_factory=dict)
    stability_classes: dict[str, int] = field(default_factory=dict)
    participation_ratio_mean: float | None = None
    participation_ratio_sd: float | None = None
    spectral_radius_mean: float | None = None
    spectral_radius_sd: float | None = None
    lyapunov_mean: float | None = None
    lyapunov_sd: float | None = None
    latent_fit: dict[int, tuple[float, float, int]] = field(default_factory=dict)


def analysed_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows whose analyses are done."""
    return [r for r in rows if r.get("analysis_status") == "done"]


def mechanism_stats(rows: list[dict[str, Any]]) -> list[MechanismStats]:
    """Per (task, model, column) statistics of the analysed rows, in first-seen order."""
    column = column_labels(rows)
    cells: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in analysed_rows(rows):
        cells.setdefault((_label(row, "task"), _label(row, "model"), column(row)), []).append(row)
    stats = []
    for (task, model, method), group in cells.items():
        counts = Counter(r["n_fixed_points"] for r in group if r["n_fixed_points"] is not None)
        classes: Counter[str] = Counter()
        for r in group:
            classes.update(json.loads(r["fixed_point_classes"] or "{}"))
        stats.append(
            MechanismStats(
                task,
                model,
                method,
                len(group),
                dict(sorted(counts.items())),
                {c: classes[c] for c in CLASSES if classes[c]},
                *_mean_sd(_present(group, "participation_ratio")),
                *_mean_sd(_present(group, "spectral_radius")),
                *_mean_sd(_present(group, "lyapunov_exponent_per_s")),
                _latent_means(group),
            )
        )
    return stats


def _present(rows: list[dict[str, Any]], key: str) -> list[float]:
    return [r[key] for r in rows if r.get(key) is not None]


def _latent_means(rows: list[dict[str, Any]]) -> dict[int, tuple[float, float, int]]:
    by_size: dict[int, list[tuple[float, float]]] = {}
    for r in rows:
        for size, fit in json.loads(r.get("latent_fit") or "{}").items():
            values = (fit["embedding_r2"], fit["output_r2"])
            if None not in values:
                by_size.setdefault(int(size), []).append(values)
    return {
        n: (float(np.mean([v[0] for v in vals])), float(np.mean([v[1] for v in vals])), len(vals))
        for n, vals in sorted(by_size.items())
    }


def _mean_text(mean: float | None, sd: float | None, fmt: str = ".3g") -> str:
    if mean is None:
        return "-"
    return format(mean, fmt) + ("" if sd is None else f" ± {format(sd, fmt)}")


def mechanism_table(stats: list[MechanismStats]) -> str:
    """The Markdown table of `mechanism_stats`."""
    sizes = sorted({n for s in stats for n in s.latent_fit})
    head = [
        "Task",
        "Model",
        "Column",
        "Networks",
        "Fixed points (count × networks)",
        "Stability (fixed points)",
        "Participation ratio",
        "Spectral radius",
        "Lyapunov (1/s)",
    ] + [f"Latent {n} nodes R² (emb / out)" for n in sizes]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in stats:
        cells = [
            s.task,
            s.model,
            s.method,
            str(s.networks),
            ", ".join(f"{c} × {k}" for c, k in s.fixed_point_counts.items()) or "-",
            ", ".join(f"{name} {k}" for name, k in s.stability_classes.items()) or "-",
            _mean_text(s.participation_ratio_mean, s.participation_ratio_sd),
            _mean_text(s.spectral_radius_mean, s.spectral_radius_sd),
            _mean_text(s.lyapunov_mean, s.lyapunov_sd),
        ]
        for n in sizes:
            fit = s.latent_fit.get(n)
            cells.append("-" if fit is None else f"{fit[0]:.2f} / {fit[1]:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_latent_fit(stats: list[MechanismStats], path: Path) -> Path | None:
    """Latent-circuit fit vs number of nodes: a panel per task, a colour per (model, column)
    cell, embedding R^2 solid and output R^2 dashed."""
    fitted = [s for s in stats if len(s.latent_fit) >= 1]
    if not fitted:
        return None
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    tasks = list(dict.fromkeys(s.task for s in fitted))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.6 * len(tasks), 3.6), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        mine = [s for s in fitted if s.task == task]
        for j, s in enumerate(mine):
            nodes = list(s.latent_fit)
            label = f"{s.model} / {s.method}"
            ax.plot(nodes, [s.latent_fit[n][0] for n in nodes], "o-", color=f"C{j}", label=label)
            ax.plot(nodes, [s.latent_fit[n][1] for n in nodes], "s--", color=f"C{j}")
        ax.set(title=task, xlabel="latent nodes", ylabel="R² (solid: embedding, dashed: output)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(min(-0.05, ax.get_ylim()[0]), 1.02)
        ax.legend(fontsize=7)
    return _save(fig, path)


def _networks(rows: list[dict[str, Any]], max_trials: int, seed: int) -> dict[str, Any]:
    """Per task label: the analysed rows and each network's noise-free rates on the test
    grid (valid steps (K, N) and trajectories (T, B, N)); a stage sequence's network is its
    last stage's, on its first stage's trials (`rnnzoo.bench.stages.row_network`)."""
    from rnnzoo.analysis.network import simulate
    from rnnzoo.bench.stages import row_network

    found: dict[str, Any] = {}
    for row in analysed_rows(rows):
        task_label = _label(row, "task")
        net, trials = row_network(row, seed, max_trials)
        entry = found.setdefault(task_label, {"rows": [], "samples": [], "trajectories": []})
        if "batch" not in entry:
            entry["batch"] = trials
        batch = entry["batch"]
        rates = simulate(net, batch.inputs).rates
        entry["rows"].append(row)
        entry["samples"].append(rates[batch.valid])
        entry["trajectories"].append(rates)
    return found


def similarity_matrices(
    rows: list[dict[str, Any]], metrics: tuple[str, ...], max_trials: int = 64, seed: int = 0
) -> dict[str, dict[str, Any]]:
    """Per task label with two or more analysed networks: {"rows", metric -> (K, K) matrix}."""
    from rnnzoo.analysis.similarity import distance_matrix

    result = {}
    for task, entry in _networks(rows, max_trials, seed).items():
        if len(entry["rows"]) < 2:
            continue
        matrices: dict[str, Any] = {"rows": entry["rows"]}
        for metric in metrics:
            if metric == "dsa":
                rank = min(DSA_OPTIONS["rank"], *(t.shape[-1] for t in entry["trajectories"]))
                options = {**DSA_OPTIONS, "rank": rank, "seed": seed}
                matrices[metric] = distance_matrix(entry["trajectories"], "dsa", **options)
            else:
                matrices[metric] = distance_matrix(entry["samples"], metric)
        result[task] = matrices
    return result


def classical_mds(distances: np.ndarray, k: int = 2) -> np.ndarray:
    """Torgerson's classical MDS: (K, k) coordinates whose Euclidean distances best match the
    (K, K) ``distances`` (the top-k eigenvectors of the double-centred -D^2/2, scaled by the
    square roots of their eigenvalues; negative eigenvalues give 0)."""
    d = np.asarray(distances, dtype=np.float64)
    n = len(d)
    centring = np.eye(n) - np.ones((n, n)) / n
    b = -0.5 * centring @ (d**2) @ centring
    values, vectors = np.linalg.eigh(b)
    top = np.argsort(values)[::-1][:k]
    coords = vectors[:, top] * np.sqrt(np.clip(values[top], 0, None))
    if coords.shape[1] < k:
        coords = np.pad(coords, ((0, 0), (0, k - coords.shape[1])))
    return coords


def axis_value(row: dict[str, Any], axis: str) -> str:
    """A row's value on a sweep axis (model, method, rule, task or seed)."""
    if axis == "seed":
        return str(row["seed"])
    if axis == "rule":
        return _label(row, "rule") or "bptt"
    return _label(row, axis)


def network_name(row: dict[str, Any]) -> str:
    return f"{_label(row, 'model')} / {column_labels([row])(row)} / seed {row['seed']}"


def group_distances(matrices: dict[str, Any], axis: str) -> list[dict[str, Any]]:
    """Per metric and pair of values of ``axis`` (e.g. rate vs current): the mean and number
    of the pairwise distances between networks of those groups (distinct networks only)."""
    values = [axis_value(r, axis) for r in matrices["rows"]]
    groups = list(dict.fromkeys(values))
    out = []
    for metric in (m for m in matrices if m != "rows"):
        d = matrices[metric]
        for i, first in enumerate(groups):
            for second in groups[i:]:
                picked = [
                    d[a, b]
                    for a in range(len(values))
                    for b in range(a + 1, len(values))
                    if {values[a], values[b]} == {first, second}
                ]
                if picked:
                    out.append(
                        {
                            "metric": metric,
                            "groups": f"{first} vs {second}",
                            "pairs": len(picked),
                            "mean": float(np.mean(picked)),
                        }
                    )
    return out


def plot_mds(task: str, matrices: dict[str, Any], color_by: str, path: Path) -> Path:
    """A panel per metric: the networks' MDS coordinates, coloured by ``color_by``."""
    plt = _pyplot()
    metrics = [m for m in matrices if m != "rows"]
    values = [axis_value(r, color_by) for r in matrices["rows"]]
    groups = list(dict.fromkeys(values))
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.4 * len(metrics), 4.0), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        coords = classical_mds(matrices[metric])
        for j, group in enumerate(groups):
            mine = [i for i, v in enumerate(values) if v == group]
            ax.scatter(coords[mine, 0], coords[mine, 1], color=f"C{j}", s=30, label=group)
        ax.set(title=f"{task}: {metric} (MDS)", xlabel="MDS 1", ylabel="MDS 2")
        ax.legend(fontsize=7, title=color_by, title_fontsize=7)
    return _save(fig, path)


def latent_alignment(rows: list[dict[str, Any]], axis: str = "model") -> list[dict[str, Any]]:
    """Per task and latent size (2 nodes or more) present in every analysed network of the
    task: the correlation of w_rec after node alignment (`align_nodes`) between every pair of
    networks, summarised per pair of values of the sweep ``axis`` (e.g. rate vs current):
    {task, nodes, groups, pairs, mean, min, max, and the mean correlation before alignment}."""
    from rnnzoo.analysis.alignment import align_nodes

    out = []
    by_task: dict[str, list[dict[str, Any]]] = {}
    for row in analysed_rows(rows):
        by_task.setdefault(_label(row, "task"), []).append(row)
    for task, group in by_task.items():
        circuits = [circuits_in(Path(r["analysis_dir"])) for r in group]
        order = list(dict.fromkeys(axis_value(r, axis) for r in group))  # the sweep's order
        for size in sorted(set.intersection(*(set(c) for c in circuits)) - {1}):
            pairs: dict[tuple[str, str], list[tuple[float, float]]] = {}
            for i in range(len(group)):
                for j in range(i + 1, len(group)):
                    values = (axis_value(group[i], axis), axis_value(group[j], axis))
                    aligned = align_nodes(circuits[i][size], circuits[j][size])
                    pairs.setdefault(tuple(sorted(values, key=order.index)), []).append(
                        (aligned.w_rec_correlation, aligned.w_rec_correlation_unaligned)
                    )
            for names, values in pairs.items():
                after = np.array([v[0] for v in values])
                out.append(
                    {
                        "task": task,
                        "nodes": size,
                        "groups": " vs ".join(names),
                        "pairs": len(values),
                        "mean": float(after.mean()),
                        "min": float(after.min()),
                        "max": float(after.max()),
                        "unaligned_mean": float(np.mean([v[1] for v in values])),
                    }
                )
    return out


def circuits_in(folder: Path) -> dict[int, Any]:
    """The latent circuits saved in an analysis folder (a member's), by number of nodes."""
    from rnnzoo.analysis.latent_circuit import LatentCircuit

    found = {}
    for path in sorted(folder.glob("latent_*.npz")):
        with np.load(path) as data:
            w_rec = data["w_rec"]
            found[w_rec.shape[0]] = LatentCircuit(
                w_rec=w_rec,
                w_in=data["w_in"],
                w_out=data["w_out"],
                q=data["q"],
                alpha=float(data["alpha"]),
                embedding_r2=float("nan"),
                subspace_r2=float("nan"),
                output_r2=float("nan"),
                loss=float("nan"),
                restart_losses=np.zeros(0),
                structured=False,
            )
    return found


def alignment_table(records: list[dict[str, Any]], axis: str = "model") -> str:
    lines = [
        f"| Task | Nodes | Networks compared ({axis}) | Pairs | w_rec correlation after alignment "
        "(mean [min, max]) | before alignment (mean) |",
        "|---|---|---|---|---|---|",
    ]
    for r in records:
        lines.append(
            f"| {r['task']} | {r['nodes']} | {r['groups']} | {r['pairs']} | {r['mean']:.2f} "
            f"[{r['min']:.2f}, {r['max']:.2f}] | {r['unaligned_mean']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    """A CSV record: dict fields as JSON."""
    return {k: json.dumps(v) if isinstance(v, dict) else v for k, v in record.items()}


def write_mechanisms(
    rows: list[dict[str, Any]],
    out: Path,
    metrics: tuple[str, ...] = ("procrustes", "dsa"),
    color_by: str = "model",
    max_trials: int = 64,
    complexity: tuple[str, float] | None = None,
) -> dict[str, Path]:
    """Write the mechanism tables and figures of the analysed ``rows`` into ``out`` (nothing
    when no row is analysed), and the task-complexity ranking when ``complexity`` = (metric,
    threshold) is given (`rnnzoo.bench.complexity`); returns the paths."""
    from rnnzoo.bench.complexity import write_complexity
    from rnnzoo.bench.psychometric_report import write_psychometric

    if not analysed_rows(rows):
        return {}
    stats = mechanism_stats(rows)
    paths = {"mechanisms.md": out / "mechanisms.md", "mechanisms.csv": out / "mechanisms.csv"}
    if complexity is not None:
        paths.update(write_complexity(rows, out, *complexity))
    paths.update(write_psychometric(rows, out))
    text = [
        "# Mechanisms",
        "",
        f"- {len(analysed_rows(rows))} analysed networks (analysis status done).",
        "- Fixed points at the task's resting input; stability classes count fixed points "
        "(slow points left out); latent fit: explained variance of the embedded latent states "
        "(emb) and of the network's outputs (out), mean over networks.",
        "",
        mechanism_table(stats),
    ]
    records = latent_alignment(rows, color_by)
    if records:
        text += [
            "## Latent connectivity after node alignment",
            "",
            alignment_table(records, color_by),
        ]
    write_csv(
        paths["mechanisms.csv"],
        [_flat(asdict(s)) for s in stats],
        list(MechanismStats.__dataclass_fields__),
    )
    fit = plot_latent_fit(stats, out / "latent_fit.png")
    if fit is not None:
        paths["latent_fit.png"] = fit
    similarity = similarity_matrices(rows, metrics, max_trials) if metrics else {}
    if similarity:
        text += [
            "## Similarity between networks",
            "",
            *(
                f"- task {task}: similarity_{i}_<metric>.csv, mds_{i}.png"
                for i, task in enumerate(similarity)
            ),
            f"- metrics: {', '.join(metrics)}; MDS coloured by {color_by}",
            "",
            f"| Task | Metric | Networks compared ({color_by}) | Pairs | Mean distance |",
            "|---|---|---|---|---|",
            *(
                f"| {task} | {g['metric']} | {g['groups']} | {g['pairs']} | {g['mean']:.3g} |"
                for task, matrices in similarity.items()
                for g in group_distances(matrices, color_by)
            ),
            "",
        ]
    with atomic_path(paths["mechanisms.md"]) as tmp:
        Path(tmp).write_text("\n".join(text))
    for index, (task, matrices) in enumerate(similarity.items()):
        names = [network_name(r) for r in matrices["rows"]]
        for metric in metrics:
            path = out / f"similarity_{index}_{metric}.csv"
            write_csv(
                path,
                [
                    {"network": n, **dict(zip(names, m, strict=True))}
                    for n, m in zip(names, matrices[metric].tolist(), strict=True)
                ],
                ["network", *names],
            )
            paths[path.name] = path
        mds = plot_mds(task, matrices, color_by, out / f"mds_{index}.png")
        paths[mds.name] = mds
    return paths
