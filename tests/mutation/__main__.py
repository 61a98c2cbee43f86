"""Runs mutmut over ``MODULES`` one module at a time, keeping each module's result.

Usage (from the repository root; needs the ``mutation`` extra)::

    python -m tests.mutation                      # every mutant not run yet, module by module
    python -m tests.mutation jaxgan.state jaxgan.gan --force
    python -m tests.mutation jaxgan.steps --survivors   # re-run only the last run's survivors
    python -m tests.mutation jaxgan.steps --listed      # the reviewed mutants whose function changed
    python -m tests.mutation jaxgan.steps --sample 100  # 100 mutants not run yet, drawn at random
    python -m tests.mutation --survivors --restat  # after the code changed: record again which tests reach what
    python -m tests.mutation --report             # the table of the modules done
    python -m tests.mutation --reviewed           # the survivors and their review (reviewed.py)

The run happens in a copy of the repository (``--workdir``, by default ``jaxgan-mutation`` in the
temporary directory), where mutmut writes its ``mutants/`` tree. Each module's counts and
surviving mutants (with their diffs) go to ``<workdir>/results/<module>.json`` once the module
is done, and its log to ``<workdir>/results/<module>.log``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.mutation import MODULES
from tests.mutation.reviewed import EQUIVALENT, KILLED_BY

ROOT = Path(__file__).resolve().parents[2]
COPIED = ("jaxgan", "tests", "experiments", "pyproject.toml")
# mutmut's exit codes of a mutant's test run, by what they mean (mutmut.stats.status_by_exit_code).
KILLED, SURVIVED, NO_TESTS, TIMEOUT = "killed", "survived", "no tests", "timeout"
STATUS = {1: KILLED, 3: KILLED, 0: SURVIVED, 5: NO_TESTS, 33: NO_TESTS, 36: TIMEOUT, 24: TIMEOUT, -24: TIMEOUT,
          152: TIMEOUT, 255: TIMEOUT, None: "not checked"}


def copy_repository(workdir: Path) -> None:
    """Copies the code and the tests into ``workdir`` (mutmut keeps its earlier results there)."""
    workdir.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.egg-info")
    for name in COPIED:
        source, target = ROOT / name, workdir / name
        if source.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=ignore)
        else:
            shutil.copy2(source, target)


# mutmut's own first step of `mutmut run` (mutmut 3.8): write each mutated file and its ``.meta``,
# keeping the results of the functions whose code did not change and clearing the others'.
GENERATE = """
import os
from mutmut.__main__ import copy_also_copy_files, copy_src_dir, create_mutants
from mutmut.mutation.trampoline import set_mutant_under_test
set_mutant_under_test("mutant_generation")
os.makedirs("mutants", exist_ok=True)
copy_src_dir()
copy_also_copy_files()
create_mutants(1)
"""


def generate_mutants(workdir: Path) -> None:
    """Brings the mutants up to date with the copied code, so that a changed function's mutants
    (and a new function's) count as not run yet before the names to run are chosen."""
    subprocess.run(["nice", "-n", "10", sys.executable, "-c", GENERATE], cwd=workdir, check=True,
                   capture_output=True)


def environment(workdir: Path) -> dict:
    """CPU only, and XLA's compiled programs kept on disk: a mutant that leaves a program unchanged
    (most of the programs a test compiles) loads it instead of compiling it again."""
    env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONHASHSEED="0")
    env["JAX_COMPILATION_CACHE_DIR"] = str(workdir / "jax-cache")
    env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    env["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
    return env


def source_file(module: str) -> Path:
    """``jaxgan/losses/__init__.py`` for ``jaxgan.losses``, ``jaxgan/gan.py`` for ``jaxgan.gan``."""
    path = Path(*module.split("."))
    return path / "__init__.py" if (ROOT / path).is_dir() else path.with_suffix(".py")


def mutant_glob(module: str) -> str:
    """The names of a module's mutants: ``jaxgan.gan.x_init_state__mutmut_3``, ``jaxgan.gan.xǁGANǁ...``."""
    return f"{module}.x*"


def exit_codes(workdir: Path, module: str) -> dict:
    """The module's mutants and their test runs' exit codes (``None``: not run yet)."""
    meta = workdir / "mutants" / f"{source_file(module)}.meta"
    if not meta.exists():
        return {}
    prefix = f"{module}.x"
    return {k: v for k, v in json.loads(meta.read_text())["exit_code_by_key"].items() if k.startswith(prefix)}


def show(workdir: Path, name: str) -> str:
    """The diff of one mutant, as ``mutmut show`` prints it."""
    out = subprocess.run(["mutmut", "show", name], cwd=workdir, capture_output=True, text=True)
    return out.stdout.strip()


def commit() -> str:
    """The repository's commit, with ``+changes`` when the code or the tests differ from it."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", *COPIED], cwd=ROOT, capture_output=True, text=True)
    return (head.stdout.strip() or "unknown") + ("+changes" if dirty.stdout.strip() else "")


def machine() -> str:
    """The host CPU (:func:`experiments.runner.host_description`), e.g. ``AMD EPYC, 2 cores, AVX-512``."""
    from experiments.runner import host_description

    return host_description()


def score(counts: dict) -> float | None:
    """mutmut's score: killed and timed-out mutants over those run; ``None`` (not measured) when no
    test reached any of them (the parallel helpers, whose tests run in subprocesses)."""
    c = Counter(counts)
    tested = sum(c.values()) - c["not checked"]
    if c[KILLED] + c[TIMEOUT] + c[SURVIVED] == 0:
        return None
    return round(100 * (c[KILLED] + c[TIMEOUT]) / tested, 1)


def summarize(workdir: Path, module: str, codes: dict, last_run: dict) -> dict:
    """Counts by outcome, the score, the survivors (a mutant no test reaches survives too) and the
    last run (its command, commit, machine, date, how many mutants it ran, its wall time)."""
    counts = Counter(STATUS.get(code, "suspicious") for code in codes.values())
    survivors = sorted(k for k, v in codes.items() if STATUS.get(v) in (SURVIVED, NO_TESTS))
    return {
        "module": module,
        "counts": dict(counts),
        "score": score(counts),
        "last_run": last_run,
        "survivors": {name: show(workdir, name) for name in survivors},
    }


def run_module(workdir: Path, module: str, names: list[str], results: Path, command: str, children: int,
               at_commit: str) -> dict:
    """Runs mutmut on ``names`` (globs or mutant names), niced, ``children`` test processes at a time."""
    started = time.time()
    with open(results / f"{module}.log", "a") as log:
        if names:  # none: every mutant of the module has a result already
            subprocess.run(["nice", "-n", "10", "mutmut", "run", "--max-children", str(children), *names],
                           cwd=workdir, env=environment(workdir), stdout=log, stderr=subprocess.STDOUT)
    codes = exit_codes(workdir, module)
    ran = sum(1 for name in codes if name in names) if all("*" not in n for n in names) else len(codes)
    last_run = {"command": command, "commit": at_commit, "machine": machine(), "date": time.strftime("%Y-%m-%d"),
                "mutants": ran, "wall_s": round(time.time() - started)}
    summary = summarize(workdir, module, codes, last_run)
    (results / f"{module}.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    return summary


def report(results: Path) -> str:
    """A Markdown table of the modules done, with each module's last run."""
    rows = ["| module | mutants | not run | killed | survived | timeout | no tests | score "
            "| last run: mutants, wall time | date | commit | machine | command |", "|---" * 13 + "|"]
    for module in MODULES:
        path = results / f"{module}.json"
        if path.exists():
            s = json.loads(path.read_text())
            c = Counter(s["counts"])
            run = s.get("last_run")
            measured = score(c)
            shown = f"{measured}%" if measured is not None else "not measured"
            last = (f"{run['mutants']}, {run['wall_s']} s | {run['date']} | {run['commit']} | {run['machine']} | "
                    f"`{run['command']}` |") if run else "not recorded | | | | |"
            rows.append(f"| `{module}` | {sum(c.values())} | {c['not checked']} | {c[KILLED]} | {c[SURVIVED]} | "
                        f"{c[TIMEOUT]} | {c[NO_TESTS]} | {shown} | {last}")
    return "\n".join(rows)


def one_line(diff: str) -> str:
    """A mutant's change in one line, ``old`` → ``new``, from its diff's removed and added lines."""
    lines = diff.splitlines()
    removed = " ".join(line[1:].strip() for line in lines if line.startswith("-") and not line.startswith("---"))
    added = " ".join(line[1:].strip() for line in lines if line.startswith("+") and not line.startswith("+++"))
    return f"`{removed}` → `{added}`".replace("|", "\\|")


def short_name(module: str, name: str) -> str:
    """``GANLoss.generator_loss #1`` for ``jaxgan.gan_loss.xǁGANLossǁgenerator_loss__mutmut_1``."""
    function, number = name[len(module) + 2:].rsplit("__mutmut_", 1)
    function = function[1:].replace("ǁ", ".")  # x_f: f; xǁClassǁmethod: Class.method
    return f"`{function}` #{number}"


def verdict(name: str, status: str) -> str:
    """What the review says of a mutant, checked against its last result."""
    if name in KILLED_BY:
        test = f"`{KILLED_BY[name]}`"
        return f"killed by {test}" if status == KILLED else f"**{status}**, not killed by {test}"
    if name in EQUIVALENT:
        why = EQUIVALENT[name]
        return f"equivalent: {why}" if status in (SURVIVED, NO_TESTS) else f"**{status}**: {why}"
    return "**not reviewed**"


def reviewed(workdir: Path, results: Path) -> str:
    """A Markdown table of the survivors of the measured modules, and of the mutants that survived
    before a test was written for them, each with its change and its review (``reviewed.py``)."""
    rows = ["| mutant | change | now | review |", "|---|---|---|---|"]
    listed = set(KILLED_BY) | set(EQUIVALENT)
    for module in MODULES:
        path = results / f"{module}.json"
        if not path.exists() or score(json.loads(path.read_text())["counts"]) is None:
            continue
        survivors = json.loads(path.read_text())["survivors"]
        codes = exit_codes(workdir, module)
        for name in sorted(set(survivors) | {n for n in listed if n.startswith(f"{module}.x")}):
            status = STATUS.get(codes.get(name), "suspicious") if name in codes else "gone (code changed)"
            diff = survivors[name] if name in survivors else show(workdir, name)
            rows.append(f"| `{module}`: {short_name(module, name)} | {one_line(diff)} | {status} | "
                        f"{verdict(name, status)} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help=f"modules to run (default: all of {', '.join(MODULES)})")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "jaxgan-mutation")
    parser.add_argument("--force", action="store_true", help="run modules that already have a result")
    parser.add_argument("--survivors", action="store_true", help="re-run only the modules' last survivors")
    parser.add_argument("--listed", action="store_true",
                        help="run only the mutants reviewed in reviewed.py that have no result (their function changed)")
    parser.add_argument("--sample", type=int, default=0,
                        help="run at most this many of a module's mutants not run yet, drawn at random")
    parser.add_argument("--restat", action="store_true",
                        help="record again which tests reach which function (after the code changed)")
    parser.add_argument("--children", type=int, default=1, help="test processes at a time (default 1)")
    parser.add_argument("--reviewed", action="store_true", help="print the table of the reviewed survivors and stop")
    parser.add_argument("--report", action="store_true", help="print the table of the results and stop")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.modules) - set(MODULES))
    if unknown:
        print(f"error: unknown module(s) {unknown}; choose from {list(MODULES)}", file=sys.stderr)
        return 2
    if shutil.which("mutmut") is None:
        print("error: mutmut is not installed; run `pip install -e .[mutation]`", file=sys.stderr)
        return 2
    results = args.workdir / "results"
    if args.report:
        print(report(results))
        return 0
    if args.reviewed:
        print(reviewed(args.workdir, results))
        return 0
    command = " ".join(["python -m tests.mutation", *(argv if argv is not None else sys.argv[1:])])
    at_commit = commit()  # of the code and tests copied now
    copy_repository(args.workdir)
    if args.restat:  # mutmut records it again, for every test, on its next run
        (args.workdir / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    generate_mutants(args.workdir)
    results.mkdir(exist_ok=True)
    for module in args.modules or MODULES:
        done = results / f"{module}.json"
        if args.survivors:
            codes = exit_codes(args.workdir, module)
            names = sorted(k for k, v in codes.items() if STATUS.get(v) in (SURVIVED, NO_TESTS))
            if not names:
                continue
        elif args.listed:
            codes = exit_codes(args.workdir, module)
            names = sorted(k for k, v in codes.items() if v is None and (k in KILLED_BY or k in EQUIVALENT))
            if not names:
                continue
        elif args.force:
            names = [mutant_glob(module)]
        else:
            codes = exit_codes(args.workdir, module)
            names = [k for k, v in codes.items() if v is None] if codes else [mutant_glob(module)]
            if not names and done.exists():
                continue
            if args.sample and codes and len(names) > args.sample:  # the same draw for the same mutants
                names = sorted(random.Random(0).sample(sorted(names), args.sample))
        summary = run_module(args.workdir, module, names, results, command, args.children, at_commit)
        seconds = summary["last_run"]["wall_s"]
        print(f"{module}: {summary['counts']} score {summary['score']}% in {seconds} s", flush=True)
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
