"""CordsNet (Soo, Battista, Radmard & Wang 2024): convolutional continuous-time RNNs.

``options`` (the validated options and presets), ``architecture`` (shapes and wiring),
``layers`` (ensemble convolutions with weight normalisation), ``network`` (the `cordsnet`
kind), ``cnn`` (the structurally matched CNN of the staged initialisation and its batch-norm
folding) and ``memory`` (what a batch costs).
"""

from rnnzoo.models.cordsnet.memory import memory_estimate
from rnnzoo.models.cordsnet.network import CordsNet
from rnnzoo.models.cordsnet.options import PRESETS, CordsNetOptions

__all__ = ["PRESETS", "CordsNet", "CordsNetOptions", "memory_estimate"]
