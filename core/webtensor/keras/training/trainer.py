"""``compile``, ``fit``, ``evaluate``, ``predict`` and the per-batch variants, as Keras 3.

A training step is: forward under a GradientTape, loss, gradients, one optimizer
update, metric updates. Nothing is read back to the host unless a callback asks
for per-batch logs (the progress bar at verbose=1, TerminateOnNaN, ...); epoch
logs are read once per epoch.

As in Keras 3, ``compile(run_eagerly=False)`` (the default) runs the steps as
tf.functions (``make_train_function`` and friends): ``steps_per_execution`` steps per
call, traced once per batch shapes. All state they touch is variables (weights,
optimizer slots and ``iterations``, metric totals and counts), so a replay is a step.
"""

from __future__ import annotations

import weakref

from ... import nest
from ...composite import CompositeTensor
from ...autodiff import GradientTape
from ...ops import array as A

from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from ..callbacks.callback import CallbackList, to_floats
from ..saving import deserialize_keras_object, serialize_keras_object
from .compile_utils import CompileLoss, CompileMetrics
from .data_adapter import DataHandler, is_dataset, train_validation_split, unpack_x_y_sample_weight
from ...distribute import keras_hooks as _dist  # tf.distribute: the hooks below marked _dist


def _verbosity(verbose):
    return 1 if verbose == "auto" else int(verbose)


class Trainer:
    """Mixin of ``Model``: everything about training and inference loops."""

    def _init_trainer(self):
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self.history = None
        self._compile_loss = self._compile_metrics = None
        self._loss_tracker = None
        self._compile_config = None
        self._in_fit = False
        self._want_logs = True
        self._run_eagerly = False
        self._steps_per_execution = 1
        self.jit_compile = False
        self._reset_step_functions()

    def _reset_step_functions(self):
        self.train_function = self.test_function = self.predict_function = None

    # -- compile -----------------------------------------------------------------------------------
    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        metrics=None,
        loss_weights=None,
        weighted_metrics=None,
        run_eagerly=False,
        steps_per_execution=1,
        jit_compile="auto",
        auto_scale_loss=True,
    ):
        """Configure training. Argument order is tf.keras's: ``compile(optimizer, loss, metrics)``."""
        self.optimizer = optimizers_module.get(optimizer)
        if isinstance(steps_per_execution, bool) or not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(f"compile: `steps_per_execution` must be a positive integer, got {steps_per_execution!r}")
        self._run_eagerly = bool(run_eagerly)
        self._steps_per_execution = steps_per_execution
        self.jit_compile = bool(jit_compile) if jit_compile != "auto" else not self._run_eagerly
        self._reset_step_functions()
        if loss is not None:
            self._check_known(loss, "loss")
        if metrics is not None:
            self._check_known(metrics, "metrics")
        self.loss = loss
        names = self.output_names if hasattr(self, "output_names") else None
        self._compile_loss = CompileLoss(loss, loss_weights, names) if loss is not None else None
        self._compile_metrics = (
            CompileMetrics(metrics, weighted_metrics, names)
            if metrics is not None or weighted_metrics is not None
            else None
        )
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._compile_config = {
            "optimizer": self.optimizer,
            "loss": loss,
            "loss_weights": loss_weights,
            "metrics": metrics,
            "weighted_metrics": weighted_metrics,
            "run_eagerly": run_eagerly,
            "steps_per_execution": steps_per_execution,
            "jit_compile": False,
        }
        self.compiled = True
        _dist.on_compile(self)

    @property
    def run_eagerly(self) -> bool:
        """Whether fit/evaluate/predict run the steps as Python (True) or as tf.functions."""
        return self._run_eagerly

    @run_eagerly.setter
    def run_eagerly(self, value):
        self._run_eagerly = bool(value)
        self._reset_step_functions()

    @property
    def steps_per_execution(self) -> int:
        return self._steps_per_execution

    # -- step functions: one call runs a group of batches --------------------------------------------
    def make_train_function(self, force=False):
        if self.train_function is None or force:
            self.train_function = _step_function(self, "train")
        return self.train_function

    def make_test_function(self, force=False):
        if self.test_function is None or force:
            self.test_function = _step_function(self, "test")
        return self.test_function

    def make_predict_function(self, force=False):
        if self.predict_function is None or force:
            self.predict_function = _step_function(self, "predict")
        return self.predict_function

    @staticmethod
    def _check_known(spec, what):
        """Unknown names fail at compile time (the message lists the valid ones), not mid-fit."""
        from .. import losses, metrics

        for s in nest.flatten(spec) if not isinstance(spec, dict) else nest.flatten(list(spec.values())):
            if isinstance(s, str):
                if what == "loss":
                    losses.get(s)
                elif s.lower() not in ("accuracy", "acc"):
                    metrics.get(s)

    @property
    def metrics(self) -> list:
        out = []
        if self._loss_tracker is not None:
            out.append(self._loss_tracker)
        if self._compile_loss is not None and self._compile_loss.built:
            out.extend(t for t in self._compile_loss.trackers if t is not None)
        if self._compile_metrics is not None and self._compile_metrics.built:
            out.extend(self._compile_metrics.metrics)
        return out

    @property
    def metrics_names(self) -> list:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        for m in self.metrics:
            m.reset_state()

    def get_compile_config(self):
        if self._compile_config is None:
            return None
        return {k: serialize_keras_object(v) for k, v in self._compile_config.items()}

    def compile_from_config(self, config) -> None:
        config = dict(config)
        config["optimizer"] = deserialize_keras_object(config.get("optimizer", "rmsprop"), kind="optimizers")
        for key, kind in (("loss", "losses"), ("metrics", "metrics"), ("weighted_metrics", "metrics")):
            v = config.get(key)
            if isinstance(v, dict) and "class_name" in v:
                config[key] = deserialize_keras_object(v, kind=kind)
            elif isinstance(v, list):
                config[key] = [deserialize_keras_object(e, kind=kind) if isinstance(e, dict) else e for e in v]
        if isinstance(config.get("loss_weights"), list) and any(isinstance(w, str) for w in config["loss_weights"]):
            config["loss_weights"] = None  # Keras 3 files written with compile(opt, loss, ["accuracy"])
        config.pop("auto_scale_loss", None)
        self.compile(
            **{
                k: config[k]
                for k in ("optimizer", "loss", "metrics", "loss_weights", "weighted_metrics")
                if k in config
            }
        )
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def _assert_compiled(self, what):
        if not self.compiled or self.optimizer is None:
            raise RuntimeError(f"You must call `compile()` before using the model ({what}).")
        if self._compile_loss is None and what == "fit" and type(self).train_step is Trainer.train_step:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")

    # -- steps -----------------------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss plus the losses added by layers (regularizers, add_loss)."""
        total = self._compile_loss(y, y_pred, sample_weight) if self._compile_loss is not None else None
        sources = self._loss_sources_cache
        for extra in self._losses_from(sources) if sources is not None else self.losses:
            total = extra if total is None else total + extra
        if total is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result() if self._want_logs else None

    def get_metrics_result(self) -> dict:
        """The metrics' results by name, sorted by name as Keras 3's logs are."""
        return dict(sorted(((m.name, m.result()) for m in self.metrics), key=lambda kv: kv[0]))

    def _track_loss(self, loss, x):
        """The epoch loss: the mean of batch losses weighted by batch size (as Keras)."""
        shape = tuple(nest.flatten(x)[0].shape)
        n = float(shape[0]) if shape else 1.0
        self._loss_tracker.add(loss * n, n)

    def train_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight, training=True)
        variables = self._train_variables or self._collect_train_state()
        self._track_loss(loss, x)
        grads = _dist.gradients(self, tape, loss, variables)  # _dist: tape.gradient, then the all-reduce
        self.optimizer.apply(grads, variables)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def _collect_train_state(self):
        """What fit caches, collected again once a model without ``Input`` has been built by
        its first batch (before that it has no variables and no layer losses)."""
        self._train_variables = self.trainable_variables
        if self._in_fit:
            self._loss_sources_cache = self._loss_sources()
        return self._train_variables

    def test_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._track_loss(loss, x)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    # -- loops -------------------------------------------------------------------------------------------
    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq=1,
    ):
        self._assert_compiled("fit")
        x = _dist.dataset_for_fit(self, x)  # _dist: a DistributedDataset -> the dataset fit reads
        if validation_split and validation_data is None:
            if is_dataset(x) or hasattr(x, "__next__"):
                raise ValueError(
                    "`validation_split` is only supported for Tensors or NumPy arrays, not for "
                    "tf.data.Dataset or generator inputs"
                )
            from .data_adapter import to_tensors

            (x, y, sample_weight), validation_data = train_validation_split(
                (to_tensors(x), to_tensors(y), to_tensors(sample_weight)), validation_split
            )
        data = DataHandler(x, y, sample_weight, batch_size, steps_per_epoch, shuffle, class_weight)
        if data.arrays is not None and data.n == 0:
            raise ValueError("fit: the training data has 0 samples; there is nothing to train on")
        val = None
        if validation_data is not None:
            vx, vy, vsw = (
                unpack_x_y_sample_weight(validation_data)
                if not is_dataset(validation_data)
                else (validation_data, None, None)
            )
            val = DataHandler(vx, vy, vsw, validation_batch_size or batch_size, validation_steps)
        verbose = _verbosity(verbose)
        cbs = CallbackList(
            callbacks,
            add_history=True,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=epochs,
            steps=data.steps,
        )
        self.stop_training = False
        self._want_logs = cbs.wants_batch_logs("train")
        self._train_variables = self.trainable_variables
        self._loss_sources_cache = self._loss_sources() if self.built else None
        self._in_fit = True
        train_function = self.make_train_function()
        logs = {}
        try:
            cbs.on_train_begin()
            initial_epoch = getattr(self, "_initial_epoch", None) or initial_epoch  # BackupAndRestore
            for epoch in range(initial_epoch, epochs):
                self.reset_metrics()
                cbs.on_epoch_begin(epoch)
                for step, batches in _groups(_dist.shard(self, data.epoch()), self._steps_per_execution):
                    if self._want_logs:
                        cbs.on_train_batch_begin(step)
                    batch_logs = train_function(batches, self._want_logs)
                    if self._want_logs:
                        cbs.on_train_batch_end(step + len(batches) - 1, batch_logs)
                    if self.stop_training:
                        break
                logs = self._epoch_logs()
                if val is not None and _should_validate(epoch, validation_freq):
                    val_logs = self._test_loop(val, cbs)
                    logs.update({"val_" + k: v for k, v in val_logs.items()})
                cbs.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
            if self.optimizer is not None:
                self.optimizer.finalize_variable_values(self._train_variables)
            cbs.on_train_end(logs)
        finally:
            self._in_fit = False
            self._want_logs = True
            self._train_variables = None
            self._loss_sources_cache = None
        return self.history

    def _epoch_logs(self) -> dict:
        _dist.reduce_metrics(self)
        return to_floats(self.get_metrics_result())

    def _test_loop(self, data, cbs) -> dict:
        self.reset_metrics()
        want = cbs.wants_batch_logs("test")  # the step functions set _want_logs for their steps
        cbs.on_test_begin()
        test_function = self.make_test_function()
        for step, batches in _groups(_dist.shard(self, data.epoch()), self._steps_per_execution):
            if want:
                cbs.on_test_batch_begin(step)
            batch_logs = test_function(batches, want)
            if want:
                cbs.on_test_batch_end(step + len(batches) - 1, batch_logs)
        logs = self._epoch_logs()
        cbs.on_test_end(logs)
        return logs

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
        **kwargs,
    ):
        self._assert_compiled("evaluate")
        x = _dist.dataset_for_fit(self, x)  # _dist
        data = DataHandler(x, y, sample_weight, batch_size, steps)
        if data.arrays is not None and data.n == 0:
            raise ValueError("evaluate: the data has 0 samples; there is nothing to evaluate")
        verbose = _verbosity(verbose)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1, steps=data.steps)
        logs = self._test_loop(data, cbs)
        if return_dict:
            return logs
        return self._in_order(logs)

    def _in_order(self, logs):
        names = self.metrics_names
        out = [logs[n] for n in names if n in logs] + [logs[k] for k in sorted(logs) if k not in names]
        return out[0] if len(out) == 1 else out

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for every sample, batched; numpy arrays (HostArrays in the page) like Keras."""
        x = _dist.dataset_for_fit(self, x, "predict")  # _dist
        data = DataHandler(x, None, None, batch_size, steps)
        verbose = _verbosity(verbose)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1, steps=data.steps)
        cbs.on_predict_begin()
        predict_function = self.make_predict_function()
        outs = []
        for step, batches in _groups(_dist.shard(self, data.epoch()), self._steps_per_execution):
            cbs.on_predict_batch_begin(step)
            ys = predict_function(batches, False)
            outs.extend(ys)
            cbs.on_predict_batch_end(step + len(batches) - 1, {"outputs": ys[-1]})
        cbs.on_predict_end()
        if not outs:
            raise ValueError(
                "Unexpected result of `predict_function` (Empty batch_outputs). Please use "
                "`Model.compile(..., run_eagerly=True)`, or `tf.config.run_functions_eagerly(True)` "
                "for more information of where went wrong, or file a issue/bug to `tf.keras`."
            )
        joined = [
            A.concat(list(parts), 0) if len(parts) > 1 else parts[0] for parts in zip(*[nest.flatten(o) for o in outs])
        ]
        joined = _dist.gather_predictions(self, joined)
        return nest.pack_sequence_as(
            outs[0],
            [
                t if isinstance(t, CompositeTensor) else t.numpy()  # ragged
                for t in joined
            ],
        )  # stays ragged, as TF 2

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._assert_compiled("train_on_batch")
        self.reset_metrics()
        data = DataHandler(x, y, sample_weight, batch_size=_length(x), class_weight=class_weight)
        self._train_variables = self.trainable_variables
        train_function = self.make_train_function()
        try:
            for batch in data.epoch():
                train_function((batch,), False)
        finally:
            self._train_variables = None
        logs = self._epoch_logs()
        return logs if return_dict else self._in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._assert_compiled("test_on_batch")
        self.reset_metrics()
        test_function = self.make_test_function()
        for batch in DataHandler(x, y, sample_weight, batch_size=_length(x)).epoch():
            test_function((batch,), False)
        logs = self._epoch_logs()
        return logs if return_dict else self._in_order(logs)

    def predict_on_batch(self, x):
        (y,) = self.make_predict_function()(((DataHandler(x, batch_size=_length(x)).arrays[0],),), False)
        return nest.map_structure(lambda t: t.numpy(), y)

    _train_variables = None
    _loss_sources_cache = None


def _groups(batches, n):
    """(index of the first batch, tuple of up to n batches): what one step-function call runs."""
    group, first = [], 0
    for i, b in enumerate(batches):
        if not group:
            first = i
        group.append(b)
        if len(group) == n:
            yield first, tuple(group)
            group = []
    if group:
        yield first, tuple(group)


def _step_function(model, kind):
    """``f(batches, want_logs)``: runs ``model.<kind>_step`` on each batch of the group and
    returns the last step's logs (predict: every step's outputs). A tf.function unless
    ``run_eagerly``; an overridden step method is converted by autograph as TF does. The
    model is held weakly (no reference cycle model -> function -> model)."""
    from ...function import autograph
    from ...function.trace import Function

    ref = weakref.ref(model)
    name = kind + "_step"
    method = getattr(type(model), name)
    if not model.run_eagerly and method is not getattr(Trainer, name):
        method = autograph.convert(method)

    def run_steps(batches, want_logs):
        m = ref()
        saved, m._want_logs = m._want_logs, want_logs
        try:
            outs = [method(m, b) for b in batches]
        finally:
            m._want_logs = saved
        return outs if kind == "predict" else outs[-1]

    run_steps.__name__ = run_steps.__qualname__ = f"{kind}_function"
    if model.run_eagerly or any(getattr(lay, "_eager_only", False) for lay in model._flatten_layers()):
        return run_steps  # host-only layers (TextVectorization, lookups) cannot be traced yet
    return Function(run_steps, autograph=False, reduce_retracing=True, name=f"{kind}_function")  # as Keras 3


def _length(x) -> int:
    from .data_adapter import num_samples, to_tensors

    return num_samples(to_tensors(x))


def _should_validate(epoch, freq) -> bool:
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return (epoch + 1) in freq
