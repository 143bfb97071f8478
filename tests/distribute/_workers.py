"""What each Ray worker runs in test_ray.py (pickled by value into the workers)."""

from __future__ import annotations

import os
import signal
import time

import numpy as np


def digits(n=512):
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from digits import load_digits_split

    x, y, _, _ = load_digits_split()
    return x[:n], y[:n]


def mlp():
    import webtensor as tf

    tf.random.set_seed(0)
    return tf.keras.Sequential(
        [tf.keras.Input(shape=(64,)), tf.keras.layers.Dense(32, activation="relu"), tf.keras.layers.Dense(10)]
    )


def compile_mlp(model):
    import webtensor as tf

    model.compile(
        tf.keras.optimizers.Adam(0.01), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), ["accuracy"]
    )


def api():
    """strategy.run / reduce / gather / datasets on 2 workers: every value hand-computable."""
    import webtensor as tf

    s = tf.distribute.MultiWorkerMirroredStrategy()
    rank = s.cluster_resolver.task_id
    out = {"rank": rank, "replicas": s.num_replicas_in_sync, "chief": s.extended.should_checkpoint}
    per = s.run(lambda: tf.constant(float(rank + 1)))
    out["sum"] = float(s.reduce("SUM", per, axis=None))
    out["mean"] = float(s.reduce(tf.distribute.ReduceOp.MEAN, per, axis=None))
    vec = s.run(lambda: tf.fill([rank + 1], float(rank + 1)))  # [1] and [2, 2]
    out["sum_axis0"] = float(s.reduce("SUM", vec, axis=0))  # 1 + 4
    out["mean_axis0"] = float(s.reduce("MEAN", vec, axis=0))  # 5 / 3
    out["gather"] = s.gather(vec, axis=0).numpy().tolist()  # [1, 2, 2]
    out["replica_id"] = s.run(lambda: tf.distribute.get_replica_context().replica_id_in_sync_group)
    out["all_reduce_in_run"] = float(
        s.run(lambda: tf.distribute.get_replica_context().all_reduce("SUM", tf.constant(10.0 * (rank + 1))))
    )
    with s.scope():
        v = tf.Variable([float(rank), float(rank) + 0.5])  # mirrored: rank 0's value everywhere
    out["variable"] = v.numpy().tolist()
    ds = tf.data.Dataset.range(10).batch(4)  # global batches of 4, 4, 2
    out["batches"] = [b.numpy().tolist() for b in s.experimental_distribute_dataset(ds)]
    seen = []

    def fn(ctx):
        seen.append((ctx.num_input_pipelines, ctx.input_pipeline_id, ctx.num_replicas_in_sync))
        return (
            tf.data.Dataset.range(6)
            .shard(ctx.num_input_pipelines, ctx.input_pipeline_id)
            .batch(ctx.get_per_replica_batch_size(4))
        )

    out["from_function"] = [b.numpy().tolist() for b in s.distribute_datasets_from_function(fn)]
    out["contexts"] = seen
    out["custom_loop"] = custom_loop(s)
    return out


def custom_loop(s, steps=3):
    """TF's custom training loop: run(step) per replica, optimizer.apply sums the gradients."""
    import webtensor as tf

    x, y = digits(64)
    with s.scope():
        model = mlp()
        opt = tf.keras.optimizers.SGD(0.5)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")

    def step(batch):
        bx, by = batch
        with tf.GradientTape() as tape:
            loss = tf.nn.compute_average_loss(loss_fn(by, model(bx, training=True)), global_batch_size=32)
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    ds = s.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices((x, y)).batch(32))
    losses = [float(s.reduce("SUM", s.run(step, args=(b,)), axis=None)) for b in ds]
    return {"weights": model.get_weights(), "losses": losses}


def train_mlp(epochs=1):
    """fit/evaluate/predict of the digits MLP under the strategy; weights and numbers back;
    then the same fit again with float16 gradient compression."""
    import webtensor as tf

    s = tf.distribute.MultiWorkerMirroredStrategy()
    x, y = digits()
    with s.scope():
        model = mlp()
        compile_mlp(model)
    calls0 = s._coll.calls
    hist = model.fit(x, y, batch_size=64, epochs=epochs, shuffle=False, verbose=0)
    grad_calls = s._coll.calls - calls0
    ev = model.evaluate(x, y, batch_size=100, verbose=0)
    pred = model.predict(x[:70], batch_size=32, verbose=0)
    s._options = tf.distribute.experimental.CommunicationOptions(compression="float16")
    with s.scope():
        fp16 = mlp()
        compile_mlp(fp16)
    bytes0 = s._coll.bytes
    fp16.fit(x, y, batch_size=64, epochs=epochs, shuffle=False, verbose=0)
    return {
        "weights": model.get_weights(),
        "loss": hist.history["loss"],
        "evaluate": ev,
        "predict": pred,
        "grad_calls": grad_calls,
        "n_variables": len(model.trainable_variables),
        "steps": epochs * (len(x) // 64),
        "fp16_weights": fp16.get_weights(),
        "fp16_bytes": s._coll.bytes - bytes0,
    }


def train_with_backup(backup_dir, ckpt_dir, kill_rank=1, kill_at=(1, 3), always=False):
    """3 epochs with BackupAndRestore; on the first attempt rank ``kill_rank`` SIGKILLs itself mid-epoch."""
    import webtensor as tf

    attempt = int(os.environ["WEBTENSOR_RAY_ATTEMPT"])
    s = tf.distribute.MultiWorkerMirroredStrategy()
    x, y = digits()
    with s.scope():
        model = mlp()
        compile_mlp(model)
    state = {"epoch": 0, "epochs": []}

    class Killer(tf.keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            state["epoch"] = epoch
            state["epochs"].append(epoch)

        def on_train_batch_end(self, batch, logs=None):
            if s._rank == kill_rank and (attempt == 0 or always) and (state["epoch"], batch) == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    with s.scope():  # fit inside the scope too (TF code often does): chief-only writes must not make variables
        model.fit(
            x,
            y,
            batch_size=64,
            epochs=3,
            shuffle=False,
            verbose=0,
            callbacks=[
                tf.keras.callbacks.BackupAndRestore(backup_dir, delete_checkpoint=False),
                tf.keras.callbacks.ModelCheckpoint(
                    os.path.join(ckpt_dir, f"rank{s._rank}-{{epoch}}.weights.h5"), save_weights_only=True
                ),
                Killer(),
            ],
        )
    return {"weights": model.get_weights(), "attempt": attempt, "epochs": state["epochs"]}


def timeout_step():
    """Rank 1 never joins rank 0's all-reduce at step 5: rank 0 must get an error naming itself and the step."""
    import webtensor as tf
    from webtensor.distribute.collective import CollectiveError

    opts = tf.distribute.experimental.CommunicationOptions(timeout_seconds=2)
    s = tf.distribute.MultiWorkerMirroredStrategy(communication_options=opts)
    s._coll.step = 5
    if s._rank == 1:
        time.sleep(4)
        return "rank 1 stayed out"
    t0 = time.monotonic()
    try:
        s.reduce("SUM", tf.constant(1.0), axis=None)
    except CollectiveError as e:
        return {"error": str(e), "waited": time.monotonic() - t0}
    return {"error": None}


def checksum(values) -> float:
    return float(sum(np.asarray(v, np.float64).sum() for v in values))


def fit_distributed_datasets():
    """fit on experimental_distribute_dataset (global batches of 64) and on
    distribute_datasets_from_function (this worker's own pipeline: every other batch of 32,
    so the two workers' step-k batches together are global batch k)."""
    import webtensor as tf

    s = tf.distribute.MultiWorkerMirroredStrategy()
    x, y = digits()
    out = {}
    for name in ("global", "own"):
        with s.scope():
            model = mlp()
            compile_mlp(model)
        if name == "global":
            data = s.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices((x, y)).batch(64))
        else:

            def fn(ctx):
                b = ctx.get_per_replica_batch_size(64)
                return (
                    tf.data.Dataset.from_tensor_slices((x, y))
                    .batch(b)
                    .shard(ctx.num_input_pipelines, ctx.input_pipeline_id)
                )

            data = s.distribute_datasets_from_function(fn)
        hist = model.fit(data, epochs=1, verbose=0)
        out[name] = {"weights": model.get_weights(), "loss": hist.history["loss"]}
    return out


def shard_predict_overlap():
    """fit(x, y) sharded by the strategy (shuffled, global batches of 63 = 32 + 31 rows, the last
    59 = 30 + 29, validation data); predict on both kinds of distributed dataset (own pipelines
    of 3 and 2 batches); an eager fit whose 3 gradient buckets start during the backward pass
    (the log shows each step's starts before tape.gradient returns), and the same without overlap."""
    import webtensor as tf
    from webtensor import autodiff

    s = tf.distribute.MultiWorkerMirroredStrategy()
    x, y = digits()
    out = {}
    with s.scope():
        model = mlp()
        compile_mlp(model)
    hist = model.fit(
        x[:500], y[:500], batch_size=63, epochs=2, shuffle=True, validation_data=(x[500:], y[500:]), verbose=0
    )
    out["sharded"] = {"weights": model.get_weights(), "history": hist.history}
    ds = tf.data.Dataset.from_tensor_slices(x[:70])
    out["predict_global"] = model.predict(s.experimental_distribute_dataset(ds.batch(32)), verbose=0)
    own = s.distribute_datasets_from_function(
        lambda ctx: ds.batch(16).shard(ctx.num_input_pipelines, ctx.input_pipeline_id)
    )
    out["predict_own"] = model.predict(own, verbose=0)

    log = []
    gradient, start_sum = autodiff.GradientTape.gradient, s._coll.start_sum

    def logged_gradient(self, *a, **k):
        g = gradient(self, *a, **k)
        log.append("returned")
        return g

    def logged_start(*a, **k):
        log.append("start")
        return start_sum(*a, **k)

    autodiff.GradientTape.gradient, s._coll.start_sum = logged_gradient, logged_start
    try:
        for overlap in (True, False):
            s._options = tf.distribute.experimental.CommunicationOptions(bytes_per_pack=1400, overlap=overlap)
            with s.scope():
                eager = mlp()
                eager.compile(
                    tf.keras.optimizers.Adam(0.01),
                    tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    ["accuracy"],
                    run_eagerly=True,
                )
            del log[:]
            eager.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0)
            out[f"overlap={overlap}"] = {"weights": eager.get_weights(), "log": list(log)}
    finally:
        autodiff.GradientTape.gradient = gradient
    return out
