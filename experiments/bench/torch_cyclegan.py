"""PyTorch twin of the CycleGAN workload (junyanz/pytorch-CycleGAN-and-pix2pix ``cycle_gan_model.py``).

ResNet generators and 70x70 PatchGANs with InstanceNorm; G step (both translators, D frozen with
``requires_grad_(False)``) on LSGAN + 10 x L1 cycle + 5 x L1 identity, then the D step of both
discriminators on ``0.5 (MSE(D(real), 1) + MSE(D(fake.detach()), 0))``, the fakes drawn through the
reference's ``ImagePool``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from experiments.bench.torch_common import autocast, contiguous_batch, synchronize, torch_device

__all__ = ["ResnetGeneratorTorch", "PatchDiscriminatorTorch", "ImagePool", "CycleGANTorch"]


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
        real_a = contiguous_batch(self.data_a, self.batch_size, self.index)
        real_b = contiguous_batch(self.data_b, self.batch_size, self.index)
        self.index += 1
        lam, idt = self.lambda_cycle, self.lambda_cycle * self.lambda_identity
        # G step: D_A and D_B frozen.
        self._set_d_requires_grad(False)
        self.opt_G.zero_grad()
        with autocast(self.device, self.precision):
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
        with autocast(self.device, self.precision):
            loss_d = 0.0
            for d, real, fake in ((self.d_a, real_b, pooled_b), (self.d_b, real_a, pooled_a)):
                p_real, p_fake = d(real), d(fake)
                loss_d = loss_d + 0.5 * (F.mse_loss(p_real, torch.ones_like(p_real)) + F.mse_loss(p_fake, torch.zeros_like(p_fake)))
        loss_d.backward()
        self.opt_D.step()
        return loss_d.detach(), loss_g.detach()

    def sync(self) -> None:
        synchronize(self.device)
