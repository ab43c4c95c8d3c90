"""The compiled kernels: member chunks equal one block, and a failed build falls back cleanly
(one warning line, recorded so that later processes do not compile again)."""

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from rnnzoo.models import kernels, make_model


@pytest.mark.parametrize("kind", ["leaky_rate", "leaky_current"])
@pytest.mark.parametrize("options", [{}, {"rank": 2}, {"activation": "tanh"}])
def test_member_chunks_equal_the_pytorch_path(kind, options, backend, monkeypatch):
    if backend == "compiled":
        monkeypatch.setattr(kernels, "members_per_chunk", lambda *args: 2)  # chunks 2 + 1
    net = make_model(kind, 3, 2, ensemble=3, seed=2, n_hidden=6, **options).double()
    inputs = torch.randn(5, 4, 3, dtype=torch.float64)
    outputs = net(inputs).outputs
    grads = torch.autograd.grad(outputs.square().sum(), list(net.parameters()))
    with kernels.use_kernels(False):
        ref = net(inputs).outputs
        ref_grads = torch.autograd.grad(ref.square().sum(), list(net.parameters()))
    torch.testing.assert_close(outputs, ref, rtol=0, atol=1e-12)
    for a, b in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


SCRIPT = textwrap.dedent(
    """
    import warnings, torch
    from rnnzoo.models import kernels, make_model
    torch.set_num_threads(1)
    net = make_model("gru", 3, 2, n_hidden=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net(torch.randn(3, 2, 3)).outputs.sum().backward()
        make_model("leaky_rate", 3, 2, n_hidden=4)(torch.randn(3, 2, 3)).outputs.sum().backward()
    lines = [str(w.message) for w in caught if issubclass(w.category, kernels.KernelWarning)]
    print(len(lines)); print(lines[0] if lines else "")
    """
)


def test_a_failed_build_warns_once_and_falls_back(tmp_path):
    env = {
        **os.environ,
        "CXX": "/bin/false",  # a compiler that always fails
        "RNNZOO_KERNEL_CACHE": str(tmp_path),
        "RNNZOO_KERNELS": "1",
    }
    for attempt in ("first", "second"):
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
        )
        count, message = out.stdout.strip().splitlines()
        assert count == "1", out.stdout
        assert message.startswith("rnnzoo: fused kernels unavailable (false failed")
        assert message.endswith("using the PyTorch path") and "\n" not in message
        if attempt == "second":  # the failure was recorded: no second compile
            assert "recorded in" in message
    assert list(tmp_path.glob("*/failed.txt"))
