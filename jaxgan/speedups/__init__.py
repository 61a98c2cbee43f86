"""Faster exact forms of jaxgan's operations: the same math, computed in forms that run faster.

Nothing in the core (state, GAN, networks, steps, ``GANLoss``, ``fit``) imports this package. Each
form is opt-in, chosen in one visible place (a model argument, or an experiment's config), and
computes the same function as the plain form, to float32 rounding (the tests compare them):

* :mod:`.layers` - DCGAN's transposed and strided convolutions as sub-pixel, space-to-depth,
  im2col (matrix product) or Winograd forms; :mod:`.winograd` and :mod:`.output_side_conv` are the
  convolution algorithms they use; :mod:`.translator_convs` the same for CycleGAN's networks;
* :mod:`.small_dense` - a dense layer whose kernel gradient XLA:CPU computes faster for small
  matrices (the lecture's toy GAN);
* :mod:`.cpu_loops` - a small training loop compiled by XLA:CPU as one kernel;
* :mod:`.rng_lowering` - JAX's Threefry hash as straight-line code on CPU;
* :mod:`.toy_gan_kernel` (with :mod:`.kernel_random`) - the toy GAN's whole training loop as one
  GPU kernel (Pallas);
* :mod:`.jax_internals` - the one guarded door to JAX's private API for the forms that need it.

Some of these touch JAX's private API (``jax._src``) or process-wide XLA flags. Where the private
API is not as expected, they turn themselves off with one warning and the run stays correct, in
the plain form. ``docs/performance.md`` explains why and how each form works, and what it gains.
"""
