"""A class-conditional GAN trains data-parallel: ``(images, labels)`` batches split over 2 virtual
CPU devices give the one-device run (in a subprocess, which sees the 2 devices)."""

import json
import subprocess
import sys
from pathlib import Path

from tests.device_env import ROOT, device_env

CHECK = Path(__file__).with_name("conditional_sharding_check.py")


def test_conditional_gan_on_two_devices_equals_one_device():
    proc = subprocess.run([sys.executable, str(CHECK)], env=device_env(2), cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    facts = json.loads(proc.stdout.strip().splitlines()[-1])
    assert facts["devices"] == 2 and facts["replicated"]
    assert facts["g_moved"] > 1e-3  # training happened
    assert facts["max_diff"] < 1e-5
