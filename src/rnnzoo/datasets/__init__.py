"""Datasets: HDF5 export/reload of task batches (`rnnzoo.datasets.hdf5`) and a PyTorch
adapter (`rnnzoo.datasets.torch_data`, imports torch)."""

from rnnzoo.datasets.hdf5 import export_task, load_batch, load_task, read_attributes, save_batch

__all__ = ["export_task", "load_batch", "load_task", "read_attributes", "save_batch"]
