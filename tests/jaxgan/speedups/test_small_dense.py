"""``jaxgan.speedups.small_dense``: the dense product of the toy's layers on CPU."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np


def test_dense_product_is_the_dense_layer_with_a_standard_kernel_gradient():
    """``jaxgan.speedups.small_dense.dense_product`` (the toy's dense layers on CPU) computes ``x @ W`` and its
    gradients as ``nn.Dense``'s default product does; on CPU the kernel's gradient is a product of
    the materialised ``x^T`` (no product contracting both batch axes, which XLA:CPU sends to Eigen)."""
    from jaxgan.speedups.small_dense import dense_product

    x = jax.random.normal(jax.random.PRNGKey(0), (32, 20))
    weights = jax.random.normal(jax.random.PRNGKey(1), (32, 10))
    layers = [nn.Dense(10, dot_general=dense_product), nn.Dense(10)]
    params = layers[1].init(jax.random.PRNGKey(2), x)

    def loss(layer):
        return lambda p, x: jnp.sum(weights * jnp.tanh(layer.apply(p, x)))

    (ours, ours_grads), (ref, ref_grads) = [jax.jit(jax.value_and_grad(loss(l), argnums=(0, 1)))(params, x) for l in layers]
    np.testing.assert_allclose(ours, ref, rtol=1e-6)
    for a, b in zip(jax.tree_util.tree_leaves(ours_grads), jax.tree_util.tree_leaves(ref_grads)):
        assert float(jnp.max(jnp.abs(b))) > 0.1
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    if jax.default_backend() == "cpu":
        compiled = jax.jit(jax.grad(loss(layers[0]))).lower(params, x).compile().as_text()
        dots = [line for line in compiled.splitlines() if "lhs_contracting_dims={0}" in line]
        assert not dots, dots
