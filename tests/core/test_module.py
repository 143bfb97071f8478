"""tf.Module as TF's "Introduction to modules" guide uses it: tracking by attributes,
sorted attribute order, nested containers, name scopes; Keras layers are Modules."""

import pytest
import webtensor as tf
from webtensor.module import current_name_scope


class Dense(tf.Module):
    def __init__(self, in_features, out_features, name=None):
        super().__init__(name=name)
        self.w = tf.Variable(tf.ones([in_features, out_features]), name="w")
        self.b = tf.Variable(tf.zeros([out_features]), name="b")

    def __call__(self, x):
        return tf.nn.relu(tf.matmul(x, self.w) + self.b)


class SequentialModule(tf.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.dense_1 = Dense(in_features=3, out_features=3)
        self.dense_2 = Dense(in_features=3, out_features=2)

    def __call__(self, x):
        return self.dense_2(self.dense_1(x))


def test_guide_sequential_module_variables_and_submodules():
    m = SequentialModule(name="the_model")
    assert m.name == "the_model"
    assert m.submodules == (m.dense_1, m.dense_2)
    # TF walks attributes sorted by name: b before w, dense_1's before dense_2's
    assert m.variables == (m.dense_1.b, m.dense_1.w, m.dense_2.b, m.dense_2.w)
    assert isinstance(m.variables, tuple)
    y = m(tf.constant([[2.0, 2.0, 2.0]]))
    assert y.numpy().tolist() == [[18.0, 18.0]]  # 2*3=6 per unit, then 6*3=18


def test_default_name_is_snake_case_and_bad_names_are_refused():
    assert SequentialModule().name == "sequential_module"
    with pytest.raises(ValueError, match="not a valid module name"):
        tf.Module(name="has space")


def test_trainable_and_non_trainable_split():
    m = tf.Module()
    m.a = tf.Variable(1.0)
    m.z = tf.Variable(2.0, trainable=False)
    assert m.trainable_variables == (m.a,)
    assert m.non_trainable_variables == (m.z,)
    assert m.variables == (m.a, m.z)


def test_nested_lists_tuples_dicts_are_walked_once_per_object():
    m = tf.Module()
    inner = Dense(2, 2)
    v = tf.Variable(3.0)
    m.layers = [inner, (v, {"k": tf.Variable(4.0)})]
    m.alias = v  # the same variable twice: listed once
    m.table = {"b": tf.Variable(5.0), "a": tf.Variable(6.0)}
    values = [float(x.numpy()) for x in m.variables if x.shape.rank == 0]
    # attribute order: alias, layers (v, then the dict's k), table (keys sorted: a, b)
    assert values == [3.0, 4.0, 6.0, 5.0]
    assert m.submodules == (inner,)
    assert len(m.variables) == 6  # plus inner's b and w


def test_submodules_recurse_and_cycles_terminate():
    a, b = tf.Module(name="a"), tf.Module(name="b")
    a.child = b
    b.parent = a  # a cycle
    b.v = tf.Variable(1.0)
    assert a.submodules == (b,)
    assert a.variables == (b.v,)


def test_flatten_with_predicate_finds_functions_and_paths():
    m = tf.Module()
    m.fn = tf.function(lambda x: x + 1)
    m.items = [tf.Variable(1.0)]
    found = list(m._flatten(predicate=lambda x: callable(x) and hasattr(x, "python_function")))
    assert found == [m.fn]
    paths = dict(m._flatten(predicate=lambda x: isinstance(x, tf.Variable), with_path=True))
    assert paths == {("items", 0): m.items[0]}


def test_name_scope_nests_and_with_name_scope_enters_it():
    class Scoped(tf.Module):
        @tf.Module.with_name_scope
        def where(self):
            return current_name_scope()

    outer = tf.Module(name="outer")
    with outer.name_scope:
        inner = Scoped(name="inner")
    assert outer.name_scope.name == "outer/"
    assert inner.name_scope.name == "outer/inner/"
    assert inner.where() == "outer/inner/"
    assert current_name_scope() == ""
    with tf.name_scope("a"), tf.name_scope("b") as scope:
        assert scope == "a/b/"


def test_keras_layers_and_models_are_modules():
    dense = tf.keras.layers.Dense(2)
    model = tf.keras.Sequential([tf.keras.Input(shape=(3,)), dense])
    assert isinstance(dense, tf.Module) and isinstance(model, tf.Module)
    assert dense in model.submodules
    assert {id(v) for v in model.variables} == {id(dense.kernel), id(dense.bias)}
    assert dense.name_scope.name == dense.name + "/"
    holder = tf.Module()
    holder.model = model
    assert {id(v) for v in holder.trainable_variables} == {id(dense.kernel), id(dense.bias)}


@pytest.mark.native  # Pyodide has no threads
def test_name_scopes_are_per_thread():
    import threading

    seen = []
    with tf.name_scope("main"):
        t = threading.Thread(target=lambda: seen.append(current_name_scope()))
        t.start()
        t.join()
        assert current_name_scope() == "main/"
    assert seen == [""]


def test_flatten_attribute_traversal_key_orders_attributes():
    m = tf.Module()
    m.a, m.b = tf.Variable(1.0), tf.Variable(2.0)
    backwards = list(
        m._flatten(
            predicate=lambda x: isinstance(x, tf.Variable), attribute_traversal_key=lambda k: [-ord(c) for c in k]
        )
    )
    assert backwards == [m.b, m.a]
