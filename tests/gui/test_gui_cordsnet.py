"""The GUI's model form for the cordsnet kind: generated from its options, checked by them."""

from __future__ import annotations

import pytest
from gui_helpers import choose, element, set_text

from rnnzoo.errors import InvalidParameterError
from rnnzoo.gui.forms import parse_text
from rnnzoo.gui.runs import RunManager
from rnnzoo.models.cordsnet import CordsNetOptions
from rnnzoo.models.options import validate_options

pytestmark = pytest.mark.asyncio


async def test_cordsnet_form_keeps_its_own_defaults_and_shows_its_errors(user, manager: RunManager):
    choose(user, "model", "cordsnet: CordsNet: convolutional continuous-time RNN (Soo et al. 2024)")
    await user.should_see(marker="model.preset")
    assert parse_text(element(user, "model.tau_ms").value) == 10.0  # not the main job's 50 ms
    assert parse_text(element(user, "model.n_hidden").value) == 125  # derived, shown
    set_text(user, "model.channels", "[0]")
    with pytest.raises(InvalidParameterError) as info:
        validate_options("cordsnet", CordsNetOptions, {"channels": [0]})
    await user.should_see(str(info.value))
    assert element(user, "model.channels").error == str(info.value)
    set_text(user, "model.channels", "[6]")
    assert element(user, "model.channels").error is None
