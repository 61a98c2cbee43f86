"""PyTorch twins of the 2D workloads: the lecture's toy GAN and the mixture experiment's GAN.

* **toy** (lecture 17): G = ``Linear(2, 2)``, D = ``Linear(2,20) ReLU Linear(20,10) ReLU Linear(10,2)``,
  2-class softmax cross-entropy, Adam(0.01) for both. Iteration ``i``: real = the contiguous slice
  ``data[32 i % n :][:32]``, ``Z ~ N(0, I)``; D step on ``(real, G(Z).detach())``; G step on
  ``-log softmax(D(G(Z)))_1`` with the same ``Z``. The notebook recomputes ``G(Z)`` in its G step;
  the twin keeps the D step's ``fake`` (as PyTorch's DCGAN example does) because jaxgan's training
  step shares that forward pass too (:func:`jaxgan.build_d_then_g_step`): the same work on both sides.
* **mixture**: the mixture experiment's MLP G and D (see :class:`MixtureTorch`).
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from experiments.bench.torch_common import autocast, contiguous_batch, synchronize, torch_device

__all__ = ["ToyD", "ToyTorch", "MixtureTorch"]


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
            real = contiguous_batch(self.data, B, self.index)
        if z is None:
            z = torch.randn(real.shape[0], 2, device=self.device)
        self.index += 1
        ones = torch.ones(real.shape[0], dtype=torch.long, device=self.device)
        zeros = torch.zeros_like(ones)
        # D step: maximise log D(x) + log(1 - D(G(z))), G fixed (fake detached).
        self.opt_D.zero_grad()
        with autocast(self.device, self.precision):
            fake = self.g_fn(z)
            d_loss = F.cross_entropy(self.d_fn(real), ones) + F.cross_entropy(self.d_fn(fake.detach()), zeros)
        d_loss.backward()
        self.opt_D.step()
        # G step: minimise -log D(G(z)) (non-saturating), same z: the same fake.
        self.opt_G.zero_grad()
        with autocast(self.device, self.precision):
            g_loss = F.cross_entropy(self.d_fn(fake), ones)
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
        with autocast(self.device, self.precision):
            fake = self.g_fn(z)
            real_logits = self.d_fn(real)
            d_loss = (F.binary_cross_entropy_with_logits(real_logits, ones)
                      + F.binary_cross_entropy_with_logits(self.d_fn(fake.detach()), zeros))
        if self.penalty_weight > 0:
            (grad,) = torch.autograd.grad(real_logits.float().sum(), real, create_graph=True)
            d_loss = d_loss + self.penalty_weight * grad.pow(2).sum(dim=1).mean()
        d_loss.backward()
        self.opt_D.step()
        self.opt_G.zero_grad()
        with autocast(self.device, self.precision):
            g_loss = F.binary_cross_entropy_with_logits(self.d_fn(fake), ones)
        g_loss.backward()
        self.opt_G.step()
        for sched in self.schedulers:
            sched.step()
        return d_loss.detach(), g_loss.detach()

    def sync(self) -> None:
        synchronize(self.device)
