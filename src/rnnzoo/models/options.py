"""Typed, validated options of every network kind (the names `rnnzoo train --set` uses).

Options marked "per member" accept one value or a list with one value per ensemble member, so
one ensemble can span seeds and hyperparameters (gain, time constants, noise, sparsity).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.params import parse_validation_error

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(gt=0, le=1)]


def _field(
    default: Any, description: str, unit: str = "", per_member: bool = False, **kw: Any
) -> Any:
    """A pydantic Field carrying its unit and whether it may vary across ensemble members."""
    extra = {"unit": unit, "per_member": per_member}
    return Field(default, description=description, json_schema_extra=extra, **kw)


class NetworkOptions(BaseModel):
    """Options every network kind has."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    n_hidden: int = _field(
        128, "number of recurrent neurons (neuron number)", "neurons", ge=1, le=1_000_000
    )
    readout: Literal["linear", "sigmoid", "softmax"] = _field(
        "linear", "activation applied to the linear readout of the outputs"
    )
    train_input: bool = _field(True, "train the input weights (False freezes them)")
    train_recurrent: bool = _field(True, "train the recurrent weights")
    train_output: bool = _field(True, "train the readout weights and bias")
    train_bias: bool = _field(True, "train the recurrent bias")

    owner: ClassVar[str] = "model"

    def per_member(self, name: str, n_models: int) -> list[Any]:
        """The value of option ``name`` for each of ``n_models`` members (lists checked)."""
        value = getattr(self, name)
        if not isinstance(value, list):
            return [value] * n_models
        if len(value) != n_models:
            raise InvalidParameterError(
                f"{self.owner}: '{name}' has {len(value)} values but the ensemble has "
                f"{n_models} members; give one value or one per member"
            )
        return list(value)


class LeakyOptions(NetworkOptions):
    """Continuous-time leaky networks discretised by Euler with alpha = dt/tau."""

    activation: Literal["relu", "tanh", "softplus", "sigmoid", "prelu"] = _field(
        "relu", "activation function f"
    )
    activation_slope: float = _field(
        0.25,
        "prelu only: slope for negative input (1 = linear, 0 = ReLU; anneal it in training)",
        ge=0,
        le=1,
    )
    tau_ms: Positive | list[Positive] = _field(
        100.0, "membrane time constant (of excitatory neurons under Dale's law)", "ms", True
    )
    tau_inhibitory_ms: Positive | list[Positive] | None = _field(
        None, "time constant of inhibitory neurons (Dale's law only); None = tau_ms", "ms", True
    )
    g: NonNegative | list[NonNegative] = _field(
        1.0,
        "gain of the random recurrent weights (chaos strength; > 1 chaotic for tanh)",
        "",
        True,
    )
    rank: int | None = _field(
        None,
        "rank R of the recurrence W = m n^T / N (None = full rank); never forms N x N",
        "",
        ge=1,
    )
    recurrent_scaling: Literal["none", "1/N"] = _field(
        "none",
        "full rank only: '1/N' trains J with W = J / N in the forward pass (J initialised as N "
        "times the usual W: parameter rescaling; an Adam step then moves W by lr / N)",
    )
    connection_prob: Probability | list[Probability] = _field(
        1.0, "probability of each recurrent connection (sparse fixed mask when < 1)", "", True
    )
    self_connections: bool = _field(True, "allow autapses (W_ii); Dale's law networks often don't")
    dale: bool = _field(False, "Dale's law: each neuron excitatory or inhibitory, signs kept")
    excitatory_fraction: float = _field(
        0.8, "fraction of excitatory neurons under Dale's law", gt=0, lt=1
    )
    input_population: int | None = _field(
        None, "neurons receiving input (the first ones); None = all", "neurons", ge=1
    )
    output_population: int | None = _field(
        None,
        "neurons read out (the ones after the input population); None = all",
        "neurons",
        ge=1,
    )
    input_noise: NonNegative | list[NonNegative] = _field(
        0.0, "input noise sigma_in (per-step std sigma_in * sqrt(2/alpha))", "a.u.", True
    )
    recurrent_noise: NonNegative | list[NonNegative] = _field(
        0.0, "recurrent noise sigma_rec (per-step std sigma_rec * sqrt(2/alpha))", "a.u.", True
    )
    noise_tau_ms: float = _field(
        0.0, "correlation time of the noise (Ornstein-Uhlenbeck); 0 = white", "ms", ge=0
    )
    memory: Literal["store", "recompute"] = _field(
        "store", "activation memory: store every step, or recompute chunks in backward"
    )
    checkpoint_steps: int = _field(100, "recompute only: steps per recomputed chunk", "steps", ge=1)

    @model_validator(mode="after")
    def _options_compose(self) -> LeakyOptions:
        probs = (
            self.connection_prob
            if isinstance(self.connection_prob, list)
            else [self.connection_prob]
        )
        if self.rank is not None:
            if self.rank > self.n_hidden:
                raise ValueError(f"'rank' must be <= n_hidden ({self.n_hidden}); got {self.rank}")
            if self.dale or any(p < 1 for p in probs) or not self.self_connections:
                raise ValueError(
                    "'rank' cannot be combined with dale, connection_prob < 1 or "
                    "self_connections=False (they need the N x N matrix)"
                )
            if self.recurrent_scaling != "none":
                raise ValueError(
                    "'recurrent_scaling' applies to full-rank W (low rank is m n^T / N already)"
                )
            if "g" in self.model_fields_set:
                raise ValueError(
                    "'g' sets the full-rank initialisation; with 'rank' m and n are "
                    "drawn N(0, 1) (Valente et al. 2022)"
                )
        if self.tau_inhibitory_ms is not None and not self.dale:
            raise ValueError(
                "'tau_inhibitory_ms' needs dale=True (there are no inhibitory neurons)"
            )
        used = (self.input_population or 0) + (self.output_population or 0)
        limit = round(self.n_hidden * self.excitatory_fraction) if self.dale else self.n_hidden
        if used > limit:
            raise ValueError(
                f"'input_population' + 'output_population' = {used} must be <= {limit} "
                + ("(the excitatory neurons under Dale's law)" if self.dale else "(n_hidden)")
            )
        if self.activation != "prelu" and "activation_slope" in self.model_fields_set:
            raise ValueError("'activation_slope' applies to activation='prelu' only")
        return self


class LeakyRateOptions(LeakyOptions):
    """Leaky firing-rate RNN: r <- (1 - alpha) r + alpha f(W r + W_in u + b + noise)."""


class LeakyCurrentOptions(LeakyOptions):
    """Leaky current RNN: x <- (1 - alpha) x + alpha (W f(x) + W_in u + b + noise)."""

    activation: Literal["relu", "tanh", "softplus", "sigmoid", "prelu"] = _field(
        "tanh", "activation function f"
    )


class VanillaOptions(NetworkOptions):
    """Discrete-time RNN: h <- f(W h + W_in u + b)."""

    activation: Literal["tanh", "relu"] = _field("tanh", "activation function f")
    g: float = _field(1.0, "gain of the random recurrent weights N(0, g^2/N)", ge=0)


class GRUOptions(NetworkOptions):
    """Gated recurrent unit (Cho et al. 2014), PyTorch's equations."""


class LSTMOptions(NetworkOptions):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), PyTorch's equations."""


def validate_options(kind: str, cls: type[NetworkOptions], values: dict[str, Any]) -> Any:
    """Build ``cls(**values)`` or raise a one-line `InvalidParameterError` naming the option."""
    from pydantic import ValidationError

    try:
        return cls(**values)
    except ValidationError as exc:
        raise InvalidParameterError(parse_validation_error(kind, cls, exc)) from None
