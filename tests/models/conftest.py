"""Every model test starts from the same torch seed, so random test data is reproducible."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)
