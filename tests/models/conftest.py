"""Every model test starts from the same torch seed, so random test data is reproducible; the
`backend` fixture runs a test once with the compiled kernels and once with the PyTorch path."""

import os

import pytest
import torch

from rnnzoo.models import kernels


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)


@pytest.fixture(params=["compiled", "pytorch"])
def backend(request):
    """'compiled': the fused C++ kernels (must build here: gcc is on every machine, unless
    RNNZOO_KERNELS=0 says otherwise); 'pytorch': the reference loops."""
    if request.param == "compiled":
        if os.environ.get("RNNZOO_KERNELS", "1") in ("0", "off", "false", "no"):
            pytest.skip("RNNZOO_KERNELS switches the compiled kernels off")
        assert kernels.available(), kernels.unavailable_reason()
    with kernels.use_kernels(request.param == "compiled"):
        yield request.param
