"""The "control" method (true dynamics) for trainer tests."""

import pytest

from rnnzoo.training.methods import make_method


@pytest.fixture
def control():
    return make_method("control")
