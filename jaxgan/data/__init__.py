"""Data: synthetic 2D distributions and batching helpers."""

from jaxgan.data.batching import contiguous_batches, random_batches
from jaxgan.data.synthetic import LECTURE_A, LECTURE_MU, affine_gaussian

__all__ = ["LECTURE_A", "LECTURE_MU", "affine_gaussian", "contiguous_batches", "random_batches"]
