"""Analysis of trained networks: fixed points, weight spectra, state space, psychometric
curves, latent circuits and similarity between networks.  Every function returns data
(arrays, dataclasses, JSON-serialisable summaries); `plots` draws it; `analyze_run` does it
all for a run directory (the `rnnzoo analyze` command).
"""

from rnnzoo.analysis.fixed_points import (
    FixedPoints,
    find_fixed_points,
    fixed_points_from_trajectories,
    sample_states,
)
from rnnzoo.analysis.latent_circuit import LatentCircuit, fit_latent_circuit, perturbation_test
from rnnzoo.analysis.lesions import lesion, lesion_performance
from rnnzoo.analysis.network import simulate, single_network
from rnnzoo.analysis.psychometric import PsychometricCurve, psychometric_curve
from rnnzoo.analysis.run import analyze_run
from rnnzoo.analysis.settings import AnalysisSettings
from rnnzoo.analysis.similarity import (
    ShapeMetric,
    canonical_correlations,
    cca_similarity,
    cross_validated_shape_distance,
    distance_matrix,
    dsa_distance,
    fit_dmd,
    shape_distance,
    vector_field_distance,
)
from rnnzoo.analysis.state_space import (
    PCA,
    autocorrelation,
    autocorrelation_time,
    lyapunov_exponent,
    participation_ratio,
    pca,
)
from rnnzoo.analysis.task_variance import TaskVariance, cluster_lesions, task_variance
from rnnzoo.analysis.weights import (
    WeightSpectrum,
    recurrent_blocks,
    recurrent_operator,
    top_eigenvalues,
    weight_spectrum,
)

__all__ = [
    "PCA",
    "AnalysisSettings",
    "FixedPoints",
    "LatentCircuit",
    "PsychometricCurve",
    "ShapeMetric",
    "TaskVariance",
    "WeightSpectrum",
    "analyze_run",
    "autocorrelation",
    "autocorrelation_time",
    "canonical_correlations",
    "cca_similarity",
    "cluster_lesions",
    "cross_validated_shape_distance",
    "distance_matrix",
    "dsa_distance",
    "find_fixed_points",
    "fit_dmd",
    "fit_latent_circuit",
    "fixed_points_from_trajectories",
    "lesion",
    "lesion_performance",
    "lyapunov_exponent",
    "participation_ratio",
    "pca",
    "perturbation_test",
    "psychometric_curve",
    "recurrent_blocks",
    "recurrent_operator",
    "sample_states",
    "shape_distance",
    "simulate",
    "single_network",
    "task_variance",
    "top_eigenvalues",
    "vector_field_distance",
    "weight_spectrum",
]
