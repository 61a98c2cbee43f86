"""The benchmark's result rows: their fields, throughput and ratios, and the printed tables.

One row per (workload, framework, variant): ``workload, framework, variant, device, precision,
batch_size, iterations_per_second, images_per_second, compile_seconds, ratio_to_torch_eager`` and
more (FLOP/s, peak fraction, status, the seconds of each timed call, each interleaved round's ratio
to PyTorch eager, ...), as written to
``<out>/results.json`` by :mod:`experiments.benchmark`.
"""

from __future__ import annotations

__all__ = ["base_row", "fill_throughput", "add_ratios", "round_ratios", "error_text", "format_table", "markdown_table"]


def base_row(workload, framework, variant, device, precision, batch_size, settings, reduced) -> dict:
    return {
        "workload": workload,
        "framework": framework,
        "variant": variant,
        "device": device,
        "precision": precision,
        "batch_size": batch_size,
        "iterations_per_second": None,
        "images_per_second": None,
        "compile_seconds": None,
        "ratio_to_torch_eager": None,
        "achieved_flops_per_second": None,
        "peak_fraction": None,
        "runs": 1,
        "interleaved": False,  # timed in rounds with the workload's other in-process variants
        "settings": settings,
        "reduced": reduced,
        "status": "ok",
    }


def fill_throughput(row, iterations_per_second, images, flops, device_kind, precision) -> None:
    from experiments.bench.timing import peak_flops_per_second

    row["iterations_per_second"] = iterations_per_second
    if images:
        row["images_per_second"] = iterations_per_second * row["batch_size"]
    if flops:
        achieved = flops * iterations_per_second
        row["achieved_flops_per_second"] = achieved
        peak = peak_flops_per_second(device_kind, precision)
        row["peak_fraction"] = achieved / peak if peak else None


def add_ratios(rows: list[dict]) -> None:
    """``ratio_to_torch_eager``: throughput over PyTorch eager's at the row's precision, same workload.

    Also ``ratio_to_torch_eager_float32`` (the bfloat16 goals compare with float32 eager),
    ``ratio_to_torch_best`` (over the fastest PyTorch variant of the workload, any precision) and,
    where the row and PyTorch eager were timed in the same interleaved rounds (both rows have
    ``"interleaved": True``), ``ratio_to_torch_eager_rounds``: the ratio in each round
    (:func:`round_ratios`; not on the eager row itself, where it is 1 in every round).
    """
    for row in rows:
        if row["iterations_per_second"] is None:
            continue
        same = [r for r in rows if r["workload"] == row["workload"] and r["framework"] == "torch"
                and r["iterations_per_second"]]
        eager = {r["precision"]: r for r in same if r["variant"] == "eager"}
        reference = eager.get(row["precision"])
        if reference is not None:
            row["ratio_to_torch_eager"] = row["iterations_per_second"] / reference["iterations_per_second"]
            rounds = round_ratios(row, reference) if row is not reference else None
            if rounds is not None:
                row["ratio_to_torch_eager_rounds"] = rounds
        if "float32" in eager and row["precision"] != "float32":
            row["ratio_to_torch_eager_float32"] = row["iterations_per_second"] / eager["float32"]["iterations_per_second"]
        if same:
            row["ratio_to_torch_best"] = row["iterations_per_second"] / max(r["iterations_per_second"] for r in same)


def round_ratios(row: dict, reference: dict) -> list[float] | None:
    """``row``'s throughput over ``reference``'s in each round of an interleaved timing, or ``None``
    where the two were not timed in the same rounds.

    Round ``r`` timed one call of each: ``(runs iterations_per_call / seconds[r])`` of ``row`` over
    the same of ``reference``. Both calls ran within the same minute, so the machine's drift cancels
    in each round's ratio; their spread is the run's uncertainty about the ratio.
    """
    if not (row.get("interleaved") and reference.get("interleaved")):
        return None
    mine, theirs = row.get("seconds") or [], reference.get("seconds") or []
    if not mine or len(mine) != len(theirs):
        return None
    work, ref_work = row["runs"] * row["iterations_per_call"], reference["runs"] * reference["iterations_per_call"]
    return [(work / s) / (ref_work / t) for s, t in zip(mine, theirs)]


def _rounds_text(row: dict) -> str:
    """``min-max`` of the rounds' ratios to PyTorch eager (``-`` without them)."""
    rounds = row.get("ratio_to_torch_eager_rounds")
    return f"{min(rounds):.2f}-{max(rounds):.2f}" if rounds else "-"


def _fmt(value, spec, missing="-"):
    return missing if value is None else format(value, spec)


def format_table(rows: list[dict]) -> str:
    header = (f"{'workload':9} {'framework':5} {'variant':20} {'precision':9} {'batch':>5} {'it/s':>11} "
              f"{'images/s':>10} {'compile s':>9} {'GFLOP/s':>9} {'%peak':>6} {'x torch eager':>13} {'rounds':>9}")
    lines = [header, "-" * len(header)]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"{r['workload']:9} {r['framework']:5} {r['variant']:20} {r['precision']:9} "
                         f"{r['batch_size']:>5} {r['status']}")
            continue
        flops = r["achieved_flops_per_second"]
        lines.append(
            f"{r['workload']:9} {r['framework']:5} {r['variant']:20} {r['precision']:9} {r['batch_size']:>5} "
            f"{_fmt(r['iterations_per_second'], ',.1f'):>11} {_fmt(r['images_per_second'], ',.1f'):>10} "
            f"{_fmt(r['compile_seconds'], '.2f'):>9} {_fmt(flops and flops / 1e9, ',.1f'):>9} "
            f"{_fmt(r['peak_fraction'] and 100 * r['peak_fraction'], '.1f'):>6} "
            f"{_fmt(r['ratio_to_torch_eager'], '.2f'):>13} {_rounds_text(r):>9}"
        )
    return "\n".join(lines)


def markdown_table(rows: list[dict]) -> str:
    """The rows as a Markdown table (for the docs)."""
    lines = ["| workload | framework | variant | precision | batch | it/s | images/s | compile s | GFLOP/s | x torch eager "
             "| rounds |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"| {r['workload']} | {r['framework']} | {r['variant']} | {r['precision']} | {r['batch_size']} "
                         f"| {r['status']} | | | | | |")
            continue
        flops = r["achieved_flops_per_second"]
        lines.append(
            f"| {r['workload']} | {r['framework']} | {r['variant']} | {r['precision']} | {r['batch_size']} "
            f"| {_fmt(r['iterations_per_second'], ',.3g' if r['iterations_per_second'] < 10 else ',.0f')} "
            f"| {_fmt(r['images_per_second'], ',.1f')} | {_fmt(r['compile_seconds'], '.1f')} "
            f"| {_fmt(flops and flops / 1e9, ',.1f')} | {_fmt(r['ratio_to_torch_eager'], '.2f')} | {_rounds_text(r)} |")
    return "\n".join(lines)


def error_text(err: BaseException) -> str:
    """A failed row's status text: the exception type and its first line, at most 300 characters."""
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"{type(err).__name__}: {first}"[:300]
