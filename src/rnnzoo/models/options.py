"""Typed, validated options of every network kind (the names `rnnzoo train --set` uses).

Options marked "per member" accept one value or a list with one value per ensemble member, so
one ensemble can span seeds and hyperparameters (gain, time constants, noise, sparsity).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.params import parse_validation_error

MAX_UNITS = 1_000_000  # neurons of one network (and every neuron count of its options)
TimeConstant = Annotated[float, Field(gt=0, le=1e12)]  # ms (1e9: an integrator, as tests use)
Gain = Annotated[float, Field(ge=0, le=1e3)]
NoiseLevel = Annotated[float, Field(ge=0, le=1e3)]
Probability = Annotated[float, Field(gt=0, le=1)]
MaskEntry = Annotated[float, Field(ge=0, le=1)]  # 0 or 1 (checked with the shape)


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
        128, "number of recurrent neurons (neuron number)", "neurons", ge=1, le=MAX_UNITS
    )
    readout: Literal["linear", "sigmoid", "softmax"] = _field(
        "linear", "activation applied to the linear readout of the outputs"
    )
    train_input: bool = _field(True, "train the input weights (False freezes them)")
    train_recurrent: bool = _field(True, "train the recurrent weights")
    train_output: bool = _field(True, "train the readout weights and bias")
    train_bias: bool = _field(True, "train the recurrent bias")

    owner: ClassVar[str] = "model"

    def is_default(self, name: str) -> bool:
        """True when option ``name`` has its default value (given or not)."""
        return getattr(self, name) == type(self).model_fields[name].default

    @classmethod
    def per_member_names(cls) -> tuple[str, ...]:
        """The options that take one value per ensemble member."""
        return tuple(
            name
            for name, info in cls.model_fields.items()
            if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("per_member")
        )

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
        "relu", "activation function f (the same default for the rate and the current form)"
    )
    activation_slope: float = _field(
        0.25,
        "prelu only: slope for negative input (1 = linear, 0 = ReLU; anneal it in training)",
        ge=0,
        le=1,
    )
    tau_ms: TimeConstant | list[TimeConstant] = _field(
        100.0, "membrane time constant (of excitatory neurons under Dale's law)", "ms", True
    )
    tau_inhibitory_ms: TimeConstant | list[TimeConstant] | None = _field(
        None, "time constant of inhibitory neurons (Dale's law only); None = tau_ms", "ms", True
    )
    g: Gain | list[Gain] = _field(
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
        le=MAX_UNITS,
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
    recurrent_init: Literal["randgauss", "diag", "randortho"] = _field(
        "randgauss",
        "initial W (Yang et al. 2019's names): randgauss N(0, g^2/(pN)), diag g*I, randortho g "
        "times a random orthogonal matrix (Dale's law: balanced E/I at spectral radius g)",
    )
    recurrent_mask: tuple[tuple[MaskEntry, ...], ...] | None = _field(
        None,
        "fixed 0/1 mask (N x N, rows: post-, columns: presynaptic) of the connections that may "
        "exist, applied with connection_prob and self_connections; None = all",
    )
    dale: bool = _field(False, "Dale's law: each neuron excitatory or inhibitory, signs kept")
    excitatory_fraction: float = _field(
        0.8, "fraction of excitatory neurons under Dale's law", gt=0, lt=1
    )
    input_population: int | None = _field(
        None, "neurons receiving input (the first ones); None = all", "neurons", ge=1, le=MAX_UNITS
    )
    output_population: int | None = _field(
        None,
        "neurons read out (the ones after the input population); None = all",
        "neurons",
        ge=1,
        le=MAX_UNITS,
    )
    input_noise: NoiseLevel | list[NoiseLevel] = _field(
        0.0, "input noise sigma_in (per-step std sigma_in * sqrt(2/alpha))", "a.u.", True
    )
    recurrent_noise: NoiseLevel | list[NoiseLevel] = _field(
        0.0, "recurrent noise sigma_rec (per-step std sigma_rec * sqrt(2/alpha))", "a.u.", True
    )
    noise_tau_ms: float = _field(
        0.0, "correlation time of the noise (Ornstein-Uhlenbeck); 0 = white", "ms", ge=0, le=1e6
    )
    memory: Literal["store", "recompute"] = _field(
        "store", "activation memory: store every step, or recompute chunks in backward"
    )
    checkpoint_steps: int = _field(
        100, "recompute only: steps per recomputed chunk", "steps", ge=1, le=1_000_000
    )

    @field_validator("recurrent_scaling", mode="before")
    @classmethod
    def _none_is_none(cls, value: Any) -> Any:
        return "none" if value is None else value  # `--set recurrent_scaling=none` parses to None

    @field_validator("recurrent_mask", mode="before")
    @classmethod
    def _mask_from_array(cls, value: Any) -> Any:
        return value.tolist() if hasattr(value, "tolist") else value

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
            if not self.is_default("g"):
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
        if self.activation != "prelu" and not self.is_default("activation_slope"):
            raise ValueError("'activation_slope' applies to activation='prelu' only")
        self._check_recurrent_init(probs)
        return self

    def _check_recurrent_init(self, probs: list[float]) -> None:
        if self.recurrent_init != "randgauss":
            clash = [
                name
                for name, on in (
                    ("rank", self.rank is not None),
                    ("dale", self.dale),
                    ("connection_prob < 1", any(p < 1 for p in probs)),
                    ("self_connections=False", not self.self_connections),
                    ("recurrent_mask", self.recurrent_mask is not None),
                )
                if on
            ]
            if clash:
                raise ValueError(
                    f"'recurrent_init' = {self.recurrent_init!r} cannot be combined with "
                    f"{', '.join(clash)} (use 'randgauss')"
                )
        if self.recurrent_mask is None:
            return
        if self.rank is not None:
            raise ValueError("'recurrent_mask' cannot be combined with 'rank' (no N x N matrix)")
        rows = self.recurrent_mask
        size = self.n_hidden
        if len(rows) != size or any(len(row) != size for row in rows):
            shape = (len(rows), len(rows[0]) if rows else 0)
            raise ValueError(f"'recurrent_mask' must be {size} x {size} (n_hidden); got {shape}")
        if any(v not in (0.0, 1.0) for row in rows for v in row):
            raise ValueError("'recurrent_mask' entries must be 0 or 1")


class LeakyRateOptions(LeakyOptions):
    """Leaky firing-rate RNN: r <- (1 - alpha) r + alpha f(W r + W_in u + b + noise)."""


class LeakyCurrentOptions(LeakyOptions):
    """Leaky current RNN: x <- (1 - alpha) x + alpha (W f(x) + W_in u + b + noise)."""


class VanillaOptions(NetworkOptions):
    """Discrete-time RNN: h <- f(W h + W_in u + b)."""

    activation: Literal["tanh", "relu"] = _field("tanh", "activation function f")
    g: float = _field(1.0, "gain of the random recurrent weights N(0, g^2/N)", ge=0, le=1e3)


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
