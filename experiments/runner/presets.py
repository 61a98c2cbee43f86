"""Per-dataset presets: a data set's recorded recipe as its defaults, which the flags given override.

An experiment keeps its presets as data in its config module, ``{dataset: {dest: value}}``, and
after parsing calls :func:`apply_preset`::

    args = parser.parse_args(argv)
    line = apply_preset(parser, argv, args, PRESETS.get(args.dataset, {}), f"preset for {args.dataset}")

Each preset value replaces the parser's default unless the command line gave that option; the
returned line (``preset for digits: --r1 1 --steps 4000; flags given override it``) says what the
run uses. ``args`` then holds the resolved values, which go into the config and ``results.json``.
"""

from __future__ import annotations

import argparse
from typing import Any, Mapping, Optional, Sequence

__all__ = ["apply_preset", "format_flags", "given_options", "preset_line", "presets_epilog"]


def given_options(parser: argparse.ArgumentParser, argv: Optional[Sequence[str]]) -> frozenset[str]:
    """The destinations (``args`` attribute names) that the command line ``argv`` sets explicitly.

    Parses twice: once for the names, once into a namespace where every name holds a marker;
    argparse writes a default only where the namespace has no value, so the names whose value is
    still the marker were not given.

    Args:
      parser: the experiment's parser.
      argv: the command line (``None``: ``sys.argv[1:]``).

    Returns:
      The names of the options given, e.g. ``{"steps", "out"}``.
    """
    names = vars(parser.parse_args(argv))
    unset = object()
    marked = argparse.Namespace(**dict.fromkeys(names, unset))
    parser.parse_args(argv, namespace=marked)
    return frozenset(name for name, value in vars(marked).items() if value is not unset)


def _flag_value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def format_flags(values: Mapping[str, Any]) -> str:
    """``{"r1": 1.0, "steps": 4000}`` as ``--r1 1 --steps 4000`` (``True``: the bare flag)."""
    words = []
    for name, value in values.items():
        flag = "--" + name.replace("_", "-")
        words.append(flag if value is True else f"{flag} {_flag_value(value)}")
    return " ".join(words)


def apply_preset(
    parser: argparse.ArgumentParser,
    argv: Optional[Sequence[str]],
    args: argparse.Namespace,
    preset: Mapping[str, Any],
    label: str,
) -> Optional[str]:
    """Sets each value of ``preset`` on ``args`` unless ``argv`` gave that option; says so in one line.

    Args:
      parser: the parser that made ``args``.
      argv: the command line ``args`` came from (``None``: ``sys.argv[1:]``).
      args: the parsed arguments, changed in place.
      preset: ``{dest: value}``, the recipe that becomes the defaults.
      label: what the preset is, e.g. ``"preset for digits"``.

    Returns:
      ``"<label>: --r1 1 --steps 4000; flags given override it"`` (with ``(here --steps)`` naming the
      preset's options that were given), or ``None`` for an empty preset.
    """
    if not preset:
        return None
    given = given_options(parser, argv)
    for name, value in preset.items():
        if name not in given:
            setattr(args, name, value)
    return preset_line(label, preset, given)


def preset_line(label: str, preset: Mapping[str, Any], given) -> str:
    """``"<label>: --r1 1 --steps 4000; flags given override it (here --steps)"``: the line that
    says which defaults a run takes, and which of them its command line replaced.

    Args:
      label: what the preset is, e.g. ``"preset for digits"``.
      preset: ``{dest: value}``.
      given: the names the command line gave (:func:`given_options`).
    """
    overridden = [name for name in preset if name in given]
    line = f"{label}: {format_flags(preset)}; flags given override it"
    if overridden:
        line += " (here " + " ".join("--" + name.replace("_", "-") for name in overridden) + ")"
    return line


def presets_epilog(presets: Mapping[str, Mapping[str, Any]], what: str = "data set") -> str:
    """The ``--help`` text of an experiment's presets: ``Presets by data set (flags given override
    them): digits: --r1 1 --steps 4000; mnist: ...``."""
    entries = "; ".join(f"{name}: {format_flags(preset)}" for name, preset in presets.items() if preset)
    return f"Defaults by {what}, over the ones shown (flags given override them): {entries}."
