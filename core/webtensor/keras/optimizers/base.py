"""The optimizer base: learning rate (float or schedule), clipping, weight decay, EMA,
gradient accumulation and the step counter, exactly in Keras 3's order; subclasses
implement ``_update(grads, variables, lr)`` for the whole list of variables at once.

Eagerly, the scalars of the update (learning rate, bias corrections) are Python floats
computed on the host, so a step costs only the elementwise ops on the weights. Inside a
tf.function (a compiled train step) the same scalars are tensors computed from the
``iterations`` variable and the learning-rate variable or schedule, and the slots are
read and assigned as variables, so every replay of the graph takes a real step.
"""

from __future__ import annotations

from ...distribute.keras_hooks import replica_gradients as _replica_gradients
from ... import autodiff
from ... import dtypes as D
from ...ops import array as A
from ...ops import linalg as LA
from ...ops import math as M
from ...ops.reduce import reduce_sum
from ...module import notify
from ... import tensor as T
from ...tensor import Variable
from .. import backend
from ..saving import deserialize_keras_object, serialize_keras_object
from .schedules import LearningRateSchedule


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _traced() -> bool:
    """True while a tf.function is tracing: variable reads and assignments become graph nodes."""
    return T.graph_hook[0] is not None


def _eager_scope():
    from ...function.trace import init_scope

    return init_scope()


def _notifying(build):
    """Wrap ``build``: a checkpoint restore waiting for this optimizer's slots gets them."""

    def wrapper(self, var_list):
        out = build(self, var_list)
        notify(self)
        return out

    wrapper.__doc__, wrapper.__name__ = build.__doc__, build.__name__
    return wrapper


class Optimizer:
    _keras_module = "keras.optimizers"
    slot_names: tuple = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls.build = _notifying(cls.__dict__["build"])

    def __init__(
        self,
        learning_rate,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        kwargs.pop("decay", None)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                f"Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        if gradient_accumulation_steps is not None and gradient_accumulation_steps < 2:
            raise ValueError(
                f"`gradient_accumulation_steps` must be an integer >= 2. Received: "
                f"gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        self.name = name or backend.unique_name(backend.to_snake_case(type(self).__name__))
        self.weight_decay, self.clipnorm, self.clipvalue = weight_decay, clipnorm, clipvalue
        self.global_clipnorm, self.use_ema, self.ema_momentum = global_clipnorm, use_ema, ema_momentum
        self.ema_overwrite_frequency, self.loss_scale_factor = ema_overwrite_frequency, loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._variables: list = []
        self._iterations = Variable(0, dtype=D.int64, trainable=False, name=f"{self.name}/iteration")
        self._variables.append(self._iterations)
        self._iter_tok, self._step = self._iterations.value_token, 0
        if isinstance(learning_rate, LearningRateSchedule) or (
            callable(learning_rate) and not isinstance(learning_rate, (int, float))
        ):
            self._learning_rate = learning_rate
        else:
            if not isinstance(learning_rate, (int, float)) or isinstance(learning_rate, bool):
                raise ValueError(
                    f"Argument `learning_rate` should be float, or an instance of "
                    f"LearningRateSchedule, or a callable (that takes in the current iteration value "
                    f"and returns the corresponding learning rate value). Received instead: "
                    f"learning_rate={learning_rate}"
                )
            self._learning_rate = Variable(
                float(learning_rate), dtype=D.float32, trainable=False, name=f"{self.name}/learning_rate"
            )
            self._variables.append(self._learning_rate)
            self._lr_tok, self._lr = self._learning_rate.value_token, float(self._learning_rate.numpy())
        self._exclude_ids: set = set()
        self._exclude_names: tuple = ()

    # -- state ---------------------------------------------------------------------------------------
    @property
    def iterations(self):
        return self._iterations

    @iterations.setter
    def iterations(self, value):
        self._iterations.assign(value)

    def _host_step(self) -> int:
        if self._iterations.value_token is not self._iter_tok:  # assigned from outside (e.g. a loaded file)
            self._step, self._iter_tok = int(self._iterations.numpy()), self._iterations.value_token
        return self._step

    def _current_lr(self) -> float:
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            if type(lr).__call__ is not LearningRateSchedule.__call__:  # Keras style: __call__(step) with ops
                return float(lr(T.constant(float(self._host_step()), D.float32)))
            return lr.value(float(self._host_step()))
        if isinstance(lr, Variable):
            if lr.value_token is not self._lr_tok:
                self._lr, self._lr_tok = float(lr.numpy()), lr.value_token
            return self._lr
        return float(lr())

    @property
    def learning_rate(self):
        """The learning-rate variable, or the schedule's value at the current step."""
        lr = self._learning_rate
        if isinstance(lr, Variable):
            return lr
        from ...tensor import constant

        return constant(self._current_lr(), D.float32)

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, LearningRateSchedule) or (callable(value) and not hasattr(value, "numpy")):
            self._learning_rate = value
            return
        if not isinstance(self._learning_rate, Variable):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` learning rate; it cannot be "
                "set to a value. Create a new optimizer instead."
            )
        v = float(value.numpy()) if hasattr(value, "numpy") else float(value)
        self._learning_rate.assign(v)
        self._lr, self._lr_tok = v, self._learning_rate.value_token

    lr = learning_rate

    @property
    def variables(self) -> list:
        self._sync_slots()
        return list(self._variables)

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None):
        from .. import initializers

        with autodiff.no_record():
            value = initializers.get(initializer)(tuple(shape), dtype or backend.float_dtype())
        v = Variable(value, trainable=False, name=f"{self.name}/{name}")
        self._variables.append(v)
        return v

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        ref = getattr(reference_variable, "path", reference_variable.name.split(":")[0]).replace("/", "_")
        return self.add_variable(
            tuple(reference_variable.shape), initializer, reference_variable.dtype, f"{ref}_{name or 'var'}"
        )

    def build(self, var_list) -> None:
        """Create the per-variable slots (interleaved per variable, as Keras orders them)."""
        if self.built:
            return
        self._trainable_variables = list(var_list)
        self._index = {id(v): i for i, v in enumerate(var_list)}
        self._slots = {name: [] for name in self.slot_names}
        for v in var_list:
            for name in self.slot_names:
                self._slots[name].append(self.add_variable_from_reference(v, name, self._slot_init(name)))
        if self.use_ema:
            self._ema = [self.add_variable_from_reference(v, "average") for v in var_list]
            for v, avg in zip(var_list, self._ema):
                avg.assign(v)
        if self.gradient_accumulation_steps:
            self._accumulated = [self.add_variable_from_reference(v, "gradient_accumulator") for v in var_list]
        self.built = True
        notify(self)

    def _slot_init(self, name):
        return "zeros"

    def _slots_for(self, name, variables) -> list:
        idx, slots = self._index, self._slots[name]
        return [slots[idx[id(v)]] for v in variables]

    # -- applying gradients -------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        pairs = list(grads_and_vars)
        if not pairs:
            return self._iterations
        grads, variables = zip(*pairs)
        self.apply(list(grads), list(variables))
        return self._iterations

    def apply(self, grads, trainable_variables=None) -> None:
        grads = _replica_gradients(list(grads))  # inside strategy.run: summed over the replicas (tf.distribute)
        if grads is None:  # an earlier local replica of strategy.run: the last one applies the sum
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be built "
                    "on a list of variables. Call `optimizer.build(trainable_variables)` first."
                )
            trainable_variables = self._trainable_variables
        variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"apply: got {len(grads)} gradients for {len(variables)} variables")
        if not self.built:
            with _eager_scope(), autodiff.no_record():  # slots are created eagerly, even in a trace
                self.build(variables)
        else:
            unknown = [v for v in variables if id(v) not in self._index]
            if unknown:
                raise ValueError(
                    f"Unknown variable: {unknown[0].name}. This optimizer can only be called for "
                    f"the variables it was originally built with. When working with a new set of "
                    f"variables, you should recreate a new optimizer instance."
                )
        keep = [i for i, g in enumerate(grads) if g is not None]
        if not keep:
            raise ValueError("No gradients provided for any variable.")
        if len(keep) < len(grads):
            grads = [grads[i] for i in keep]
            variables = [variables[i] for i in keep]
        with autodiff.no_record():
            if self.loss_scale_factor is not None:
                grads = [g / self.loss_scale_factor for g in grads]
            if _traced():
                self._apply_traced(grads, variables)
                return
            if self.gradient_accumulation_steps:
                self._accumulate(grads, variables)
            else:
                self._step_once(grads, variables)
            self._finish_step()

    def _step_once(self, grads, variables):
        grads = self._clip(grads)
        self._update(grads, variables, self._current_lr())
        self._constrain_and_average(variables)

    def _constrain_and_average(self, variables, step=None):
        for v in variables:
            c = getattr(v, "constraint", None)
            if c is not None:
                v.assign(c(v.value()))
        if self.use_ema:
            self._update_ema(step)

    # -- the update: one rule, run per variable or once over all of them concatenated -------------------
    def _scalars(self, lr, t) -> dict:
        """This step's coefficients for ``_rule`` (bias corrections etc.) at step ``t`` (1-based):
        Python floats eagerly, float32 tensors in a trace (``lr`` and ``t`` are then tensors)."""
        return {"lr": lr}

    def _rule(self, g, w, slots: dict, s: dict):
        """(new weight, new slots) from gradient g, weight w and slot values (any shape)."""
        raise TypeError(f"{type(self).__name__} must implement _rule(g, w, slots, scalars)")

    def _fused_on(self, variable) -> bool:
        """Whether the variable's backend runs this rule as one kernel (then per-variable calls
        are cheaper than concatenating everything)."""
        return False

    def _decay_factors(self, variables, lr):
        if self.weight_decay is None:
            return None
        wd = float(self.weight_decay) * lr
        return [wd if self._use_weight_decay(v) else 0.0 for v in variables]

    def _update(self, grads, variables, lr):
        s = self._scalars(lr, float(self._host_step() + 1))
        decay = self._decay_factors(variables, lr)
        if (
            len(variables) > 1
            and not self._in_graph
            and not self._fused_on(variables[0])
            and len({(v.dtype, v.backend) for v in variables}) == 1
        ):
            return self._flat_update(grads, variables, s, decay)
        self._sync_slots()
        for i, (g, v) in enumerate(zip(grads, variables)):
            slot_vars = self._slots_of(v)
            w = v.value()
            if decay and decay[i]:
                w = w - w * decay[i]
            w, new = self._rule(g, w, {n: sv.value() for n, sv in slot_vars.items()}, s)
            for n, val in new.items():
                slot_vars[n].assign(val)
            v.assign(w)

    def _slots_of(self, v) -> dict:
        """{slot name: slot variable} for one model variable (cached: the slots never change)."""
        cache = self.__dict__.setdefault("_slots_cache", {})
        out = cache.get(id(v))
        if out is None or len(out) != len(self._slots):
            out = cache[id(v)] = {n: self._slots[n][self._index[id(v)]] for n in self._slots}
        return out

    def _flat_update(self, grads, variables, s, decay):
        """All variables as one vector: a handful of ops per step instead of a handful per variable.
        The flat slots are the state; the per-variable slot variables are refreshed when read."""
        key = tuple(id(v) for v in variables)
        st = self._flat
        if st is None or st["key"] != key or self._slots_changed():
            self._sync_slots()
            slots = {
                n: A.concat([A.reshape(sv.value(), (-1,)) for sv in self._slots_for(n, variables)], 0)
                for n in self._slots
            }
            sizes = [int(_numel(v.shape)) for v in variables]
            st = self._flat = {"key": key, "slots": slots, "sizes": sizes, "decay": None}
            self._record_slot_tokens()
        w = A.concat([A.reshape(v.value(), (-1,)) for v in variables], 0)
        g = A.concat([A.reshape(gi, (-1,)) for gi in grads], 0)
        if decay is not None and any(decay):
            if len(set(decay)) == 1:
                w = w - w * decay[0]
            else:
                k = A.concat([A.fill((n,), d) for n, d in zip(st["sizes"], decay)], 0)
                w = w - w * M.cast(k, w.dtype)
        w, st["slots"] = self._rule(g, w, st["slots"], s)
        self._slots_dirty = True
        for v, part in zip(variables, A.split(w, st["sizes"], 0)):
            v.assign(A.reshape(part, tuple(v.shape)))

    _flat = None
    _in_graph = False  # a traced step reads the slot variables: no flat eager state then
    _slots_dirty = False
    _slot_tokens: tuple = ()

    def _all_slot_vars(self):
        return [sv for lst in getattr(self, "_slots", {}).values() for sv in lst]

    def _record_slot_tokens(self):
        self._slot_tokens = tuple(sv.value_token for sv in self._all_slot_vars())

    def _slots_changed(self) -> bool:
        """True when a slot variable was assigned from outside (e.g. loading a saved optimizer)."""
        return any(sv.value_token is not t for sv, t in zip(self._all_slot_vars(), self._slot_tokens))

    def _sync_slots(self):
        """Write the flat slots back to the per-variable slot variables."""
        st = self._flat
        if not self._slots_dirty or st is None:
            return
        with autodiff.no_record():
            for n, flat in st["slots"].items():
                for sv, part in zip(self._slots_for(n, self._by_key(st["key"])), A.split(flat, st["sizes"], 0)):
                    sv.assign(A.reshape(part, tuple(sv.shape)))
        self._slots_dirty = False
        self._record_slot_tokens()

    def _by_key(self, key):
        ids = {id(v): v for v in self._trainable_variables}
        return [ids[k] for k in key]

    def _accumulate(self, grads, variables):
        n = self.gradient_accumulation_steps
        accs = [self._accumulated[self._index[id(v)]] for v in variables]
        if (self._host_step() + 1) % n == 0:
            self._step_once([(g + a) / float(n) for g, a in zip(grads, accs)], variables)
            for a in accs:
                a.assign(A.zeros_like(a))
        else:
            for g, a in zip(grads, accs):
                a.assign(a + g)

    # -- the traced step: scalars are tensors of ``iterations``, all state is variables -------------
    def _apply_traced(self, grads, variables):
        with _eager_scope():
            self._sync_slots()  # flat slots of earlier eager steps -> the slot variables
        self._in_graph = True  # from now on eager steps keep the slot variables current too
        step = self._iterations.value()
        if self.gradient_accumulation_steps:
            self._accumulate_traced(grads, variables, step)
        else:
            self._step_traced(grads, variables, step)
        self._iterations.assign(step + 1)

    def _lr_tensor(self, t):
        """The learning rate at (0-based, float32) step ``t`` as a float32 tensor."""
        lr = self._learning_rate
        if isinstance(lr, Variable):
            return lr.value()
        v = lr(t) if isinstance(lr, LearningRateSchedule) else lr()
        return M.cast(v, D.float32) if isinstance(v, T.Tensor) else T.constant(float(v), D.float32)

    def _step_traced(self, grads, variables, step):
        grads = self._clip(grads)
        t = M.cast(step, D.float32)
        lr = self._lr_tensor(t)
        s = self._scalars(lr, t + 1.0)
        wd = lr * float(self.weight_decay) if self.weight_decay else None
        for g, v in zip(grads, variables):
            dt = v.dtype
            sc = s if dt is D.float32 else {k: M.cast(x, dt) if isinstance(x, T.Tensor) else x for k, x in s.items()}
            slot_vars = self._slots_of(v)
            w = v.value()
            if wd is not None and self._use_weight_decay(v):
                w = w - w * (wd if dt is D.float32 else M.cast(wd, dt))
            w, new = self._rule(g, w, {n: sv.value() for n, sv in slot_vars.items()}, sc)
            for n, val in new.items():
                slot_vars[n].assign(val)
            v.assign(w)
        self._constrain_and_average(variables, step)

    def _accumulate_traced(self, grads, variables, step):
        """Every step adds to the accumulators; every n-th step (a tensor condition) applies
        their mean: the update runs each time and ``where`` keeps or discards its results."""
        n = self.gradient_accumulation_steps
        accs = [self._accumulated[self._index[id(v)]] for v in variables]
        now = M.equal(M.floormod(step + 1, n), 0)
        skip = {id(self._iterations), id(self._learning_rate)} | {id(a) for a in self._accumulated}
        state = list(variables) + [v for v in self._variables if id(v) not in skip]
        old = [v.value() for v in state]
        self._step_traced([(g + a.value()) / float(n) for g, a in zip(grads, accs)], variables, step)
        for v, o in zip(state, old):
            v.assign(M.where(now, v.value(), o))
        for g, a in zip(grads, accs):
            acc = a.value()
            a.assign(M.where(now, A.zeros_like(acc), acc + g))

    def _finish_step(self):
        self._step = self._host_step() + 1
        self._iterations.assign(self._step)
        self._iter_tok = self._iterations.value_token

    def _update_ema(self, step=None):
        """``step``: the iterations tensor in a trace (the conditions become ``where``)."""
        n = self.gradient_accumulation_steps or 1
        f = self.ema_overwrite_frequency
        if step is None:
            k = self._host_step() // n
            m = self.ema_momentum if k != 0 else 0.0
            for v, avg in zip(self._trainable_variables, self._ema):
                avg.assign(avg * m + v.value() * (1.0 - m))
            if f and (k + 1) % f == 0:
                for v, avg in zip(self._trainable_variables, self._ema):
                    v.assign(avg.value())
            return
        k = M.floordiv(step, n)
        m = M.where(M.not_equal(k, 0), T.constant(float(self.ema_momentum), D.float32), T.constant(0.0, D.float32))
        for v, avg in zip(self._trainable_variables, self._ema):
            mv = m if v.dtype is D.float32 else M.cast(m, v.dtype)
            avg.assign(avg.value() * mv + v.value() * (1.0 - mv))
        if f:
            over = M.equal(M.floormod(k + 1, f), 0)
            for v, avg in zip(self._trainable_variables, self._ema):
                v.assign(M.where(over, avg.value(), v.value()))

    def finalize_variable_values(self, var_list) -> None:
        """End of fit: with EMA, the model takes the averaged weights."""
        if self.use_ema and self.built:
            for v, avg in zip(self._trainable_variables, self._ema):
                v.assign(avg.value())

    def _clip(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            c = float(self.clipnorm)
            out = []
            for g in grads:
                l2sum = reduce_sum(M.square(g), keepdims=True)
                pos = M.greater(l2sum, 0.0)
                l2 = M.where(pos, M.sqrt(M.where(pos, l2sum, A.ones_like(l2sum))), l2sum)
                out.append(g * c / M.maximum(l2, c))
            return out
        if self.global_clipnorm and self.global_clipnorm > 0:
            return LA.clip_by_global_norm(grads, float(self.global_clipnorm))[0]
        if self.clipvalue and self.clipvalue > 0:
            v = float(self.clipvalue)
            return [M.clip_by_value(g, -v, v) for g in grads]
        return grads

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built.")
        self._exclude_ids = {id(v) for v in (var_list or [])}
        self._exclude_names = tuple(var_names or ())

    def _use_weight_decay(self, v) -> bool:
        if id(v) in self._exclude_ids:
            return False
        return not any(n in v.name for n in self._exclude_names)

    def minimize(self, loss, var_list, tape=None):
        """One step on ``loss`` (a zero-argument callable, or a tensor computed under ``tape``)."""
        from ...autodiff import GradientTape

        if callable(loss):
            with GradientTape() as tape:
                value = loss()
        else:
            if tape is None:
                raise ValueError("`tape` is required when a `Tensor` loss is passed.")
            value = loss
        var_list = var_list() if callable(var_list) else list(var_list)
        grads = tape.gradient(value, var_list)
        self.apply_gradients(zip(grads, var_list))
        return self._iterations

    # -- config ---------------------------------------------------------------------------------------------
    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = serialize_keras_object(lr)
        elif isinstance(lr, Variable):
            lr = float(lr.numpy())
        else:
            lr = serialize_keras_object(lr)
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = deserialize_keras_object(
                config["learning_rate"], custom_objects, kind="schedules"
            )
        return cls(**config)

    def save_own_variables(self, store: dict) -> None:
        self._sync_slots()
        for i, v in enumerate(self._variables):
            store[str(i)] = v

    def load_own_variables(self, store) -> None:
        self._sync_slots()
        if len(store) != len(self._variables):
            raise ValueError(
                f"Optimizer '{self.name}' has {len(self._variables)} variables whereas the saved "
                f"optimizer has {len(store)} variables (was it built on the model's variables?)"
            )
        for i, v in enumerate(self._variables):
            v.assign(store[str(i)])

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"
