"""Keeping a run safe: checkpoints with exact resume, the divergence guard, and input checks.

* :mod:`.checkpoint` - :class:`~jaxgan.reliability.checkpoint.Checkpointer`: atomic, verified
  checkpoints of the whole state, restored exactly or refused with the reason;
* :mod:`.divergence` - stop a run at the first non-finite loss or parameter and name it;
* :mod:`.input_checks` - one-line errors at the library's public boundaries.

``docs/reliability.md`` describes the guarantees.
"""
