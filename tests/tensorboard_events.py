"""TensorBoard event files read back with TensorBoard's own reader (tests skip where it is absent)."""

import pytest


def read_events(logdir):
    """TensorBoard's ``EventAccumulator`` of ``logdir``, loaded, keeping every scalar and image."""
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    acc = event_accumulator.EventAccumulator(str(logdir), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def logged_hparams(acc) -> dict:
    """``name -> value`` of the hyperparameters TensorBoard's HParams plugin finds in ``acc``."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    metadata = acc.SummaryMetadata("_hparams_/session_start_info")
    data = plugin_data_pb2.HParamsPluginData.FromString(metadata.plugin_data.content)
    values = {}
    for name, value in data.session_start_info.hparams.items():
        values[name] = getattr(value, value.WhichOneof("kind"))
    return values
