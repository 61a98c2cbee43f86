"""``python -m experiments.bench.conv_layers``: it times every convolution layer of the model."""

import pytest


@pytest.mark.slow  # a benchmark tool's smoke run: it compiles many programs
@pytest.mark.parametrize("model", ["cyclegan", "dcgan"])
def test_layer_timing_script_times_every_layer(capsys, model):
    from experiments.bench.conv_layers import layer_shapes, main

    main(["--model", model, "--image-size", "16", "--batch-size", "1", "--tiles", "2", "--repeats", "1"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 + len(layer_shapes(model, 16, 1))
    assert all(len(line.split()) >= 5 and float(line.split()[-1]) > 0 for line in lines[1:])
