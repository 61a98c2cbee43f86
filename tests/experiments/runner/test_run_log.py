"""``RunLog``: the run's ``metrics.jsonl`` holds each chunk's records when the chunk's callback returns."""

import numpy as np

from experiments.runner import RunLog
from jaxgan.metric_writers import read_metrics


def test_each_chunks_records_are_in_the_file_when_its_callback_returns(tmp_path):
    log = RunLog(tmp_path, every=10, hparams={"steps": 40})
    log_chunk = log.callback()
    path = tmp_path / "metrics.jsonl"
    for end in (20, 40):  # chunks of 20 steps, loss = the step
        log_chunk(end, None, {"loss": np.arange(end - 19, end + 1, dtype=np.float32)})
        # on disk before the lifecycle saves the chunk's checkpoint: a run killed now resumes without a gap
        assert [r["step"] for r in read_metrics(path)] == list(range(10, end + 1, 10))
    assert [r["loss"] for r in read_metrics(path)] == [5.5, 15.5, 25.5, 35.5]
    log.close()
