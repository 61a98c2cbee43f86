"""What the PyTorch twins of the benchmark's workloads share: the device (CUDA when there is one)
and its name, device synchronisation, the autocast context of a precision (``bfloat16``: mixed
precision) and the lecture's contiguous batches.
"""

from __future__ import annotations

import contextlib

import torch

__all__ = ["autocast", "contiguous_batch", "device_name", "synchronize", "torch_device"]


def torch_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.device_count()}x {torch.cuda.get_device_name(device)} (cuda)"
    return "cpu"


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def autocast(device: torch.device, precision: str):
    """The context a precision computes in: ``torch.autocast`` to bfloat16, or nothing for float32."""
    if precision == "bfloat16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def contiguous_batch(data: torch.Tensor, batch_size: int, index: int) -> torch.Tensor:
    """The lecture's batch ``data[(begin + arange(B)) % n]`` with ``begin = B * index % n``."""
    n = data.shape[0]
    begin = (batch_size * index) % n
    if begin + batch_size <= n:
        return data[begin : begin + batch_size]
    idx = (torch.arange(batch_size, device=data.device) + begin) % n
    return data[idx]
