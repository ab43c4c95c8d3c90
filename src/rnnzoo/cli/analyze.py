"""`rnnzoo analyze RUN_DIR`: analyse a trained run; writes summary.json and the figures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnzoo.cli._common import JsonOpt, one_line_errors, print_json


def analyze(
    run_dir: Annotated[Path, typer.Argument(help="a run directory written by `rnnzoo train`")],
    out: Annotated[
        Path | None, typer.Option("--out", help="output folder (default RUN_DIR/analysis)")
    ] = None,
    json_out: JsonOpt = False,
    member: Annotated[
        int | None, typer.Option("--member", help="ensemble member to analyse (default 0)")
    ] = None,
    latent_circuit: Annotated[
        bool, typer.Option("--latent-circuit", help="also fit a latent circuit")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="seed of the sampled initial states")] = 0,
) -> None:
    """Fixed points, PCA, participation ratio, spectra (and a latent circuit) of a run;
    writes OUT/summary.json and PNG figures."""
    _run(run_dir, out, json_out, member, latent_circuit, seed)


@one_line_errors
def _run(
    run_dir: Path, out: Path | None, json_out: bool, member: int | None, latent: bool, seed: int
) -> None:
    import torch

    from rnnzoo.analysis import analyze_run

    torch.set_num_threads(1)
    summary = analyze_run(run_dir, out, member=member, latent_circuit=latent, seed=seed)
    if json_out:
        print_json(summary)
        return
    folder = out if out is not None else run_dir / "analysis"
    if "areas" in summary:  # a CordsNet (rnnzoo.analysis.cordsnet_run)
        abscissa = [a["spectrum"].get("spectral_abscissa") for a in summary["areas"]]
        typer.echo(
            f"{len(summary['areas'])} areas, performance {summary['performance']:.3f}, largest "
            f"Re(eig W_rec) per area {abscissa}; written to {folder}"
        )
        return
    typer.echo(
        f"{summary['n_fixed_points']} fixed points ({summary['n_stable']} stable), "
        f"participation ratio {summary['participation_ratio']:.2f}; written to {folder}"
    )
