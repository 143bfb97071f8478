"""tf.function: TF's documented tracing rules ("Better performance with tf.function",
"Introduction to graphs"), graph contents and replay. Expected values by hand."""

import json
import math
import warnings

import pytest
import webtensor as tf
from webtensor.function import OperatorNotAllowedInGraphError


def test_trace_once_per_shape_and_dtype():
    traces = []

    @tf.function
    def f(x):
        traces.append(1)
        return x + x

    assert f(tf.constant([1, 2])).tolist() == [2, 4]
    assert f(tf.constant([3, 4])).tolist() == [6, 8]  # same signature: no trace
    assert f(tf.constant([[1, 2]])).tolist() == [[2, 4]]  # new shape
    assert f(tf.constant([1.0, 2.5])).tolist() == [2.0, 5.0]  # new dtype
    assert len(traces) == 3 and f.experimental_get_tracing_count() == 3


def test_python_values_key_by_value():
    @tf.function
    def f(x, n):
        return x * n

    f(tf.constant(1.0), 2)
    f(tf.constant(1.0), 3)
    assert f(tf.constant(5.0), 2).tolist() == 10.0
    assert f.experimental_get_tracing_count() == 2


def test_print_runs_only_while_tracing(capsys):
    @tf.function
    def double(a):
        print("Tracing with", a)
        return a + a

    for v in (1, 2, 3):
        double(tf.constant(v))
    out = capsys.readouterr().out
    assert out.count("Tracing with") == 1
    assert 'Tensor("a:0", shape=(), dtype=int32)' in out


def test_captured_python_value_frozen_at_trace():
    g = {"foo": 1}

    @tf.function
    def buggy_add():
        return 1 + g["foo"]

    assert buggy_add().tolist() == 2
    g["foo"] = 100
    assert buggy_add().tolist() == 2  # TF's guide: still 2


def test_captured_variable_and_tensor_by_reference():
    v = tf.Variable(1.0)
    c = tf.constant(5.0)

    @tf.function
    def f():
        return v + c

    assert f().tolist() == 6.0
    v.assign(10.0)
    assert f().tolist() == 15.0
    assert f.experimental_get_tracing_count() == 1


def test_input_signature_traces_once_and_rejects_mismatch():
    @tf.function(input_signature=(tf.TensorSpec(shape=[None], dtype=tf.int32),))
    def next_collatz(x):
        print("Tracing with", x)
        return tf.where(x % 2 == 0, x // 2, 3 * x + 1)

    assert next_collatz(tf.constant([1, 2])).tolist() == [4, 1]
    assert next_collatz(tf.constant([1, 2, 3, 4, 5])).tolist() == [4, 1, 10, 2, 16]
    assert next_collatz.experimental_get_tracing_count() == 1
    with pytest.raises(TypeError, match="next_collatz"):
        next_collatz(tf.constant([[1, 2], [3, 4]]))
    with pytest.raises(TypeError, match="float32"):
        next_collatz(tf.constant([1.0, 2.0]))
    with pytest.raises(TypeError):
        next_collatz(tf.constant([1]), tf.constant([2]))
    spec = next_collatz.get_concrete_function().structured_input_signature
    assert spec[0][0].shape.as_list() == [None] and spec[0][0].dtype is tf.int32


def test_reduce_retracing_generalises_shapes(capsys):
    @tf.function(reduce_retracing=True)
    def g(x):
        print("Tracing with", x)
        return x

    for n in (3, 5, 7, 9):
        assert g(tf.range(n)).tolist() == list(range(n))
    assert g.experimental_get_tracing_count() == 2
    assert capsys.readouterr().out.count("Tracing with") == 2


def test_variables_only_on_first_trace():
    @tf.function
    def f(x):
        v = tf.Variable(1.0)
        return v + x

    with pytest.raises(ValueError, match="singleton tf.Variables created on the first call"):
        f(1.0)

    class Count:
        def __init__(self):
            self.count = None

        @tf.function
        def __call__(self):
            if self.count is None:
                self.count = tf.Variable(0)
            return self.count.assign_add(1)

    c = Count()
    assert c().tolist() == 1 and c().tolist() == 2 and c.count.numpy().tolist() == 2


def test_methods_have_one_cache_per_instance():
    class M:
        def __init__(self, k):
            self.k = k

        @tf.function
        def scale(self, x):
            return x * self.k

    a, b = M(2.0), M(3.0)
    assert a.scale(tf.constant(1.0)).tolist() == 2.0
    assert b.scale(tf.constant(1.0)).tolist() == 3.0
    a.scale(tf.constant(4.0))
    assert a.scale.experimental_get_tracing_count() == 1
    assert b.scale.experimental_get_tracing_count() == 1


def test_concrete_function_graph_and_signature():
    @tf.function
    def f(x, y):
        return tf.matmul(x, y) + 1.0

    cf = f.get_concrete_function(tf.TensorSpec([1, 2], tf.float32), tf.TensorSpec([2, 1], tf.float32))
    ops = cf.graph.get_operations()
    names = [o.name for o in ops]
    assert names[:2] == ["x", "y"] and "matmul" in names
    mm = ops[names.index("matmul")]
    assert [str(t) for t in mm.inputs] == [
        'Tensor("x:0", shape=(1, 2), dtype=float32)',
        'Tensor("y:0", shape=(2, 1), dtype=float32)',
    ]
    assert str(cf.structured_outputs).startswith('Tensor("add:0", shape=(1, 1)')
    sig = cf.structured_input_signature[0]
    assert [s.name for s in sig] == ["x", "y"]
    assert cf(tf.constant([[1.0, 2.0]]), tf.constant([[3.0], [4.0]])).tolist() == [[12.0]]
    json.dumps(cf.graph.as_dict())  # the documented serialisable form


def test_executing_eagerly_and_init_scope():
    seen = []

    @tf.function
    def f(x):
        seen.append(tf.executing_eagerly())
        with tf.init_scope():
            seen.append(tf.executing_eagerly())
        return x

    assert tf.executing_eagerly()
    f(1.0)
    assert seen == [False, True]


def test_run_functions_eagerly(capsys):
    @tf.function
    def f(x):
        print("run")
        return x + 1

    tf.config.run_functions_eagerly(True)
    try:
        assert tf.config.functions_run_eagerly()
        f(tf.constant(1))
        f(tf.constant(1))
    finally:
        tf.config.run_functions_eagerly(False)
    assert capsys.readouterr().out.count("run") == 2
    f(tf.constant(1))
    f(tf.constant(1))
    assert capsys.readouterr().out.count("run") == 1


def test_retracing_warning():
    @tf.function
    def f(x):
        return x

    with pytest.warns(RuntimeWarning, match="triggered tf.function retracing"):
        for i in range(5):
            f(i)


def test_symbolic_tensor_errors_clearly():
    @tf.function(autograph=False)
    def branchy(x):
        if x > 0:
            return x
        return -x

    with pytest.raises(OperatorNotAllowedInGraphError, match="branchy"):
        branchy(tf.constant(1.0))

    @tf.function
    def reads(x):
        return x.numpy()

    with pytest.raises(TypeError, match="symbolic"):
        reads(tf.constant(1.0))


def test_unused_failing_op_is_pruned():
    def unused(x):
        tf.gather(x, [1])  # index 1 is out of range for one element
        return x

    if "CPU" in tf.constant([0.0]).device:  # TF's GPUs gather zeros instead of failing
        with pytest.raises((tf.errors.InvalidArgumentError, IndexError)):
            unused(tf.constant([0.0]))
    assert tf.function(unused)(tf.constant([0.0])).tolist() == [0.0]
    cf = tf.function(unused).get_concrete_function(tf.constant([0.0]))
    assert "gather" in [o.name for o in cf.graph.get_operations()]  # recorded, then pruned


def test_train_step_with_tape_inside_function():
    w = tf.Variable([[1.0], [2.0]])
    b = tf.Variable([0.5])

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(tf.matmul(x, w) + b - y))
        gw, gb = tape.gradient(loss, [w, b])
        w.assign_sub(0.1 * gw)
        b.assign_sub(0.1 * gb)
        return loss

    x, y = tf.constant([[1.0, 1.0]]), tf.constant([[1.0]])
    # by hand: pred 3.5, loss 2.5^2; grads w [5, 5], b 5 -> w [0.5, 1.5], b 0; then loss 1
    assert step(x, y).tolist() == pytest.approx(6.25)
    assert step(x, y).tolist() == pytest.approx(1.0)
    assert [r[0] for r in w.numpy().tolist()] == pytest.approx([0.3, 1.3])
    assert b.numpy().tolist() == pytest.approx([-0.2])
    assert step.experimental_get_tracing_count() == 1


def test_graph_matches_eager_mlp():
    tf.random.set_seed(1)
    w1 = tf.Variable(tf.random.normal([4, 8]))
    w2 = tf.Variable(tf.random.normal([8, 3]))

    def net(x):
        h = tf.nn.relu(tf.matmul(x, w1))
        return tf.nn.softmax(tf.matmul(h, w2))

    x = tf.random.normal([5, 4])
    eager = net(x).tolist()
    graph = tf.function(net)(x).tolist()
    for r1, r2 in zip(eager, graph):
        assert r1 == pytest.approx(r2, rel=1e-5, abs=1e-6)


def test_random_ops_draw_new_values_each_call():
    @tf.function
    def f():
        return tf.random.uniform([4])

    a, b = f().tolist(), f().tolist()
    assert a != b and all(0 <= v < 1 for v in a + b)


def test_nested_function_and_outputs_structure():
    @tf.function
    def inner(x):
        return x * 2

    @tf.function
    def outer(x):
        return {"a": inner(x) + 1, "b": (x, 3)}

    out = outer(tf.constant(1.0))
    assert out["a"].tolist() == 3.0 and out["b"][0].tolist() == 1.0 and out["b"][1] == 3


def test_outer_tape_differentiates_through_function(capsys):
    @tf.function
    def f(x):
        tf.print("forward")
        return x * x * x

    x = tf.constant(3.0)
    with tf.GradientTape() as t2:
        t2.watch(x)
        with tf.GradientTape() as t:
            t.watch(x)
            y = f(x)
        g = t.gradient(y, x)
    assert y.tolist() == 27.0 and g.tolist() == 27.0  # 3 x^2
    assert t2.gradient(g, x).tolist() == 18.0  # 6 x
    assert capsys.readouterr().err == "forward\n"  # the backward graph does not print
    w = tf.Variable(2.0)
    h = tf.function(lambda x: w * x)
    with tf.GradientTape() as t:
        y = h(tf.constant(5.0))
    assert t.gradient(y, w).tolist() == 5.0


def test_no_warnings_on_plain_calls():
    @tf.function
    def f(x):
        return x + 1

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(6):
            f(tf.constant(1))


# -- autograph ---------------------------------------------------------------------------------


def test_autograph_if_returns_tensor_from_both_branches():
    @tf.function
    def f(x):
        if tf.greater(x, 0):
            return x
        else:
            return 0

    assert f(tf.constant(3)).tolist() == 3
    r = f(tf.constant(-3))
    assert isinstance(r, tf.Tensor) and r.tolist() == 0  # a tensor, as autograph makes it
    assert f.experimental_get_tracing_count() == 1
    assert "cond" in [o.type for o in f.get_concrete_function(tf.constant(1)).graph.get_operations()]


def test_autograph_while_and_nested_if():
    k = 2

    @tf.function
    def g(n):
        s = tf.constant(0)
        i = tf.constant(0)
        while i < n:
            if i % 2 == 0:
                s = s + i * k
            i = i + 1
        return s

    assert g(tf.constant(5)).tolist() == 12  # 2*(0 + 2 + 4)
    assert g(tf.constant(7)).tolist() == 24  # 2*(0 + 2 + 4 + 6), same graph
    assert g.experimental_get_tracing_count() == 1
    code = tf.autograph.to_code(g)
    assert "ag__.while_stmt" in code and "ag__.if_stmt" in code


def test_autograph_python_conditions_stay_python_and_can_be_disabled():
    @tf.function
    def f(x, flag):
        if flag:
            x = x + 1
        return x

    assert f(tf.constant(1), True).tolist() == 2 and f(tf.constant(1), False).tolist() == 1

    @tf.function(autograph=False)
    def h(x):
        if x > 0:
            return x
        return -x

    with pytest.raises(OperatorNotAllowedInGraphError):
        h(tf.constant(1))


def test_nested_function_gets_its_own_autograph():
    """A tf.function called while another traces is converted by autograph too (TF converts
    every tf.function it traces, nested or not); autograph=False on the inner one still
    refuses a tensor `if`, whatever the outer one says."""

    @tf.function
    def collatz_steps(n):  # while + if over tensors: needs autograph
        steps = tf.constant(0)
        while n != 1:
            if n % 2 == 0:
                n = n // 2
            else:
                n = 3 * n + 1
            steps = steps + 1
        return steps

    @tf.function
    def outer(n):
        return collatz_steps(n) + 100

    @tf.function(autograph=False)
    def outer_plain(n):  # autograph off outside; the inner function keeps its own
        return collatz_steps(n) * 2

    assert outer(tf.constant(6)).tolist() == 108  # 6 3 10 5 16 8 4 2 1: 8 steps
    assert outer(tf.constant(7)).tolist() == 116  # 16 steps, the same graph
    assert outer.experimental_get_tracing_count() == 1
    assert outer_plain(tf.constant(3)).tolist() == 14  # 3 10 5 16 8 4 2 1: 7 steps
    ops = [o.type for o in outer.get_concrete_function(tf.constant(1)).graph.get_operations()]
    assert "while" in ops  # a graph loop, not an unrolled trace

    @tf.function(autograph=False)
    def inner_plain(x):
        if x > 0:
            return x
        return -x

    @tf.function
    def calls_plain(x):
        return inner_plain(x)

    with pytest.raises(OperatorNotAllowedInGraphError):
        calls_plain(tf.constant(1))


def test_autograph_variable_defined_in_one_branch_errors():
    @tf.function
    def f(x):
        if x > 0:
            y = x
        return y

    with pytest.raises(ValueError, match="'y' must be defined"):
        f(tf.constant(1))


def test_keras_custom_training_loop_compiled_matches_eager():
    """The "Custom training walkthrough" step: layers built (variables created) in the first trace."""

    def run(compiled):
        tf.random.set_seed(3)
        model = tf.keras.Sequential([tf.keras.layers.Dense(8, activation="relu"), tf.keras.layers.Dense(3)])
        opt = tf.keras.optimizers.SGD(0.1)
        loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        x = tf.random.normal([16, 4])
        y = tf.constant([i % 3 for i in range(16)])

        def step(x, y):
            with tf.GradientTape() as tape:
                loss = loss_fn(y, model(x, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        f = tf.function(step) if compiled else step
        losses = [f(x, y).tolist() for _ in range(4)]
        if compiled:
            assert f.experimental_get_tracing_count() == 1
        return losses

    eager, graph = run(False), run(True)
    assert graph == pytest.approx(eager, rel=1e-5)
    assert graph[-1] < graph[0]


def test_replay_eliminates_common_subexpressions_and_names_user_line():
    @tf.function
    def f(x):
        return tf.exp(x) + tf.exp(x)

    cf = f.get_concrete_function(tf.constant([0.0, 1.0]))
    assert [o.type for o in cf.graph.get_operations()].count("unary") == 2  # the graph as traced
    prog = cf._first.program(tf.constant(0.0)._be)
    (step,) = prog.steps  # exp and add fused
    assert [i[1] for i in prog.nodes[-1].attrs["program"] if i[0] != "load"] == ["exp", "add"]  # one exp
    assert f(tf.constant([0.0, 1.0])).tolist() == pytest.approx([2.0, 2 * 2.718281828])

    @tf.function(autograph=False)
    def g(x):
        return float(x)

    with pytest.raises(OperatorNotAllowedInGraphError, match=r"test_function\.py:\d+: "):
        g(tf.constant(1.0))


def test_autograph_for_over_tensor_range():
    @tf.function
    def total(n):
        s = tf.constant(0)
        for i in tf.range(n):
            s = s + i * i
        return s

    assert total(tf.constant(4)).tolist() == 14  # 0 + 1 + 4 + 9
    assert total(tf.constant(6)).tolist() == 55  # same graph, another count
    assert total.experimental_get_tracing_count() == 1

    @tf.function
    def python_range(x):
        for i in range(3):
            x = x * 2.0
        return x

    assert python_range(tf.constant(1.0)).tolist() == 8.0


def test_method_function_keeps_no_instance_alive():
    import gc
    import weakref

    class M:
        @tf.function
        def f(self, x):
            return x + 1

    m = M()
    assert m.f(tf.constant(1)).tolist() == 2
    r = weakref.ref(m)
    del m
    gc.collect()
    assert r() is None and not M.f._instances


def test_autograph_break_and_continue_in_while():
    @tf.function
    def f(n):
        i = tf.constant(0)
        s = tf.constant(0)
        while i < n:
            i = i + 1
            if i % 2 == 0:
                continue
            if s > 10:
                break
            s = s + i
        return s, i

    # by hand: s = 1 + 3 + 5 + 7 = 16 after i = 7; i = 8 skipped; at i = 9 s > 10 breaks
    s, i = f(tf.constant(100))
    assert (s.tolist(), i.tolist()) == (16, 9)
    s, i = f(tf.constant(4))  # 1 + 3, the loop ends at i = 4
    assert (s.tolist(), i.tolist()) == (4, 4)
    assert f.experimental_get_tracing_count() == 1


def test_autograph_elif_chain_of_returns():
    @tf.function
    def sign(x):
        if x > 0:
            return 1.0
        elif x < 0:
            return -1.0
        else:
            return 0.0

    assert [sign(tf.constant(v)).tolist() for v in (3.0, -2.0, 0.0)] == [1.0, -1.0, 0.0]
    assert sign.experimental_get_tracing_count() == 1


def test_autograph_python_if_elif_assigning_only_in_else():
    """A Python if/elif/else (Python test values) inside a loop whose else alone assigns a
    name: the nested branch functions must not lose the name (was UnboundLocalError)."""

    def f(x):
        vals = [x]
        for u in (0.1, 0.5, 0.9, 0.95):
            if u < 0.35:
                vals.append(tf.exp(vals[-1]))
            elif u < 0.8:
                vals.append(vals[-1] + 1.0)
            else:
                v = vals[-1]
                vals.append(v * 2.0)
        return vals[-1]

    want = (math.exp(0.1) + 1.0) * 4.0  # exp, +1, *2, *2
    assert abs(float(tf.function(f)(tf.constant(0.1))) - want) < 1e-5


def test_a_device_scope_inside_a_function_traces_and_gives_the_eager_result():
    """The graph replays on one backend, so a tf.device block inside only records (it read
    symbolic values before)."""

    @tf.function
    def f(x):
        with tf.device("/cpu:0"):
            y = x * 2.0
        return y + 1.0

    assert f(tf.constant([1.0, 2.0])).numpy().tolist() == [3.0, 5.0]
