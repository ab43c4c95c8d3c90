"""Parameters: validated at construction, frozen, with errors that name the parameter."""

import annotated_types as at
import pydantic
import pytest

from rnnzoo import InvalidParameterError, UnknownNameError, tasks


def _all_tasks():
    return [
        (name, version)
        for name in tasks.task_names()
        for version in tasks.get_task_class(name).versions
    ]


def _invalid_values(info):
    """Values that break a field's declared numeric constraints (generated, sklearn-style)."""
    values = []
    for meta in info.metadata:
        if isinstance(meta, at.Gt):
            values.append(meta.gt)
        elif isinstance(meta, at.Ge):
            values.append(meta.ge - 1)
        elif isinstance(meta, at.Lt):
            values.append(meta.lt)
        elif isinstance(meta, at.Le):
            values.append(meta.le + 1)
    return values


@pytest.mark.parametrize(("name", "version"), _all_tasks())
def test_every_numeric_parameter_rejects_out_of_range_values(name, version):
    cls = tasks.get_task_class(name)
    checked = 0
    for field, info in cls.Params.model_fields.items():
        for bad in _invalid_values(info):
            with pytest.raises(InvalidParameterError) as err:
                tasks.make(name, version, **{field: bad})
            message = str(err.value)
            assert f"'{field}'" in message and f"{name}/{version}" in message, message
            assert "\n" not in message
            checked += 1
    assert checked >= 4  # at least dt_ms (2 bounds), noise_scale and noise_decay_ms


@pytest.mark.parametrize("name", tasks.task_names())
def test_wrong_types_are_rejected_with_the_parameter_name(name):
    with pytest.raises(InvalidParameterError, match=r"'dt_ms'.*got 'fast'"):
        tasks.make(name, dt_ms="fast")
    with pytest.raises(InvalidParameterError, match="'add_noise'"):
        tasks.make(name, add_noise="sometimes")


def test_error_message_format_matches_the_style_guide():
    with pytest.raises(InvalidParameterError) as err:
        tasks.make("flipflop", dt_ms=250)
    assert str(err.value) == "flipflop/vanilla: 'dt_ms' must be > 0 and <= 100 (ms); got 250."


def test_unknown_parameter_suggests_the_closest_name():
    with pytest.raises(
        InvalidParameterError, match="unknown parameter 'n_bit'; did you mean 'n_bits'"
    ):
        tasks.make("flipflop", n_bit=2)


def test_unknown_task_and_version_suggest_names():
    with pytest.raises(UnknownNameError, match="did you mean 'flipflop'"):
        tasks.make("flipflp")
    with pytest.raises(UnknownNameError, match="versions: vanilla, realistic, long"):
        tasks.make("flipflop", "vanila")


def test_params_are_frozen_and_stored_as_given():
    task = tasks.make("flipflop", noise_scale=0.25, dt_ms=2.0)
    with pytest.raises(pydantic.ValidationError):
        task.params.noise_scale = 1.0
    assert task.params.noise_scale == 0.25  # never a derived per-step value


@pytest.mark.parametrize(("name", "version"), _all_tasks())
def test_cards_are_complete(name, version):
    card = tasks.make(name, version).card()
    assert card.title
    for key in ("summary", "source", "definition"):
        assert len(getattr(card, key)) > 40, key
    assert list(card.versions)[:3] == ["vanilla", "realistic", "long"]
    for p in card.parameters:
        assert p["description"], f"{p['name']} has no description"
    poster = {"dt_ms", "add_noise", "noise_scale", "noise_decay_ms"}
    assert poster <= {p["name"] for p in card.parameters}
    assert all(p["unit"] == "ms" for p in card.parameters if p["name"].endswith("_ms"))
