"""tf.distribute across 2 processes on a local Ray cluster (gloo all-reduce).

Ray starts once for the module (2 CPUs, 2 workers at most) and stops at the end.
References are one process training on the global batch, computed here."""

import os
import sys

import pytest

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'webtensor[distribute]')")
pytest.importorskip("torch.distributed", reason="torch is not installed (the gloo collective)")
np = pytest.importorskip("numpy")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _workers  # noqa: E402

import webtensor as tf  # noqa: E402
from webtensor.distribute import ray_runner  # noqa: E402

pytestmark = [pytest.mark.native, pytest.mark.timeout(300)]


@pytest.fixture(scope="module", autouse=True)
def cluster():
    here = os.path.dirname(os.path.abspath(__file__))  # the workers import _workers from here
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=100 * 1024 * 1024,
        log_to_driver=False,
        configure_logging=False,
        runtime_env={"env_vars": {"PYTHONPATH": path}},
    )
    yield
    ray.shutdown()


def single_process(epochs=1):
    x, y = _workers.digits()
    model = _workers.mlp()
    _workers.compile_mlp(model)
    hist = model.fit(x, y, batch_size=64, epochs=epochs, shuffle=False, verbose=0)
    return model, hist


def test_run_reduce_gather_datasets_by_hand():
    r0, r1 = ray_runner.run(_workers.api, num_workers=2)
    for rank, r in enumerate((r0, r1)):
        assert r["rank"] == rank and r["replicas"] == 2 and r["chief"] == (rank == 0)
        assert r["sum"] == 3.0 and r["mean"] == 1.5  # 1 + 2, over 2 replicas
        assert r["sum_axis0"] == 5.0  # [1] + [2, 2]
        assert r["mean_axis0"] == pytest.approx(5.0 / 3.0)  # over 3 elements
        assert r["gather"] == [1.0, 2.0, 2.0]
        assert r["replica_id"] == rank
        assert r["all_reduce_in_run"] == 30.0  # 10 + 20
        assert r["variable"] == [0.0, 0.5]  # rank 0's initial value on both
        assert r["contexts"] == [(2, rank, 2)]
    assert r0["batches"] == [[0, 1], [4, 5], [8]] and r1["batches"] == [[2, 3], [6, 7], [9]]
    assert r0["from_function"] == [[0, 2], [4]] and r1["from_function"] == [[1, 3], [5]]
    # the custom loop equals one process taking SGD steps on the global batches of 32
    x, y = _workers.digits(64)
    model = _workers.mlp()
    opt = tf.keras.optimizers.SGD(0.5)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    losses = []
    for i in range(0, 64, 32):
        with tf.GradientTape() as tape:
            loss = loss_fn(y[i : i + 32], model(x[i : i + 32], training=True))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        losses.append(float(loss))
    for r in (r0, r1):
        np.testing.assert_allclose(r["custom_loop"]["losses"], losses, rtol=1e-5)
        for got, want in zip(r["custom_loop"]["weights"], model.get_weights()):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_two_workers_train_like_one_process_on_the_global_batch():
    r0, r1 = ray_runner.run(_workers.train_mlp, num_workers=2)
    model, hist = single_process()
    for r in (r0, r1):
        for got, want in zip(r["weights"], model.get_weights()):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(r["loss"], hist.history["loss"], rtol=1e-5)
    x, y = _workers.digits()
    ev = model.evaluate(x, y, batch_size=100, verbose=0)  # metrics reduced over both workers
    np.testing.assert_allclose(r0["evaluate"], ev, rtol=1e-5)
    np.testing.assert_allclose(r1["evaluate"], ev, rtol=1e-5)
    np.testing.assert_allclose(r0["predict"], model.predict(x[:70], batch_size=32, verbose=0), rtol=1e-4, atol=1e-5)
    # bucketed: one all-reduce per step for all 4 variables; besides those, the fit made one
    # broadcast (first step), one data check (an all-gather: 2 calls) and one metrics reduction
    assert r0["n_variables"] == 4
    assert r0["grad_calls"] == r0["steps"] + 4 < r0["steps"] * r0["n_variables"]
    # float16 compression: about 3 digits per gradient element; half the float32 bytes on the wire
    for got, want in zip(r0["fp16_weights"], model.get_weights()):
        np.testing.assert_allclose(got, want, atol=2e-2)
    grad_bytes = 2 * sum(w.size for w in model.get_weights()) * r0["steps"]
    assert grad_bytes <= r0["fp16_bytes"] < grad_bytes + 64


def test_fit_on_distributed_datasets_trains_like_one_process():
    r0, r1 = ray_runner.run(_workers.fit_distributed_datasets, num_workers=2)
    model, hist = single_process()
    for r in (r0, r1):
        for name in ("global", "own"):
            for got, want in zip(r[name]["weights"], model.get_weights()):
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(r[name]["loss"], hist.history["loss"], rtol=1e-5)


def test_sigkill_mid_epoch_resumes_from_backup_with_the_same_weights(tmp_path):
    backup, ckpt = str(tmp_path / "backup"), str(tmp_path / "ckpt")
    r0, r1 = ray_runner.run(_workers.train_with_backup, args=(backup, ckpt), num_workers=2, max_restarts=1)
    assert r0["attempt"] == r1["attempt"] == 1  # the group was restarted once
    assert r0["epochs"] == r1["epochs"] == [1, 2]  # and resumed after epoch 0's backup
    model, _ = single_process(epochs=3)
    for r in (r0, r1):
        for got, want in zip(r["weights"], model.get_weights()):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    files = sorted(os.listdir(ckpt))
    assert files and all(f.startswith("rank0-") for f in files)  # ModelCheckpoint: the chief only


def test_a_worker_that_cannot_be_restarted_is_named(tmp_path):
    with pytest.raises(ray_runner.WorkerFailedError, match=r"worker rank 1 \(pid \d+\) died .*restarted 0 times"):
        ray_runner.run(
            _workers.train_with_backup,
            args=(str(tmp_path / "b"), str(tmp_path / "c")),
            kwargs={"kill_at": (0, 1), "always": True},
            num_workers=2,
            max_restarts=0,
        )


def test_collective_timeout_names_the_worker_and_the_step():
    r0, r1 = ray_runner.run(_workers.timeout_step, num_workers=2)
    assert r1 == "rank 1 stayed out"
    assert r0["error"] is not None
    assert "rank 0 of 2" in r0["error"] and "at step 5" in r0["error"] and "all_reduce" in r0["error"]
    assert "within 2s" in r0["error"] and "[1]" in r0["error"]


def test_launcher_streams_each_rank_and_returns_the_chief_exit_code(tmp_path):
    import subprocess

    script = tmp_path / "train.py"
    script.write_text(
        "import sys\nimport webtensor as tf\n"
        "s = tf.distribute.MultiWorkerMirroredStrategy()\n"
        "total = s.reduce('SUM', tf.constant(float(s.cluster_resolver.task_id + 1)), axis=None)\n"
        "print(f'hello from rank {s.cluster_resolver.task_id}: total {float(total)} args {sys.argv[1:]}')\n"
        "sys.exit(3 if s.cluster_resolver.task_id == 0 else 0)\n"
    )
    address = ray.get_runtime_context().gcs_address  # join this module's cluster
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "webtensor.distribute",
            "run",
            "--num-workers",
            "2",
            "--address",
            address,
            str(script),
            "--lr",
            "0.1",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    text = out.stdout + out.stderr
    assert out.returncode == 3, text
    for rank in (0, 1):
        assert f"rank={rank}" in text and f"hello from rank {rank}: total 3.0 args ['--lr', '0.1']" in text, text


def test_fit_arrays_sharded_predict_distributed_and_overlapped_all_reduce():
    r0, r1 = ray_runner.run(_workers.shard_predict_overlap, num_workers=2)
    x, y = _workers.digits()
    model = _workers.mlp()
    _workers.compile_mlp(model)
    hist = model.fit(
        x[:500], y[:500], batch_size=63, epochs=2, shuffle=True, validation_data=(x[500:], y[500:]), verbose=0
    )
    for r in (r0, r1):
        for got, want in zip(r["sharded"]["weights"], model.get_weights()):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
        assert sorted(r["sharded"]["history"]) == sorted(hist.history)
        for k, v in hist.history.items():
            np.testing.assert_allclose(r["sharded"]["history"][k], v, rtol=1e-4, atol=1e-6)
        want = model.predict(x[:70], verbose=0)
        np.testing.assert_allclose(r["predict_global"], want, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(r["predict_own"], want, rtol=1e-4, atol=1e-5)
    reference, _ = single_process()  # 8 steps on global batches of 64
    for r in (r0, r1):
        for overlap in (True, False):
            for got, want in zip(r[f"overlap={overlap}"]["weights"], reference.get_weights()):
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
        # 3 buckets a step (bytes_per_pack=1400 over 40 + 1280 | 128 | 8192 bytes of gradients):
        # overlapped they all start inside tape.gradient, otherwise after it returns; the fit's
        # first all-reduce is the data check's, its last the metrics'
        step_on, step_off = ["start"] * 3 + ["returned"], ["returned"] + ["start"] * 3
        assert r["overlap=True"]["log"] == ["start"] + step_on * 8 + ["start"]
        assert r["overlap=False"]["log"] == ["start"] + step_off * 8 + ["start"]
