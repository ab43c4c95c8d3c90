"""`rnnzoo analyze RUN_DIR`: analyse a trained run; writes summary.json and the figures.

Every analysis setting (`rnnzoo.analysis.settings.AnalysisSettings`) is an option; warnings
(a run that diverged or did not reach its target, a latent circuit that fits poorly) go to
stderr and into summary.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rnnzoo.cli._common import JsonOpt, one_line_errors, print_json


def _help(name: str) -> str:
    from rnnzoo.analysis.settings import AnalysisSettings

    info = AnalysisSettings.model_fields[name]
    return f"{info.description} [default: {info.default}]"


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
    max_trials: Annotated[
        int | None, typer.Option("--max-trials", help=_help("max_trials"), show_default=False)
    ] = None,
    fp_input: Annotated[
        str | None, typer.Option("--fp-input", help=_help("fp_input"), show_default=False)
    ] = None,
    fp_starts: Annotated[
        int | None, typer.Option("--fp-starts", help=_help("fp_starts"), show_default=False)
    ] = None,
    fp_noise: Annotated[
        float | None, typer.Option("--fp-noise", help=_help("fp_noise"), show_default=False)
    ] = None,
    fp_newton_steps: Annotated[
        int | None,
        typer.Option("--fp-newton-steps", help=_help("fp_newton_steps"), show_default=False),
    ] = None,
    latent_nodes: Annotated[
        int | None, typer.Option("--latent-nodes", help=_help("latent_nodes"), show_default=False)
    ] = None,
    ring_sectors: Annotated[
        int | None, typer.Option("--ring-sectors", help=_help("ring_sectors"), show_default=False)
    ] = None,
    latent_trials: Annotated[
        int | None,
        typer.Option("--latent-trials", help=_help("latent_trials"), show_default=False),
    ] = None,
    latent_iters: Annotated[
        int | None, typer.Option("--latent-iters", help=_help("latent_iters"), show_default=False)
    ] = None,
    latent_restarts: Annotated[
        int | None,
        typer.Option("--latent-restarts", help=_help("latent_restarts"), show_default=False),
    ] = None,
) -> None:
    """Fixed points, PCA, participation ratio, spectra (and a latent circuit) of a run;
    writes OUT/summary.json and PNG figures."""
    settings = {
        "max_trials": max_trials,
        "fp_input": fp_input,
        "fp_starts": fp_starts,
        "fp_noise": fp_noise,
        "fp_newton_steps": fp_newton_steps,
        "latent_nodes": latent_nodes,
        "ring_sectors": ring_sectors,
        "latent_trials": latent_trials,
        "latent_iters": latent_iters,
        "latent_restarts": latent_restarts,
    }
    given = {k: v for k, v in settings.items() if v is not None}
    _run(run_dir, out, json_out, member, latent_circuit, seed, given)


@one_line_errors
def _run(
    run_dir: Path,
    out: Path | None,
    json_out: bool,
    member: int | None,
    latent: bool,
    seed: int,
    settings: dict[str, Any],
) -> None:
    import torch

    from rnnzoo.analysis import analyze_run
    from rnnzoo.analysis.settings import analysis_settings

    torch.set_num_threads(1)
    checked = analysis_settings(settings)  # a bad value fails before any work
    summary = analyze_run(
        run_dir, out, member=member, latent_circuit=latent, seed=seed, settings=checked
    )
    for warning in summary["warnings"]:
        typer.echo(f"warning: {warning}", err=True)
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
