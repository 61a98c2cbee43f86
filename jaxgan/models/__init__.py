"""Network architectures (Flax Linen modules); wrap them with :func:`jaxgan.networks.from_linen`."""
