"""PyTorch twin of the DCGAN workload (pytorch/examples ``dcgan/main.py``).

D on real, D on ``fake.detach()``, one D step, then G's step reusing the same ``fake``; BCE on logits
(the example's ``Sigmoid`` + ``BCELoss``, fused as ``BCEWithLogitsLoss``: the same function, computed
stably). Adam(2e-4, betas (0.5, 0.999)).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from experiments.bench.torch_common import autocast, contiguous_batch, synchronize, torch_device

__all__ = ["DCGANGeneratorTorch", "DCGANDiscriminatorTorch", "DCGANTorch"]


# ------------------------------------------------------------------------------------------- dcgan


def _dcgan_init(m: nn.Module) -> None:
    """pytorch/examples ``weights_init``: conv weights N(0, 0.02); BatchNorm scale N(1, 0.02), bias 0."""
    name = type(m).__name__
    if "Conv" in name:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def _stages(image_size: int) -> int:
    if image_size < 8 or image_size & (image_size - 1):
        raise ValueError(f"image_size must be a power of two >= 8, got {image_size}")
    return image_size.bit_length() - 3


class DCGANGeneratorTorch(nn.Module):
    """pytorch/examples' ``Generator`` (64x64: ``nz -> 512 -> 256 -> 128 -> 64 -> nc``), any 2^k size."""

    def __init__(self, image_size: int = 64, nz: int = 100, ngf: int = 64, nc: int = 3):
        super().__init__()
        stages = _stages(image_size)
        width = ngf * 2 ** (stages - 1)
        layers = [nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=False), nn.BatchNorm2d(width), nn.ReLU(True)]
        for _ in range(1, stages):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2), nn.ReLU(True)]
            width //= 2
        layers += [nn.ConvTranspose2d(width, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z):
        return self.main(z)


class DCGANDiscriminatorTorch(nn.Module):
    """pytorch/examples' ``Discriminator`` without the final ``Sigmoid`` (it returns logits)."""

    def __init__(self, image_size: int = 64, ndf: int = 64, nc: int = 3):
        super().__init__()
        stages = _stages(image_size)
        layers, width, cin = [], ndf, nc
        for i in range(stages):
            layers.append(nn.Conv2d(cin, width, 4, 2, 1, bias=False))
            if i > 0:
                layers.append(nn.BatchNorm2d(width))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            cin, width = width, width * 2
        layers.append(nn.Conv2d(cin, 1, 4, 1, 0, bias=False))
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x).view(-1)


class DCGANTorch:
    """pytorch/examples DCGAN's training iteration (images NCHW, optionally channels_last)."""

    images = True

    def __init__(self, data: np.ndarray, batch_size: int, *, image_size: int = 64, nz: int = 100,
                 ngf: int = 64, ndf: int = 64, channels: int = 3, device=None, precision: str = "float32",
                 compile_models: bool = False, channels_last: bool = False, seed: int = 0):
        self.device = device or torch_device()
        torch.manual_seed(seed)
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        # data arrives NHWC (jaxgan's layout); torch wants NCHW.
        self.data = torch.as_tensor(np.array(data, np.float32), device=self.device).permute(0, 3, 1, 2)
        self.data = self.data.contiguous(memory_format=fmt)
        self.batch_size, self.nz, self.precision = batch_size, nz, precision
        self.G = DCGANGeneratorTorch(image_size, nz, ngf, channels).to(self.device, memory_format=fmt)
        self.D = DCGANDiscriminatorTorch(image_size, ndf, channels).to(self.device, memory_format=fmt)
        self.G.apply(_dcgan_init)
        self.D.apply(_dcgan_init)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.g_fn = torch.compile(self.G) if compile_models else self.G
        self.d_fn = torch.compile(self.D) if compile_models else self.D
        self.index = 0

    def iteration(self):
        real = contiguous_batch(self.data, self.batch_size, self.index)
        self.index += 1
        B = real.shape[0]
        ones = torch.ones(B, device=self.device)
        zeros = torch.zeros(B, device=self.device)
        # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
        self.D.zero_grad()
        with autocast(self.device, self.precision):
            err_real = F.binary_cross_entropy_with_logits(self.d_fn(real), ones)
        err_real.backward()
        noise = torch.randn(B, self.nz, 1, 1, device=self.device)
        with autocast(self.device, self.precision):
            fake = self.g_fn(noise)
            err_fake = F.binary_cross_entropy_with_logits(self.d_fn(fake.detach()), zeros)
        err_fake.backward()
        self.opt_D.step()
        # (2) Update G: maximize log(D(G(z))), reusing the same fake batch
        self.G.zero_grad()
        with autocast(self.device, self.precision):
            err_g = F.binary_cross_entropy_with_logits(self.d_fn(fake), ones)
        err_g.backward()
        self.opt_G.step()
        return (err_real + err_fake).detach(), err_g.detach()

    def sync(self) -> None:
        synchronize(self.device)
