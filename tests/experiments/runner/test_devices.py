"""The experiments' device flags (``experiments.runner.devices``): defaults, and mistakes as one-line user errors."""

import argparse

import pytest


def _device_args(argv):
    from experiments.runner import Parser, add_device_args

    parser = Parser(prog="test")
    parser.add_argument("--batch-size", type=int, default=8)
    add_device_args(parser)
    return parser.parse_args(argv)


def test_setup_devices_defaults_to_all_devices_and_strips_process_flags():
    import jax

    from experiments.runner import setup_devices

    args = _device_args([])
    assert setup_devices(args, global_batch=args.batch_size) == jax.device_count()
    assert vars(args) == {"batch_size": 8, "devices": jax.device_count()}


def test_device_flag_mistakes_are_user_errors():
    from experiments.runner import UserError, check_splits_evenly, setup_devices

    with pytest.raises(UserError, match=r"--batch-size 30 does not split evenly over 8 devices"):
        check_splits_evenly(30, 8, "--batch-size")
    check_splits_evenly(32, 8, "--batch-size")
    with pytest.raises(UserError, match="only 1 device"):
        setup_devices(_device_args(["--devices", "2"]))
    with pytest.raises(UserError, match="must be given together"):
        setup_devices(_device_args(["--coordinator", "localhost:1234"]))
    with pytest.raises(UserError, match="smaller than --num-processes"):
        setup_devices(_device_args(["--coordinator", "h:1", "--num-processes", "2", "--process-id", "2"]))
    assert isinstance(_device_args(["--devices", "4"]), argparse.Namespace)
