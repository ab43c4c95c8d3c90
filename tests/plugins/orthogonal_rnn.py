"""A user's own network kind, registered by a plugin file: a vanilla RNN whose recurrent
weights start as g times a random orthogonal matrix (instead of N(0, g^2/N)).

Loaded with ``rnnzoo --plugin tests/plugins/orthogonal_rnn.py ...`` (or RNNZOO_PLUGINS); the
test of tests/plugins/test_plugin_network.py uses it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnzoo.models.gated import VanillaRNN
from rnnzoo.models.registry import register


@register
class OrthogonalRNN(VanillaRNN):
    """Discrete-time vanilla RNN with W = g Q at the start, Q orthogonal (QR of a Gaussian
    matrix, signs fixed so that Q is Haar-distributed)."""

    kind = "orthogonal_rnn"
    title = "Vanilla RNN, orthogonal initial W (plugin)"
    menu_rank = 50

    def _draw(self, generator: torch.Generator) -> dict[str, Tensor]:
        drawn = super()._draw(generator)
        size = self.options.n_hidden
        gaussian = torch.randn((size, size), generator=generator, dtype=torch.float64)
        q, r = torch.linalg.qr(gaussian)
        drawn["w_rec"] = self.options.g * q * torch.sign(torch.diagonal(r))
        return drawn
