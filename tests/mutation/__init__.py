"""Mutation testing of the core, the losses and the parallel helpers (``python -m tests.mutation``).

mutmut plants one bug at a time (a flipped operator, a changed constant, a dropped argument...) in
the modules of ``MODULES`` and runs the fast tier's tests that reach the mutated function; a mutant
that no test notices "survives". The settings are ``[tool.mutmut]`` in ``pyproject.toml``; this
package runs mutmut module by module in a copy of the repository, and keeps each module's counts
and surviving mutants, so that an interrupted run is still a result. See ``docs/testing.md``.
"""

# The modules, smallest (fewest mutants) first, so that a run cut short has done the most modules.
# ``jaxgan.parallel.hosts`` is left out: its paths need a multi-process job.
MODULES = (
    "jaxgan.state",
    "jaxgan.parallel.mesh",
    "jaxgan.losses.translation",
    "jaxgan.losses.acgan",
    "jaxgan.losses",
    "jaxgan.losses.reduction",
    "jaxgan.parallel.sharding",
    "jaxgan.gan_loss",
    "jaxgan.train",
    "jaxgan.gan",
    "jaxgan.losses.adversarial",
    "jaxgan.losses.penalties",
    "jaxgan.steps",
)
