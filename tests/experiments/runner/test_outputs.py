"""What a run records about its machine: ``host_description``, the host CPU beside the devices."""

import os
import platform

from experiments.runner import host_description

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

ZEN4 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 9654 96-Core Processor
flags\t\t: fpu sse sse2 avx avx2 fma avx512f avx512bw avx512vl
processor\t: 1
model name\t: a second line that must not be read
"""


def test_the_model_name_cores_and_widest_vector_extension_of_the_first_processor():
    assert host_description(ZEN4) == f"AMD EPYC 9654 96-Core Processor, {CORES} cores, AVX-512"
    avx2_only = ZEN4.replace(" avx512f avx512bw avx512vl", "")
    assert host_description(avx2_only) == f"AMD EPYC 9654 96-Core Processor, {CORES} cores, AVX2"
    assert host_description(avx2_only.replace(" avx2", "")).endswith(f"{CORES} cores, AVX")


def test_a_host_without_model_name_or_x86_flags_is_named_by_its_platform():
    arm = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd sve\nCPU implementer\t: 0x41\n"
    name = platform.processor() or platform.machine() or "unknown CPU"
    assert host_description(arm) == f"{name}, {CORES} cores"
    assert host_description("") == f"{name}, {CORES} cores"


def test_this_machine_is_described_from_its_own_cpuinfo():
    try:
        text = open("/proc/cpuinfo").read()
    except OSError:
        text = ""
    assert host_description() == host_description(text)
    assert f"{CORES} cores" in host_description()
