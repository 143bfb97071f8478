"""MultiWorkerMirroredStrategy from TF_CONFIG alone (no Ray): two processes on this machine."""

import json
import os
import socket
import subprocess
import sys

import pytest

pytest.importorskip("torch.distributed", reason="torch is not installed (the gloo collective)")

pytestmark = [pytest.mark.native, pytest.mark.timeout(180)]

SCRIPT = """
import webtensor as tf
s = tf.distribute.MultiWorkerMirroredStrategy()
r = s.cluster_resolver
total = s.reduce("SUM", tf.constant(float(r.task_id + 1) if r.task_type == "worker" else 10.0), axis=None)
print(r.task_type, r.task_id, s.num_replicas_in_sync, float(total), s.extended.should_checkpoint)
"""


def test_chief_and_worker_from_tf_config(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cluster = {"chief": [f"127.0.0.1:{port}"], "worker": ["127.0.0.1:1"]}  # the chief's port hosts the store
    script = tmp_path / "w.py"
    script.write_text(SCRIPT)
    procs = []
    for task in ({"type": "chief", "index": 0}, {"type": "worker", "index": 0}):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": task}), WEBTENSOR_DIST_TIMEOUT="60")
        procs.append(
            subprocess.Popen(
                [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        )
    outs = [p.communicate(timeout=150)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert outs[0].strip().splitlines()[-1] == "chief 0 2 11.0 True"  # 10 + 1, chief is rank 0
    assert outs[1].strip().splitlines()[-1] == "worker 0 2 11.0 False"
