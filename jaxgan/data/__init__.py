"""Data: synthetic 2D distributions, image datasets and batching helpers."""

from jaxgan.data.batching import contiguous_batches, random_batches
from jaxgan.data.images import (
    DatasetError,
    HostBatchStream,
    ImageDataset,
    epoch_batches,
    fits_in_device_memory,
    grouped_batches,
    load_dataset,
    split_holdout,
)
from jaxgan.data.mixtures import (
    GRID_STD,
    RING_STD,
    Mixture,
    get_mixture,
    grid,
    grid_means,
    mixture_batches,
    ring,
    ring_means,
    sample_mixture,
)
from jaxgan.data.synthetic import LECTURE_A, LECTURE_MU, affine_gaussian

__all__ = [
    "DatasetError",
    "HostBatchStream",
    "ImageDataset",
    "epoch_batches",
    "fits_in_device_memory",
    "grouped_batches",
    "load_dataset",
    "split_holdout",
    "LECTURE_A",
    "LECTURE_MU",
    "affine_gaussian",
    "contiguous_batches",
    "random_batches",
    "GRID_STD",
    "RING_STD",
    "Mixture",
    "get_mixture",
    "grid",
    "grid_means",
    "mixture_batches",
    "ring",
    "ring_means",
    "sample_mixture",
]
