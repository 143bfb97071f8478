"""tf.train.Checkpoint and CheckpointManager, following TF's "Training checkpoints" guide:
restore by object path into new objects, delayed restore, resumed training, bad files."""

import json
import os
import struct

import numpy as np
import pytest
import webtensor as tf
from webtensor.saving import safetensors as st


class Net(tf.keras.Model):
    """The guide's model: one Dense layer, built lazily on the first call."""

    def __init__(self):
        super().__init__()
        self.l1 = tf.keras.layers.Dense(5)

    def call(self, x):
        return self.l1(x)


def toy_data():
    inputs = tf.constant(np.arange(1, 6, dtype="float32").reshape(1, 5) * np.ones((10, 1), "float32"))
    labels = tf.constant(np.arange(10, dtype="float32").reshape(10, 1) * np.ones((1, 5), "float32"))
    return inputs, labels


def train_step(net, opt, x, y) -> float:
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.abs(net(x) - y))
    grads = tape.gradient(loss, net.trainable_variables)
    opt.apply_gradients(zip(grads, net.trainable_variables))
    return float(loss.numpy())


OPTIMIZERS = {
    "adam": lambda: tf.keras.optimizers.Adam(0.1),
    "adam_amsgrad": lambda: tf.keras.optimizers.Adam(0.1, amsgrad=True),  # a slot made after build
    "sgd_ema": lambda: tf.keras.optimizers.SGD(0.01, momentum=0.9, use_ema=True, ema_overwrite_frequency=3),
    "rmsprop": lambda: tf.keras.optimizers.RMSprop(0.01, momentum=0.5),
    "adagrad_accumulating": lambda: tf.keras.optimizers.Adagrad(0.1, gradient_accumulation_steps=2),
}


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_resumed_training_gives_identical_losses(tmp_path, kind):
    x, y = toy_data()
    tf.random.set_seed(3)
    net, opt = Net(), OPTIMIZERS[kind]()
    ckpt = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net)
    for _ in range(3):
        train_step(net, opt, x, y)
    path = ckpt.save(str(tmp_path / "ckpt"))
    expected = [train_step(net, opt, x, y) for _ in range(4)]

    tf.random.set_seed(99)  # different initial weights: only the restore can make them agree
    net2, opt2 = Net(), OPTIMIZERS[kind]()
    status = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt2, net=net2).restore(path)
    status.assert_existing_objects_matched()  # nothing built yet: what exists matched
    with pytest.raises(AssertionError, match="Unresolved object"):
        status.assert_consumed()  # the kernel, bias and slots wait for the first call
    got = [train_step(net2, opt2, x, y) for _ in range(4)]
    status.assert_consumed()
    assert got == expected
    assert int(opt2.iterations.numpy()) == 7


def test_guide_module_restores_into_a_new_object_by_path(tmp_path):
    class Inner(tf.Module):
        def __init__(self, value):
            super().__init__()
            self.v = tf.Variable(value)

    class Outer(tf.Module):
        def __init__(self, a, b):
            super().__init__()
            self.parts = [Inner(a), {"x": Inner(b)}]

    src = Outer([1.0, 2.0], 3.0)
    prefix = tf.train.Checkpoint(model=src).write(str(tmp_path / "w"))
    assert prefix == str(tmp_path / "w") and os.path.exists(prefix + ".safetensors")
    assert not os.path.exists(tmp_path / "checkpoint")  # write keeps no state
    dst = Outer([0.0, 0.0], 0.0)
    tf.train.Checkpoint(model=dst).read(prefix).assert_consumed()
    assert dst.parts[0].v.numpy().tolist() == [1.0, 2.0]
    assert float(dst.parts[1]["x"].v.numpy()) == 3.0


def test_file_is_safetensors_with_the_object_graph(tmp_path):
    m = tf.Module()
    m.w = tf.Variable([[1.0, 2.0]])
    prefix = tf.train.Checkpoint(model=m).save(str(tmp_path / "ckpt"))
    with open(prefix + ".safetensors", "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    entry = header["model/w/.ATTRIBUTES/VARIABLE_VALUE"]
    assert entry["dtype"] == "F32" and entry["shape"] == [1, 2]
    begin, end = entry["data_offsets"]
    assert struct.unpack("<2f", raw[8 + n + begin : 8 + n + end]) == (1.0, 2.0)
    graph = json.loads(header["__metadata__"]["object_graph"])
    assert ["model", 1] in graph["nodes"][0]["children"]


def test_delayed_restore_of_a_lazily_built_layer(tmp_path):
    layer = tf.keras.layers.Dense(2)
    layer(tf.ones([1, 3]))
    layer.kernel.assign(np.arange(6, dtype="float32").reshape(3, 2))
    prefix = tf.train.Checkpoint(layer=layer).write(str(tmp_path / "l"))
    fresh = tf.keras.layers.Dense(2)
    tf.train.Checkpoint(layer=fresh).restore(prefix)
    fresh(tf.ones([1, 3]))  # builds: the waiting values land now
    assert fresh.kernel.numpy().tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]


def test_status_reports_values_missing_from_the_checkpoint(tmp_path):
    small = tf.Module()
    small.a = tf.Variable(1.0)
    prefix = tf.train.Checkpoint(m=small).write(str(tmp_path / "s"))
    big = tf.Module()
    big.a, big.extra = tf.Variable(0.0), tf.Variable(0.0)
    status = tf.train.Checkpoint(m=big).read(prefix)
    assert float(big.a.numpy()) == 1.0
    with pytest.raises(AssertionError, match="m/extra"):
        status.assert_existing_objects_matched()
    assert status.expect_partial() is status


def test_restore_none_and_missing_prefix(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    with pytest.raises(AssertionError, match="No checkpoint"):
        ckpt.restore(None).assert_consumed()
    with pytest.raises(tf.errors.NotFoundError, match="no checkpoint file"):
        ckpt.restore(str(tmp_path / "nothing-1"))


def test_shape_mismatch_names_the_variable_and_assigns_nothing(tmp_path):
    prefix = tf.train.Checkpoint(a=tf.Variable(7.0), v=tf.Variable([1.0, 2.0])).write(str(tmp_path / "a"))
    a = tf.Variable(0.0)
    with pytest.raises(ValueError, match=r"'v/.ATTRIBUTES/VARIABLE_VALUE' has shape \[2\].*\[3\]"):
        tf.train.Checkpoint(a=a, v=tf.Variable([0.0, 0.0, 0.0])).read(prefix)
    assert float(a.numpy()) == 0.0  # matched first, but not assigned: the restore failed


def _write_raw(path, graph, tensors=(), meta=None):
    meta = dict(
        {"format": "webtensor-checkpoint", "format_version": "1", "object_graph": json.dumps(graph)}, **(meta or {})
    )
    with open(path, "wb") as f:
        st.write(f, list(tensors), meta)


@pytest.mark.parametrize(
    "graph,meta,problem",
    [
        ({"nodes": [{"children": [["v", 5]]}]}, None, "child 0 is"),
        ({"nodes": [{"children": [["v", 1]]}, {"tensor": "gone"}]}, None, "'gone' is not in the file"),
        ({"nodes": []}, None, "object_graph.nodes must be"),
        ({"nodes": [{}]}, {"format_version": "7"}, "format_version '7'"),
        ({"nodes": [{}]}, {"format": "webtensor"}, "not a webtensor checkpoint"),
        ({"nodes": [{"slots": [[0, "m"]]}]}, None, "slot 0 is"),
    ],
)
def test_bad_object_graphs_are_value_errors(tmp_path, graph, meta, problem):
    path = str(tmp_path / "bad.safetensors")
    _write_raw(path, graph, meta=meta)
    with pytest.raises(ValueError, match="invalid checkpoint") as info:
        tf.train.Checkpoint(v=tf.Variable(1.0)).read(path)
    assert problem in str(info.value)


def test_unclaimed_tensor_and_broken_json(tmp_path):
    path = str(tmp_path / "x.safetensors")
    data = memoryview(struct.pack("<f", 1.0))
    _write_raw(path, {"nodes": [{}]}, [("stray", tf.float32, (), data)])
    with pytest.raises(ValueError, match="'stray' belongs to no node"):
        tf.train.Checkpoint(v=tf.Variable(1.0)).read(path)
    _write_raw(path, {}, meta={"object_graph": "{not json"})
    with pytest.raises(ValueError, match="not valid JSON"):
        tf.train.Checkpoint(v=tf.Variable(1.0)).read(path)


def test_truncated_file_is_refused_and_nothing_is_assigned(tmp_path):
    prefix = tf.train.Checkpoint(v=tf.Variable([1.0, 2.0, 3.0])).write(str(tmp_path / "t"))
    with open(prefix + ".safetensors", "rb") as f:
        raw = f.read()
    with open(prefix + ".safetensors", "wb") as f:
        f.write(raw[:-4])
    target = tf.Variable([0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="truncated"):
        tf.train.Checkpoint(v=target).read(prefix)
    assert target.numpy().tolist() == [0.0, 0.0, 0.0]


def test_manager_keeps_the_newest_and_recovers_its_state(tmp_path):
    d = str(tmp_path / "tf_ckpts")
    ckpt = tf.train.Checkpoint(step=tf.Variable(1))
    manager = tf.train.CheckpointManager(ckpt, d, max_to_keep=3)
    assert manager.latest_checkpoint is None
    for _ in range(5):
        ckpt.step.assign_add(1)
        manager.save()
    names = [os.path.basename(p) for p in manager.checkpoints]
    assert names == ["ckpt-3", "ckpt-4", "ckpt-5"]
    assert sorted(os.listdir(d)) == ["checkpoint", "ckpt-3.safetensors", "ckpt-4.safetensors", "ckpt-5.safetensors"]
    assert tf.train.latest_checkpoint(d) == os.path.join(d, "ckpt-5")
    again = tf.train.Checkpoint(step=tf.Variable(0))
    manager2 = tf.train.CheckpointManager(again, d, max_to_keep=3)
    assert manager2.checkpoints == manager.checkpoints
    again.restore(manager2.latest_checkpoint).assert_consumed()
    assert int(again.step.numpy()) == 6 and int(again.save_counter.numpy()) == 5
    assert os.path.basename(manager2.save()) == "ckpt-6"
    assert [os.path.basename(p) for p in manager2.checkpoints] == ["ckpt-4", "ckpt-5", "ckpt-6"]


def test_manager_checkpoint_interval(tmp_path):
    step = tf.Variable(0)
    ckpt = tf.train.Checkpoint(step=step)
    with pytest.raises(ValueError, match="step_counter"):
        tf.train.CheckpointManager(ckpt, str(tmp_path), 2, checkpoint_interval=3)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), None, step_counter=step, checkpoint_interval=3)
    saved = []
    for s in range(8):
        step.assign(s)
        saved.append(manager.save() is not None)
    assert saved == [True, False, False, True, False, False, True, False]
    assert manager.save(check_interval=False) is not None  # step 7, forced
    assert len(manager.checkpoints) == 4  # max_to_keep=None keeps all


def test_manager_keep_checkpoint_every_n_hours(tmp_path, monkeypatch):
    from webtensor.train import manager as mgr

    clock = [1_000_000.0]
    monkeypatch.setattr(mgr.time, "time", lambda: clock[0])
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=1, keep_checkpoint_every_n_hours=1)
    for _ in range(4):  # saves at 40, 80, 120, 160 minutes after the manager started (t=0)
        clock[0] += 40 * 60
        manager.save()
    files = sorted(f for f in os.listdir(tmp_path) if f.endswith(".safetensors"))
    # swept out in turn: ckpt-1 (40 min, < 1 h after t=0: deleted), ckpt-2 (80 min, >= 1 h
    # after t=0: kept for good, now the last preserved), ckpt-3 (120 min, < 1 h after 80: deleted)
    assert files == ["ckpt-2.safetensors", "ckpt-4.safetensors"]
    assert [os.path.basename(p) for p in manager.checkpoints] == ["ckpt-4"]


def test_bad_state_file_is_a_value_error(tmp_path):
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "ckpt-1"\nrm -rf /\n')
    with pytest.raises(ValueError, match="line 2"):
        tf.train.latest_checkpoint(str(tmp_path))


def test_compiled_model_fit_resumes_with_identical_losses(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")

    def make():
        model = tf.keras.Sequential(
            [tf.keras.Input(shape=(3,)), tf.keras.layers.Dense(4, activation="relu"), tf.keras.layers.Dense(1)]
        )
        model.compile(optimizer=tf.keras.optimizers.Adam(0.05), loss="mse")
        return model

    tf.random.set_seed(1)
    model = make()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    prefix = tf.train.Checkpoint(model=model).save(str(tmp_path / "ckpt"))
    expected = model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False).history["loss"]
    tf.random.set_seed(2)
    again = make()
    status = tf.train.Checkpoint(model=again).restore(prefix)
    got = again.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False).history["loss"]
    status.assert_consumed()  # the optimizer's slots were created by fit and then restored
    assert got == expected


def test_an_unfinished_restore_does_not_keep_objects_alive(tmp_path):
    import gc
    import weakref

    layer = tf.keras.layers.Dense(2)
    layer(tf.ones([1, 3]))
    prefix = tf.train.Checkpoint(layer=layer).write(str(tmp_path / "l"))
    fresh = tf.keras.layers.Dense(2)
    status = tf.train.Checkpoint(layer=fresh).restore(prefix).expect_partial()
    ref = weakref.ref(fresh)
    del fresh, status
    gc.collect()
    assert ref() is None


def test_slot_variables_restore_into_a_built_optimizer(tmp_path):
    v = tf.Variable([1.0, -2.0])
    opt = tf.keras.optimizers.SGD(0.1, momentum=0.9)
    for _ in range(2):
        opt.apply_gradients([(tf.constant([1.0, 1.0]), v)])
    prefix = tf.train.Checkpoint(v=v, opt=opt).write(str(tmp_path / "o"))
    # hand-derived: m1 = -0.1, m2 = 0.9*-0.1 - 0.1 = -0.19; w = w0 - 0.1 - 0.19
    v2 = tf.Variable([0.0, 0.0])
    opt2 = tf.keras.optimizers.SGD(0.1, momentum=0.9)
    opt2.build([v2])
    tf.train.Checkpoint(v=v2, opt=opt2).read(prefix).assert_consumed()
    assert np.allclose(v2.numpy(), [1.0 - 0.29, -2.0 - 0.29])
    opt2.apply_gradients([(tf.constant([1.0, 1.0]), v2)])  # m3 = 0.9*-0.19 - 0.1 = -0.271
    assert np.allclose(v2.numpy(), [1.0 - 0.29 - 0.271, -2.0 - 0.29 - 0.271])


def test_keys_name_layer_attributes_as_tf_does(tmp_path):
    x, _ = toy_data()
    net = Net()
    net(x)
    prefix = tf.train.Checkpoint(net=net).write(str(tmp_path / "k"))
    keys = set(st.read_header(prefix + ".safetensors").tensors)
    assert {"net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE", "net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE"} <= keys


def test_variable_assigned_to_a_module_after_restore_gets_its_value(tmp_path):
    m = tf.Module()
    m.later = tf.Variable([4.0, 5.0])
    prefix = tf.train.Checkpoint(m=m).write(str(tmp_path / "d"))
    fresh = tf.Module()
    status = tf.train.Checkpoint(m=fresh).read(prefix)
    fresh.later = tf.Variable([0.0, 0.0])
    assert fresh.later.numpy().tolist() == [4.0, 5.0]
    status.assert_consumed()


def test_untrackable_objects_are_refused():
    with pytest.raises(ValueError, match="trackable"):
        tf.train.Checkpoint(x=3)
    ds = tf.data.Dataset.range(3)
    with pytest.raises(ValueError, match="iterator"):
        tf.train.Checkpoint(iterator=iter(ds))


def test_guide_partial_restore_through_stand_in_checkpoints(tmp_path):
    x, _ = toy_data()
    net, opt = Net(), tf.keras.optimizers.Adam(0.1)
    net(x)
    net.l1.bias.assign([1.0, 2.0, 3.0, 4.0, 5.0])
    tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net).save(str(tmp_path / "ckpt"))
    to_restore = tf.Variable(tf.zeros([5]))
    fake_net = tf.train.Checkpoint(l1=tf.train.Checkpoint(bias=to_restore))
    status = tf.train.Checkpoint(net=fake_net).restore(tf.train.latest_checkpoint(str(tmp_path)))
    assert to_restore.numpy().tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    status.assert_existing_objects_matched()
    with pytest.raises(AssertionError):
        status.assert_consumed()  # the kernel, step and optimizer have no object here
    status.expect_partial()


def test_mutated_checkpoints_fail_only_with_value_errors(tmp_path):
    import sys

    sys.path.insert(0, os.path.dirname(__file__))
    from mutate import run_fuzz

    def target():
        m = tf.Module()
        m.w = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
        m.parts = [tf.Variable(1), {"b": tf.Variable([0.5])}]
        return m

    v = tf.Variable([1.0, 1.0])
    opt = tf.keras.optimizers.Adam(0.1)
    opt.apply_gradients([(tf.constant([1.0, 2.0]), v)])
    prefix = tf.train.Checkpoint(m=target(), v=v, opt=opt).write(str(tmp_path / "good"))
    with open(prefix + ".safetensors", "rb") as f:
        blob = f.read()
    bad_path = str(tmp_path / "bad.safetensors")

    def load(data):
        with open(bad_path, "wb") as f:
            f.write(data)
        fresh_v = tf.Variable([0.0, 0.0])
        fresh_opt = tf.keras.optimizers.Adam(0.1)
        fresh_opt.build([fresh_v])
        tf.train.Checkpoint(m=target(), v=fresh_v, opt=fresh_opt).read(bad_path).expect_partial()

    outcomes = run_fuzz(blob, load, seed=17, count=600, config_bias=0.5)
    assert outcomes["ValueError"] > 300  # most mutations break the file, and say so


def test_manual_inspection_as_in_the_guide(tmp_path):
    x, _ = toy_data()
    net = Net()
    net(x)
    net.l1.bias.assign([1.0, 2.0, 3.0, 4.0, 5.0])
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(step=tf.Variable(3), net=net), str(tmp_path), 2)
    manager.save()
    listed = dict(tf.train.list_variables(str(tmp_path)))
    assert listed["net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE"] == [5]
    assert listed["net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"] == [5, 5]
    reader = tf.train.load_checkpoint(str(tmp_path))
    assert reader.get_variable_to_dtype_map()["step/.ATTRIBUTES/VARIABLE_VALUE"] == tf.int32
    assert reader.get_tensor("net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE").tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert int(reader.get_tensor("save_counter/.ATTRIBUTES/VARIABLE_VALUE")) == 1
    with pytest.raises(tf.errors.NotFoundError, match="not found"):
        reader.get_tensor("nope")


def test_root_dependencies_are_the_checkpoints_own(tmp_path):
    m = tf.Module()
    m.w = tf.Variable([1.0, 2.0])
    prefix = tf.train.Checkpoint(root=m, step=tf.Variable(4)).write(str(tmp_path / "r"))
    assert dict(tf.train.list_variables(prefix)) == {
        "w/.ATTRIBUTES/VARIABLE_VALUE": [2],
        "step/.ATTRIBUTES/VARIABLE_VALUE": [],
    }
    same = tf.Module()
    same.w = tf.Variable([0.0, 0.0])
    step = tf.Variable(0)
    tf.train.Checkpoint(root=same, step=step).read(prefix).assert_consumed()
    assert same.w.numpy().tolist() == [1.0, 2.0] and int(step.numpy()) == 4


def test_functional_model_restores_into_a_second_build(tmp_path):
    def make():
        inputs = tf.keras.Input(shape=(3,))
        hidden = tf.keras.layers.Dense(4, activation="relu")(inputs)
        return tf.keras.Model(inputs, tf.keras.layers.Dense(2)(hidden))

    first = make()
    prefix = tf.train.Checkpoint(model=first).write(str(tmp_path / "f"))
    second = make()  # other layer names (dense_2, dense_3), other initial weights
    tf.train.Checkpoint(model=second).read(prefix).assert_consumed()
    x = tf.constant([[0.5, -1.0, 2.0]])
    assert np.array_equal(first(x).numpy(), second(x).numpy())


def test_a_finished_restore_leaves_nothing_waiting(tmp_path):
    from webtensor import module

    layer = tf.keras.layers.Dense(2)
    layer(tf.ones([1, 3]))
    prefix = tf.train.Checkpoint(layer=layer).write(str(tmp_path / "w"))
    fresh = tf.keras.layers.Dense(2)
    ckpt = tf.train.Checkpoint(layer=fresh)
    ckpt.restore(prefix)
    assert id(fresh) in module._PENDING
    fresh(tf.ones([1, 3]))
    assert id(fresh) not in module._PENDING and id(ckpt) not in module._PENDING


@pytest.mark.parametrize(
    "make_opt", [lambda: tf.keras.optimizers.Adam(0.1), lambda: tf.keras.optimizers.SGD(0.01, momentum=0.9)]
)
def test_restore_into_an_optimizer_mid_training_replaces_its_state(tmp_path, make_opt):
    x, y = toy_data()
    tf.random.set_seed(5)
    net, opt = Net(), make_opt()  # SGD keeps its moments flat (one vector) between steps
    ckpt = tf.train.Checkpoint(net=net, opt=opt)
    train_step(net, opt, x, y)
    prefix = ckpt.write(str(tmp_path / "mid"))
    expected = [train_step(net, opt, x, y) for _ in range(3)]
    for _ in range(5):  # move everything on: weights, moments (held flat) and the step
        train_step(net, opt, x, y)
    ckpt.read(prefix).assert_consumed()
    assert [train_step(net, opt, x, y) for _ in range(3)] == expected
