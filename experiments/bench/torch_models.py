"""PyTorch eager implementations of the benchmark's workloads: the same models and update order.

Imported only with ``--compare torch``; PyTorch is never a dependency of jaxgan (``pip install
jaxgan[bench]``). Each workload is written as its reference writes it, ``zero_grad`` and all:

* **toy** (lecture 17): G = ``Linear(2, 2)``, D = ``Linear(2,20) ReLU Linear(20,10) ReLU Linear(10,2)``,
  2-class softmax cross-entropy, Adam(0.01) for both. Iteration ``i``: real = the contiguous slice
  ``data[32 i % n :][:32]``, ``Z ~ N(0, I)``; D step on ``(real, G(Z).detach())``; G step on
  ``-log softmax(D(G(Z)))_1`` with the same ``Z`` (G's forward is recomputed, as in the notebook).
* **mixture**: the mixture experiment's MLP G and D (see :class:`MixtureTorch`).
* **dcgan** (pytorch/examples ``dcgan/main.py``): D on real, D on ``fake.detach()``, one D step, then
  G's step reusing the same ``fake``; BCE on logits (the example's ``Sigmoid`` + ``BCELoss``, fused
  as ``BCEWithLogitsLoss``: the same function, computed stably). Adam(2e-4, betas (0.5, 0.999)).
* **cyclegan** (junyanz/pytorch-CycleGAN-and-pix2pix ``cycle_gan_model.py``): ResNet generators and
  70x70 PatchGANs with InstanceNorm; G step (both translators, D frozen with ``requires_grad_(False)``)
  on LSGAN + 10 x L1 cycle + 5 x L1 identity, then the D step of both discriminators on
  ``0.5 (MSE(D(real), 1) + MSE(D(fake.detach()), 0))``.

Every workload object has ``iteration()`` (one training iteration, no host synchronisation) and
``sync()``. Mixed precision is ``torch.autocast(bfloat16)`` around the forward passes and losses:
parameters, gradients and optimizer states stay float32, as on the JAX side.

Run as ``python -m experiments.bench.torch_models SPEC.json OUT.json`` it times one variant in a fresh
process (used for ``torch.compile``, whose compilation time cannot otherwise be bounded).
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "torch_device",
    "device_name",
    "ToyD",
    "ToyTorch",
    "MixtureTorch",
    "DCGANGeneratorTorch",
    "DCGANDiscriminatorTorch",
    "DCGANTorch",
    "ResnetGeneratorTorch",
    "PatchDiscriminatorTorch",
    "CycleGANTorch",
    "build_torch_workload",
]


def torch_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.device_count()}x {torch.cuda.get_device_name(device)} (cuda)"
    return "cpu"


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _autocast(device: torch.device, precision: str):
    if precision == "bfloat16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _contiguous_batch(data: torch.Tensor, batch_size: int, index: int) -> torch.Tensor:
    """The lecture's batch ``data[(begin + arange(B)) % n]`` with ``begin = B * index % n``."""
    n = data.shape[0]
    begin = (batch_size * index) % n
    if begin + batch_size <= n:
        return data[begin : begin + batch_size]
    idx = (torch.arange(batch_size, device=data.device) + begin) % n
    return data[idx]


# --------------------------------------------------------------------------------------------- toy


class ToyD(nn.Sequential):
    """The lecture's D: ``Linear(2,20) ReLU Linear(20,10) ReLU Linear(10,2)``."""

    def __init__(self, hidden=(20, 10), data_dim: int = 2, out: int = 2):
        layers, width = [], data_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, out))
        super().__init__(*layers)


class ToyTorch:
    """The lecture's toy GAN, trained as the notebook trains it (D step, then G step, same ``Z``)."""

    images = False

    def __init__(self, data: np.ndarray, batch_size: int = 32, lr: float = 0.01, *, device=None,
                 precision: str = "float32", compile_models: bool = False, seed: int = 0):
        self.device = device or torch_device()
        torch.manual_seed(seed)
        self.data = torch.as_tensor(np.array(data, np.float32), device=self.device)
        self.batch_size = batch_size
        self.precision = precision
        self.G = nn.Linear(2, 2).to(self.device)
        self.D = ToyD().to(self.device)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=lr)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=lr)
        self.g_fn = torch.compile(self.G) if compile_models else self.G
        self.d_fn = torch.compile(self.D) if compile_models else self.D
        self.index = 0

    def load_jax_params(self, g_params, d_params) -> None:
        """Copies jaxgan's toy parameters (Flax ``Dense``: kernel ``(in, out)``) into the torch modules
        (``Linear.weight`` is ``(out, in)``, so it gets the transposed kernel)."""
        with torch.no_grad():
            self.G.weight.copy_(torch.as_tensor(np.asarray(g_params["linear"]["kernel"]).T))
            self.G.bias.copy_(torch.as_tensor(np.asarray(g_params["linear"]["bias"])))
            linears = [m for m in self.D if isinstance(m, nn.Linear)]
            for j, lin in enumerate(linears):
                lin.weight.copy_(torch.as_tensor(np.asarray(d_params[f"Dense_{j}"]["kernel"]).T))
                lin.bias.copy_(torch.as_tensor(np.asarray(d_params[f"Dense_{j}"]["bias"])))

    def iteration(self, real: Optional[torch.Tensor] = None, z: Optional[torch.Tensor] = None):
        """One D step then one G step; returns ``(d_loss, g_loss)`` as tensors (no host sync)."""
        B = self.batch_size
        if real is None:
            real = _contiguous_batch(self.data, B, self.index)
        if z is None:
            z = torch.randn(real.shape[0], 2, device=self.device)
        self.index += 1
        ones = torch.ones(real.shape[0], dtype=torch.long, device=self.device)
        zeros = torch.zeros_like(ones)
        # D step: maximise log D(x) + log(1 - D(G(z))), G fixed (fake detached).
        self.opt_D.zero_grad()
        with _autocast(self.device, self.precision):
            fake = self.g_fn(z).detach()
            d_loss = F.cross_entropy(self.d_fn(real), ones) + F.cross_entropy(self.d_fn(fake), zeros)
        d_loss.backward()
        self.opt_D.step()
        # G step: minimise -log D(G(z)) (non-saturating), same z.
        self.opt_G.zero_grad()
        with _autocast(self.device, self.precision):
            g_loss = F.cross_entropy(self.d_fn(self.g_fn(z)), ones)
        g_loss.backward()
        self.opt_G.step()
        return d_loss.detach(), g_loss.detach()

    def sync(self) -> None:
        synchronize(self.device)


# ----------------------------------------------------------------------------------------- mixture


def _mlp(widths, out: int, activation) -> nn.Sequential:
    layers, width = [], widths[0]
    for w in widths[1:]:
        layers += [nn.Linear(width, w), activation()]
        width = w
    layers.append(nn.Linear(width, out))
    return nn.Sequential(*layers)


class MixtureTorch:
    """The mixture experiment's default recipe: MLP G (ReLU) on 2-d noise, MLP D (leaky ReLU, one
    logit), BCE on logits (non-saturating G), ``R1 = E||grad_x D(x)||^2`` on the real batch times
    ``penalty_weight`` added to D's loss (double backward, ``create_graph=True``), Adam with
    ``CosineAnnealingLR`` to 1% over ``decay_steps`` (optax's ``cosine_decay_schedule(alpha=0.01)``),
    and a fresh batch of the ring every iteration: ``means[c] + std * eps``."""

    images = False

    def __init__(self, means: np.ndarray, spec: dict, *, device=None, precision: str = "float32",
                 compile_models: bool = False, seed: int = 0):
        self.device = device or torch_device()
        torch.manual_seed(seed)
        self.means = torch.as_tensor(np.array(means, np.float32), device=self.device)
        self.std, self.batch_size, self.precision = spec["std"], spec["batch_size"], precision
        self.latent_dim, self.penalty_weight = spec["latent_dim"], spec["penalty_weight"]
        if spec["penalty"] not in ("r1", "none") or spec["loss"] != "nonsaturating":
            raise ValueError(f"no PyTorch twin of loss {spec['loss']!r} with penalty {spec['penalty']!r}")
        if spec["penalty"] == "none":
            self.penalty_weight = 0.0
        self.G = _mlp([spec["latent_dim"]] + [spec["g_width"]] * spec["g_depth"], 2, nn.ReLU).to(self.device)
        self.D = _mlp([2] + [spec["d_width"]] * spec["d_depth"], 1, nn.LeakyReLU).to(self.device)
        betas = (spec["beta1"], spec["beta2"])
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=spec["lr"], betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=spec["lr"], betas=betas)
        self.schedulers = []
        if spec["lr_decay"] == "cosine":
            self.schedulers = [torch.optim.lr_scheduler.CosineAnnealingLR(o, spec["decay_steps"], eta_min=0.01 * spec["lr"])
                               for o in (self.opt_G, self.opt_D)]
        self.g_fn = torch.compile(self.G) if compile_models else self.G
        self.d_fn = torch.compile(self.D) if compile_models else self.D

    def iteration(self):
        B = self.batch_size
        modes = torch.randint(0, self.means.shape[0], (B,), device=self.device)
        real = (self.means[modes] + self.std * torch.randn(B, 2, device=self.device)).requires_grad_(self.penalty_weight > 0)
        z = torch.randn(B, self.latent_dim, device=self.device)
        ones, zeros = torch.ones(B, 1, device=self.device), torch.zeros(B, 1, device=self.device)
        self.opt_D.zero_grad()
        with _autocast(self.device, self.precision):
            fake = self.g_fn(z).detach()
            real_logits = self.d_fn(real)
            d_loss = (F.binary_cross_entropy_with_logits(real_logits, ones)
                      + F.binary_cross_entropy_with_logits(self.d_fn(fake), zeros))
        if self.penalty_weight > 0:
            (grad,) = torch.autograd.grad(real_logits.float().sum(), real, create_graph=True)
            d_loss = d_loss + self.penalty_weight * grad.pow(2).sum(dim=1).mean()
        d_loss.backward()
        self.opt_D.step()
        self.opt_G.zero_grad()
        with _autocast(self.device, self.precision):
            g_loss = F.binary_cross_entropy_with_logits(self.d_fn(self.g_fn(z)), ones)
        g_loss.backward()
        self.opt_G.step()
        for sched in self.schedulers:
            sched.step()
        return d_loss.detach(), g_loss.detach()

    def sync(self) -> None:
        synchronize(self.device)


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
        real = _contiguous_batch(self.data, self.batch_size, self.index)
        self.index += 1
        B = real.shape[0]
        ones = torch.ones(B, device=self.device)
        zeros = torch.zeros(B, device=self.device)
        # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
        self.D.zero_grad()
        with _autocast(self.device, self.precision):
            err_real = F.binary_cross_entropy_with_logits(self.d_fn(real), ones)
        err_real.backward()
        noise = torch.randn(B, self.nz, 1, 1, device=self.device)
        with _autocast(self.device, self.precision):
            fake = self.g_fn(noise)
            err_fake = F.binary_cross_entropy_with_logits(self.d_fn(fake.detach()), zeros)
        err_fake.backward()
        self.opt_D.step()
        # (2) Update G: maximize log(D(G(z))), reusing the same fake batch
        self.G.zero_grad()
        with _autocast(self.device, self.precision):
            err_g = F.binary_cross_entropy_with_logits(self.d_fn(fake), ones)
        err_g.backward()
        self.opt_G.step()
        return (err_real + err_fake).detach(), err_g.detach()

    def sync(self) -> None:
        synchronize(self.device)


# ---------------------------------------------------------------------------------------- cyclegan


def _instance_norm(ch: int) -> nn.Module:
    return nn.InstanceNorm2d(ch, affine=False, track_running_stats=False)


class _ResnetBlock(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), _instance_norm(dim), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), _instance_norm(dim),
        )

    def forward(self, x):
        return x + self.block(x)


class ResnetGeneratorTorch(nn.Module):
    """The reference ``ResnetGenerator`` (reflect padding, InstanceNorm, biases on, no dropout)."""

    def __init__(self, channels: int = 3, ngf: int = 64, n_blocks: int = 9):
        super().__init__()
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(channels, ngf, 7), _instance_norm(ngf), nn.ReLU(True)]
        for i in range(2):
            m = 2**i
            layers += [nn.Conv2d(ngf * m, ngf * m * 2, 3, stride=2, padding=1), _instance_norm(ngf * m * 2), nn.ReLU(True)]
        layers += [_ResnetBlock(ngf * 4) for _ in range(n_blocks)]
        for i in range(2):
            m = 2 ** (2 - i)
            layers += [nn.ConvTranspose2d(ngf * m, ngf * m // 2, 3, stride=2, padding=1, output_padding=1),
                       _instance_norm(ngf * m // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class PatchDiscriminatorTorch(nn.Module):
    """The reference ``NLayerDiscriminator`` (n_layers = 3: the 70x70 PatchGAN)."""

    def __init__(self, channels: int = 3, ndf: int = 64, n_layers: int = 3):
        super().__init__()
        layers = [nn.Conv2d(channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2**n, 8)
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 2, 1), _instance_norm(ndf * mult), nn.LeakyReLU(0.2, True)]
        prev, mult = mult, min(2**n_layers, 8)
        layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 1, 1), _instance_norm(ndf * mult), nn.LeakyReLU(0.2, True)]
        layers += [nn.Conv2d(ndf * mult, 1, 4, 1, 1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


def _cyclegan_init(m: nn.Module) -> None:
    """The reference ``init_weights(init_type='normal', gain=0.02)``: conv weights N(0, 0.02), biases 0."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)


class ImagePool:
    """The reference ``ImagePool``: once ``size`` images are stored, each query returns, with
    probability 1/2, a stored image (replaced by the new one) instead of the new one."""

    def __init__(self, size: int, generator: torch.Generator):
        self.size, self.images, self.generator = size, [], generator

    def query(self, images):
        if self.size == 0:
            return images
        out = []
        for image in images:
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif torch.rand((), generator=self.generator).item() > 0.5:
                j = int(torch.randint(0, self.size, (), generator=self.generator).item())
                out.append(self.images[j].clone())
                self.images[j] = image
            else:
                out.append(image)
        return torch.cat(out, 0)


class CycleGANTorch:
    """The reference CycleGAN iteration: G step (G_A and G_B together, D frozen), then D_A and D_B."""

    images = True

    def __init__(self, data_a: np.ndarray, data_b: np.ndarray, batch_size: int = 1, *, ngf: int = 64,
                 ndf: int = 64, res_blocks: int = 9, channels: int = 3, lambda_cycle: float = 10.0,
                 lambda_identity: float = 0.5, pool_size: int = 50, device=None, precision: str = "float32",
                 compile_models: bool = False, channels_last: bool = False, seed: int = 0):
        self.device = device or torch_device()
        torch.manual_seed(seed)
        fmt = torch.channels_last if channels_last else torch.contiguous_format

        def images(a):
            t = torch.as_tensor(np.array(a, np.float32), device=self.device).permute(0, 3, 1, 2)
            return t.contiguous(memory_format=fmt)

        self.data_a, self.data_b = images(data_a), images(data_b)
        self.batch_size, self.precision = batch_size, precision
        self.lambda_cycle, self.lambda_identity = lambda_cycle, lambda_identity
        mods = {
            "G_A": ResnetGeneratorTorch(channels, ngf, res_blocks), "G_B": ResnetGeneratorTorch(channels, ngf, res_blocks),
            "D_A": PatchDiscriminatorTorch(channels, ndf), "D_B": PatchDiscriminatorTorch(channels, ndf),
        }
        for m in mods.values():
            m.apply(_cyclegan_init)
            m.to(self.device, memory_format=fmt)
        self.G_A, self.G_B, self.D_A, self.D_B = mods["G_A"], mods["G_B"], mods["D_A"], mods["D_B"]
        wrap = torch.compile if compile_models else (lambda m: m)
        self.g_a, self.g_b, self.d_a, self.d_b = (wrap(m) for m in (self.G_A, self.G_B, self.D_A, self.D_B))
        self.opt_G = torch.optim.Adam(list(self.G_A.parameters()) + list(self.G_B.parameters()), lr=2e-4, betas=(0.5, 0.999))
        self.opt_D = torch.optim.Adam(list(self.D_A.parameters()) + list(self.D_B.parameters()), lr=2e-4, betas=(0.5, 0.999))
        gen = torch.Generator().manual_seed(seed)
        self.pool_a, self.pool_b = ImagePool(pool_size, gen), ImagePool(pool_size, gen)
        self.index = 0

    def _set_d_requires_grad(self, flag: bool) -> None:
        for d in (self.D_A, self.D_B):
            d.requires_grad_(flag)

    def iteration(self):
        real_a = _contiguous_batch(self.data_a, self.batch_size, self.index)
        real_b = _contiguous_batch(self.data_b, self.batch_size, self.index)
        self.index += 1
        lam, idt = self.lambda_cycle, self.lambda_cycle * self.lambda_identity
        # G step: D_A and D_B frozen.
        self._set_d_requires_grad(False)
        self.opt_G.zero_grad()
        with _autocast(self.device, self.precision):
            fake_b = self.g_a(real_a)
            rec_a = self.g_b(fake_b)
            fake_a = self.g_b(real_b)
            rec_b = self.g_a(fake_a)
            loss_idt = F.l1_loss(self.g_a(real_b), real_b) * idt + F.l1_loss(self.g_b(real_a), real_a) * idt
            pred_a, pred_b = self.d_a(fake_b), self.d_b(fake_a)
            loss_gan = F.mse_loss(pred_a, torch.ones_like(pred_a)) + F.mse_loss(pred_b, torch.ones_like(pred_b))
            loss_cycle = F.l1_loss(rec_a, real_a) * lam + F.l1_loss(rec_b, real_b) * lam
            loss_g = loss_gan + loss_cycle + loss_idt
        loss_g.backward()
        self.opt_G.step()
        # D step: D_A on (real_B, pooled fake_B), D_B on (real_A, pooled fake_A); each loss halved.
        self._set_d_requires_grad(True)
        self.opt_D.zero_grad()
        pooled_b = self.pool_b.query(fake_b.detach())
        pooled_a = self.pool_a.query(fake_a.detach())
        with _autocast(self.device, self.precision):
            loss_d = 0.0
            for d, real, fake in ((self.d_a, real_b, pooled_b), (self.d_b, real_a, pooled_a)):
                p_real, p_fake = d(real), d(fake)
                loss_d = loss_d + 0.5 * (F.mse_loss(p_real, torch.ones_like(p_real)) + F.mse_loss(p_fake, torch.zeros_like(p_fake)))
        loss_d.backward()
        self.opt_D.step()
        return loss_d.detach(), loss_g.detach()

    def sync(self) -> None:
        synchronize(self.device)


# ----------------------------------------------------------------------------------------- factory


def build_torch_workload(spec: dict, arrays: dict, *, precision: str, compile_models: bool = False,
                         channels_last: bool = False, device=None):
    """The PyTorch twin of a jaxgan workload from its ``spec`` (the workload's settings) and data."""
    kind = spec["workload"]
    common = dict(device=device, precision=precision, compile_models=compile_models, seed=spec.get("seed", 0))
    if kind == "toy":
        return ToyTorch(arrays["data"], spec["batch_size"], spec.get("lr", 0.01), **common)
    if kind == "mixture":
        return MixtureTorch(arrays["data"], spec, **common)
    if kind == "dcgan":
        return DCGANTorch(arrays["data"], spec["batch_size"], image_size=spec["image_size"], nz=spec["nz"],
                          ngf=spec["g_features"], ndf=spec["d_features"], channels=spec["channels"],
                          channels_last=channels_last, **common)
    if kind == "cyclegan":
        return CycleGANTorch(arrays["data_a"], arrays["data_b"], spec["batch_size"], ngf=spec["g_features"],
                             ndf=spec["d_features"], res_blocks=spec["res_blocks"], channels=spec["channels"],
                             lambda_cycle=spec["lambda_cycle"], lambda_identity=spec["lambda_identity"],
                             pool_size=spec["pool_size"], channels_last=channels_last, **common)
    raise ValueError(f"no PyTorch implementation of workload {kind!r}")


def time_torch(workload, *, min_time: float, repeats: int, iterations: Optional[int] = None, warmup: int = 1):
    """``(first_call_seconds, Timing)``: warm-up (the first call includes any compilation), then the
    median of ``repeats`` timed calls of ``n`` iterations, each ended by a device synchronisation."""
    from experiments.bench.timing import estimate_iterations, time_runs

    def run(n):
        for _ in range(n):
            workload.iteration()
        workload.sync()

    t0 = time.perf_counter()
    run(1)
    first = time.perf_counter() - t0
    for _ in range(max(0, warmup - 1)):
        run(1)
    if iterations is None:
        iterations = estimate_iterations(run, 1, min_time)
    return first, time_runs(run, iterations, repeats, warmup=0)


def _worker(spec_path: str, out_path: str) -> int:
    """Times one torch variant described by a JSON spec (arrays in an ``.npz`` beside it)."""
    with open(spec_path) as f:
        job = json.load(f)
    arrays = dict(np.load(job["arrays"]))
    if job.get("threads"):
        torch.set_num_threads(job["threads"])
    result = {}
    try:
        workload = build_torch_workload(job["spec"], arrays, precision=job["precision"],
                                        compile_models=job.get("compile", False),
                                        channels_last=job.get("channels_last", False))
        first, timing = time_torch(workload, min_time=job["min_time"], repeats=job["repeats"],
                                   iterations=job.get("iterations"), warmup=job.get("warmup", 2))
        result = {"ok": True, "first_call_seconds": first, "iterations": timing.iterations,
                  "seconds": list(timing.seconds), "device": device_name(workload.device)}
    except Exception as err:  # noqa: BLE001 - reported to the parent, never hidden
        result = {"ok": False, "error": f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:300]}
    with open(out_path, "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(_worker(*sys.argv[1:3]))
