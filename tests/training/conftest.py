"""A stand-in for the "control" method (true dynamics) until rnnzoo.training.methods lands."""

import pytest


class Control:
    name = "control"

    def outputs(self, net, inputs, progress, generator):
        return net(inputs, generator=generator).outputs


@pytest.fixture
def control():
    return Control()
