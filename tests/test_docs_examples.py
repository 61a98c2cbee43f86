"""Every Python code block of the README and of docs/guide.md runs, as the reader would run it.

The blocks of one file run in order as one program, in a fresh process (the guide's with four CPU
devices, so that its several-devices section splits the work), in a temporary directory."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text())


@pytest.mark.parametrize("doc,devices,expected", [
    ("README.md", 1, []),
    ("docs/guide.md", 4, ["bit-identical: True", "4 device(s):"]),
])
def test_the_code_blocks_of_the_docs_run(doc, devices, expected, tmp_path):
    blocks = python_blocks(ROOT / doc)
    assert blocks, f"{doc} has no python code block"
    program = tmp_path / "program.py"
    program.write_text("\n\n".join(blocks))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg",
           "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
    out = subprocess.run([sys.executable, str(program)], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, f"{doc}:\n{out.stderr[-3000:]}"
    for text in expected:
        assert text in out.stdout, out.stdout
    if doc == "docs/guide.md":  # the guide's claim: the moons GAN's samples lie on the moons
        distance = float(re.search(r"nearest data point: ([0-9.]+)", out.stdout).group(1))
        assert distance < 0.05, out.stdout


def test_the_guide_covers_the_tasks_in_order():
    headings = re.findall(r"^## \d\. (.*)$", (ROOT / "docs/guide.md").read_text(), re.M)
    assert [h.split(",")[0].split(" ")[0] for h in headings] == ["The", "The", "Your", "Losses", "Saving", "Several"]
