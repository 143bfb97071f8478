"""tf.distribute in one process: contexts, MirroredStrategy over 2 CPU replicas, datasets,
TF_CONFIG, BackupAndRestore. Values are derived by hand."""

import json

import pytest

import webtensor as tf

D = tf.distribute


def two_cpus():
    return D.MirroredStrategy(["/cpu:0", "/cpu:1"])


def test_contexts_outside_in_scope_and_in_run():
    assert not D.has_strategy() and not D.in_cross_replica_context()
    assert D.get_replica_context() is not None and D.get_replica_context().num_replicas_in_sync == 1
    s = two_cpus()
    with s.scope():
        assert D.has_strategy() and D.get_strategy() is s
        assert D.in_cross_replica_context() and D.get_replica_context() is None
        seen = s.run(lambda: (D.in_cross_replica_context(), D.get_replica_context().replica_id_in_sync_group))
    assert s.experimental_local_results(seen) == ((False, 0), (False, 1))
    assert not D.has_strategy() and D.get_strategy() is not s
    assert s.num_replicas_in_sync == 2


def test_run_reduce_gather_by_hand():
    s = two_cpus()
    ds = tf.data.Dataset.from_tensor_slices(tf.range(10.0)).batch(5)
    batches = list(s.experimental_distribute_dataset(ds))  # 5 rows -> replicas of 3 and 2
    assert [[p.numpy().tolist() for p in b.values] for b in batches] == [[[0, 1, 2], [3, 4]], [[5, 6, 7], [8, 9]]]
    per = s.run(lambda x: x * float(D.get_replica_context().replica_id_in_sync_group + 1), args=(batches[0],))
    # replica 0: [0, 1, 2]; replica 1: [6, 8]
    assert float(s.reduce(D.ReduceOp.SUM, per, axis=0)) == 17.0
    assert float(s.reduce("MEAN", per, axis=0)) == pytest.approx(17.0 / 5)
    assert s.gather(per, axis=0).numpy().tolist() == [0, 1, 2, 6, 8]
    scalars = s.run(lambda: tf.constant(float(D.get_replica_context().replica_id_in_sync_group) + 1.0))
    assert float(s.reduce("SUM", scalars, axis=None)) == 3.0 and float(s.reduce("MEAN", scalars, None)) == 1.5
    nested = s.run(lambda: {"a": tf.constant(1.0), "b": (tf.constant([2.0]),)})
    red = s.reduce("SUM", nested, axis=None)
    assert float(red["a"]) == 2.0 and red["b"][0].numpy().tolist() == [4.0]


def test_reduce_rules_and_errors():
    s = two_cpus()
    assert float(s.reduce("MEAN", tf.constant(4.0), axis=None)) == 4.0  # a plain value is mirrored
    with pytest.raises(ValueError, match="non-DistributedValues"):
        s.reduce("SUM", tf.constant(4.0), axis=None)
    with pytest.raises(ValueError, match="ReduceOp"):
        s.reduce("max", tf.constant(1.0), axis=None)
    with pytest.raises(RuntimeError, match="cross-replica"):
        s.run(lambda: s.reduce("SUM", tf.constant(1.0), axis=None))
    with s.scope(), pytest.raises(RuntimeError, match="Mixing different"):
        with D.OneDeviceStrategy("/cpu:0").scope():
            pass
    with pytest.raises(ValueError, match="duplicated"):
        D.MirroredStrategy(["/cpu:0", "/CPU:0"])


def test_one_replica_strategies_return_plain_values():
    for s in (D.OneDeviceStrategy("/cpu:0"), D.MirroredStrategy(["/cpu:0"]), D.MultiWorkerMirroredStrategy()):
        assert s.num_replicas_in_sync == 1
        out = s.run(lambda x: x + 1.0, args=(tf.constant(2.0),))
        assert isinstance(out, tf.Tensor) and float(out) == 3.0
        assert float(s.reduce("SUM", out, axis=None)) == 3.0
        assert float(s.run(lambda: D.get_replica_context().all_reduce("SUM", tf.constant(5.0)))) == 5.0
        assert s.extended.should_checkpoint


def test_distribute_datasets_from_function_gets_its_input_context():
    s = two_cpus()
    seen = []

    def fn(ctx):
        seen.append((ctx.num_input_pipelines, ctx.input_pipeline_id, ctx.num_replicas_in_sync))
        return tf.data.Dataset.range(8).batch(ctx.get_per_replica_batch_size(4))

    out = [[p.numpy().tolist() for p in b.values] for b in s.distribute_datasets_from_function(fn)]
    assert seen == [(1, 0, 2)]
    assert out == [[[0, 1], [2, 3]], [[4, 5], [6, 7]]]  # consecutive batches per replica
    with pytest.raises(ValueError, match="not divisible"):
        D.InputContext(1, 0, 2).get_per_replica_batch_size(5)


def test_tf_config_cluster_resolver(monkeypatch):
    cfg = {
        "cluster": {"chief": ["host0:2222"], "worker": ["host1:2222", "host2:2222"]},
        "task": {"type": "worker", "index": 1},
        "rpc_layer": "grpc",
    }
    monkeypatch.setenv("TF_CONFIG", json.dumps(cfg))
    r = D.cluster_resolver.TFConfigClusterResolver()
    assert r.task_type == "worker" and r.task_id == 1 and r.rpc_layer == "grpc"
    assert r.cluster_spec().as_dict() == cfg["cluster"] and r.cluster_spec().num_tasks("worker") == 2
    assert r.master() == "grpc://host2:2222"
    assert r.rank_and_world() == (2, 3, "host0:2222")  # the chief is rank 0
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        r.cluster_spec()
    monkeypatch.delenv("TF_CONFIG")
    assert D.MultiWorkerMirroredStrategy().num_replicas_in_sync == 1  # no cluster: one worker, as TF


def test_variables_and_fit_under_a_one_process_strategy():
    s = D.MirroredStrategy(["/cpu:0"])
    with s.scope():
        v = tf.Variable(3.0)
        model = tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(1)])
        model.compile("sgd", "mse")
    assert float(v.numpy()) == 3.0 and model._distribute_strategy is s
    import numpy as np

    model.fit(np.ones((4, 2), np.float32), np.ones((4, 1), np.float32), epochs=1, verbose=0)


@pytest.mark.native
def test_backup_and_restore_resumes_with_weights_and_optimizer_state(tmp_path):
    np = pytest.importorskip("numpy")
    rng = np.random.RandomState(0)
    x, y = rng.rand(64, 3).astype("float32"), rng.rand(64, 1).astype("float32")

    def make():
        tf.random.set_seed(3)
        m = tf.keras.Sequential(
            [tf.keras.Input(shape=(3,)), tf.keras.layers.Dense(4, activation="tanh"), tf.keras.layers.Dense(1)]
        )
        m.compile(tf.keras.optimizers.Adam(0.05), "mse")
        return m

    ref = make()
    ref.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0)

    class Crash(tf.keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epochs = []

        def on_epoch_begin(self, epoch, logs=None):
            self.epochs.append(epoch)

        def on_train_batch_end(self, batch, logs=None):
            if self.epochs[-1] == 2 and batch == 1 and self.armed:
                raise KeyboardInterrupt("simulated crash")

    backup = str(tmp_path / "backup")
    crash = Crash()
    crash.armed = True
    with pytest.raises(KeyboardInterrupt):
        make().fit(
            x,
            y,
            batch_size=16,
            epochs=4,
            shuffle=False,
            verbose=0,
            callbacks=[tf.keras.callbacks.BackupAndRestore(backup), crash],
        )
    crash.armed, crash.epochs = False, []
    resumed = make()
    resumed.fit(
        x,
        y,
        batch_size=16,
        epochs=4,
        shuffle=False,
        verbose=0,
        callbacks=[tf.keras.callbacks.BackupAndRestore(backup), crash],
    )
    assert crash.epochs == [2, 3]  # resumed after the last finished epoch
    for got, want in zip(resumed.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    import os

    assert not os.path.exists(backup)  # deleted at the end (delete_checkpoint)
    with pytest.raises(ValueError, match="save_freq"):
        tf.keras.callbacks.BackupAndRestore(backup, save_freq=0)


def test_compute_average_loss_and_apply_in_run():
    s = two_cpus()
    per_example = tf.constant([1.0, 2.0, 3.0])
    assert float(tf.nn.compute_average_loss(per_example, global_batch_size=6)) == 1.0
    assert float(tf.nn.compute_average_loss(per_example, sample_weight=[1.0, 0.0, 1.0], global_batch_size=4)) == 1.0
    with s.scope():
        assert float(tf.nn.compute_average_loss(per_example)) == 1.0  # 3 rows x 2 replicas
        assert float(tf.nn.scale_regularization_loss(tf.constant(4.0))) == 2.0
        v = tf.Variable(1.0)
        opt = tf.keras.optimizers.SGD(0.1)
    s.run(lambda: opt.apply_gradients([(tf.constant(1.0), v)]))  # 1 + 1 summed over the 2 replicas
    assert float(v.numpy()) == pytest.approx(0.8)
    one = D.OneDeviceStrategy("/cpu:0")
    one.run(lambda: opt.apply_gradients([(tf.constant(1.0), v)]))  # one replica: a plain step
    assert float(v.numpy()) == pytest.approx(0.7)


def _quadratic_step(s, v, opt):
    """Per-example loss (x v)^2 averaged over the global batch of 4: d/dv = sum(2 x^2 v) / 4."""

    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.nn.compute_average_loss(tf.square(x * v), global_batch_size=4)
        opt.apply_gradients(zip(tape.gradient(loss, [v]), [v]))
        return loss

    return step


@pytest.mark.parametrize("compiled", [False, True])
def test_mirrored_two_replicas_apply_gradients_in_run(compiled):
    """Replica 0 gets rows [1, 2], replica 1 rows [3, 4]; both take their gradient at the same v and the
    update uses the sum: at v=1 the gradient is 2 * 30 / 4 = 15, so v = 1 - 0.1 * 15 = -0.5; then the
    gradient is 15 * -0.5 = -7.5 and v = -0.5 + 0.75 = 0.25. Had replica 1 seen replica 0's update the
    values would differ."""
    s = two_cpus()
    with s.scope():
        v = tf.Variable(1.0)
        opt = tf.keras.optimizers.SGD(0.1)
    ds = tf.data.Dataset.from_tensor_slices([1.0, 2.0, 3.0, 4.0]).batch(4).repeat(2)
    dist = iter(s.experimental_distribute_dataset(ds))
    step = _quadratic_step(s, v, opt)
    run = lambda x: s.reduce("SUM", s.run(step, args=(x,)), axis=None)  # the mean loss before the step
    if compiled:
        run = tf.function(run)
    expected = [-0.5, 0.25]
    for want, batch in zip(expected, [next(dist), next(dist)]):
        assert [list(p.numpy()) for p in s.experimental_local_results(batch)] == [[1.0, 2.0], [3.0, 4.0]]
        total = run(batch)
        assert float(v.numpy()) == pytest.approx(want)
        before = 1.0 if want == -0.5 else -0.5
        assert float(total) == pytest.approx(30.0 * before**2 / 4)
    assert int(opt.iterations.numpy()) == 2  # one update per step, not per replica


def test_mirrored_replicas_must_each_apply_once():
    s = two_cpus()
    with s.scope():
        v = tf.Variable(1.0)
        opt = tf.keras.optimizers.SGD(0.1)

    def only_replica_1():
        if D.get_replica_context().replica_id_in_sync_group == 1:
            opt.apply_gradients([(tf.constant(1.0), v)])

    with pytest.raises(RuntimeError, match="local replica 1"):
        s.run(only_replica_1)
    assert float(v.numpy()) == 1.0


@pytest.mark.native
def test_backup_double_checkpoint_falls_back_to_the_previous_file(tmp_path):
    np = pytest.importorskip("numpy")
    import os

    x, y = np.ones((8, 2), "float32"), np.zeros((8, 1), "float32")
    m = tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(1)])
    m.compile("sgd", "mse")
    backup = str(tmp_path / "b")
    m.fit(
        x,
        y,
        epochs=2,
        verbose=0,
        callbacks=[tf.keras.callbacks.BackupAndRestore(backup, double_checkpoint=True, delete_checkpoint=False)],
    )
    assert sorted(os.listdir(backup)) == ["latest.safetensors", "previous.safetensors"]
    with open(os.path.join(backup, "latest.safetensors"), "wb") as f:
        f.write(b"not a checkpoint")
    seen = []
    m.fit(
        x,
        y,
        epochs=3,
        verbose=0,
        callbacks=[
            tf.keras.callbacks.BackupAndRestore(backup, double_checkpoint=True),
            tf.keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(e)),
        ],
    )
    assert seen == [1, 2]  # previous (after epoch 1) was used


@pytest.mark.skipif(not tf.config.list_logical_devices("GPU"), reason="no GPU backend on this machine")
def test_mirrored_strategy_defaults_to_the_gpu():
    s = D.MirroredStrategy()
    assert s.extended.worker_devices[0].endswith("GPU:0") and s.num_replicas_in_sync == 1
    with s.scope():
        v = tf.Variable([1.0, 2.0])
    assert v._be.name == "gpu"  # created on the replica's device
    out = s.run(lambda x: x * 2.0, args=(v.value(),))
    assert float(s.reduce("SUM", out, axis=0)) == 6.0


def _linear_fit(s, data_of):
    """Dense(1, no bias, w=1), mse to 0, SGD(0.1), one epoch of one global batch x = [1, 2, 3, 4]:
    d/dw mean((w x)^2) = 2 w mean(x^2) = 2 * 7.5 = 15, so w = 1 - 1.5 = -0.5, and evaluate at w = -0.5
    gives mean(0.25 x^2) = 1.875."""
    with s.scope():
        model = tf.keras.Sequential(
            [tf.keras.Input((1,)), tf.keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")]
        )
        model.compile(tf.keras.optimizers.SGD(0.1), "mse")
    model.fit(data_of(s), epochs=1, verbose=0)
    assert float(model.layers[0].kernel.numpy()[0, 0]) == pytest.approx(-0.5)
    assert float(model.evaluate(data_of(s), verbose=0)) == pytest.approx(1.875)


def _xy():
    return tf.constant([[1.0], [2.0], [3.0], [4.0]]), tf.constant([[0.0]] * 4)


def test_fit_on_experimental_distribute_dataset():
    _linear_fit(
        two_cpus(), lambda s: s.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(_xy()).batch(4))
    )


def test_fit_on_distribute_datasets_from_function():
    def fn(ctx):
        assert ctx.num_replicas_in_sync == 2
        return tf.data.Dataset.from_tensor_slices(_xy()).batch(ctx.get_per_replica_batch_size(4))

    _linear_fit(two_cpus(), lambda s: s.distribute_datasets_from_function(fn))


def test_fit_on_a_dataset_of_another_strategy_is_refused():
    s, other = two_cpus(), two_cpus()
    with s.scope():
        model = tf.keras.Sequential([tf.keras.Input((1,)), tf.keras.layers.Dense(1)])
        model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="same strategy"):
        model.fit(other.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(_xy()).batch(4)), verbose=0)


def test_predict_on_distributed_datasets_concatenates_replicas_in_order():
    """Dense(1) with kernel [[1], [10]] and bias 0.5: row [a, b] -> a + 10 b + 0.5, by hand; 6 rows in
    global batches of 4 (replicas get 2 + 2, then 1 + 1) and per-replica batches of 2 (3 of them:
    the two replicas' batches concatenated per step, the unpaired third dropped as in fit)."""
    np = pytest.importorskip("numpy")
    x = np.arange(12, dtype="float32").reshape(6, 2)
    want = x[:, :1] + 10 * x[:, 1:] + 0.5
    s = two_cpus()
    with s.scope():
        model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
        model.compile("sgd", "mse")
    model.set_weights([np.array([[1.0], [10.0]], "float32"), np.array([0.5], "float32")])
    ds = tf.data.Dataset.from_tensor_slices(x).batch(4)
    np.testing.assert_allclose(model.predict(s.experimental_distribute_dataset(ds), verbose=0), want)
    per_replica = s.distribute_datasets_from_function(lambda ctx: tf.data.Dataset.from_tensor_slices(x).batch(2))
    np.testing.assert_allclose(model.predict(per_replica, verbose=0), want[:4])
    fresh = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])  # never compiled
    fresh.set_weights(model.get_weights())
    np.testing.assert_allclose(fresh.predict(s.experimental_distribute_dataset(ds), verbose=0), want)


def test_replica_context_all_reduce_with_two_local_replicas():
    """Replica r holds (r + 1) * [1, 2]: SUM = [3, 6], MEAN = [1.5, 3]; every replica gets the total
    and continues with it (here: adds its own id), so run returns [3, 6] and [4, 7]."""
    s = two_cpus()

    def fn():
        ctx = D.get_replica_context()
        r = ctx.replica_id_in_sync_group
        mine = tf.constant([1.0, 2.0]) * float(r + 1)
        total = ctx.all_reduce("SUM", mine)
        mean = ctx.all_reduce(D.ReduceOp.MEAN, {"m": mine})["m"]
        assert D.get_replica_context() is ctx  # each replica keeps its own context across the meeting
        gathered = ctx.all_gather(tf.reshape(mine, [1, 2]), axis=0)
        return total + float(r), mean, gathered

    with s.scope():
        per_replica = s.experimental_local_results(s.run(fn))
    assert [[t.numpy().tolist() for t in r] for r in per_replica] == [
        [[3.0, 6.0], [1.5, 3.0], [[1.0, 2.0], [2.0, 4.0]]],
        [[4.0, 7.0], [1.5, 3.0], [[1.0, 2.0], [2.0, 4.0]]],
    ]


def test_replica_context_all_reduce_with_two_local_replicas_in_a_tf_function():
    """The same meeting while tracing: 2 * 1 + 2 * 2 = 6 for the input 2."""
    s = two_cpus()

    @tf.function
    def step(x):
        def fn(x):
            r = float(D.get_replica_context().replica_id_in_sync_group)
            return D.get_replica_context().all_reduce("SUM", x * (r + 1.0))

        return s.experimental_local_results(s.run(fn, args=(x,)))

    assert [float(t) for t in step(tf.constant(2.0))] == [6.0, 6.0]
    assert [float(t) for t in step(tf.constant(3.0))] == [9.0, 9.0]  # the replayed graph


def test_a_replica_that_fails_or_skips_the_meeting_is_named():
    s = two_cpus()

    def fails_on_1():
        ctx = D.get_replica_context()
        if ctx.replica_id_in_sync_group == 1:
            raise ZeroDivisionError("replica 1 failed")
        return ctx.all_reduce("SUM", tf.constant(1.0))

    with pytest.raises(ZeroDivisionError, match="replica 1 failed"):
        s.run(fails_on_1)

    def skips_on_1():
        ctx = D.get_replica_context()
        return ctx.all_reduce("SUM", tf.constant(1.0)) if ctx.replica_id_in_sync_group == 0 else tf.constant(0.0)

    with pytest.raises(RuntimeError, match="replica 1 returned"):
        s.run(skips_on_1)


def test_without_threads_local_replicas_run_in_turn_and_a_meeting_is_refused(monkeypatch):
    """Pyodide has no threads: the replicas run one after another (run still works) and
    all_reduce names the reason instead of hanging."""
    from webtensor.distribute import mirrored_run

    monkeypatch.setattr(mirrored_run, "threads_available", lambda: False)
    s = two_cpus()
    ids = s.run(lambda: D.get_replica_context().replica_id_in_sync_group)
    assert s.experimental_local_results(ids) == (0, 1)
    with pytest.raises(RuntimeError, match="no threads"):
        s.run(lambda: D.get_replica_context().all_reduce("SUM", tf.constant(1.0)))
