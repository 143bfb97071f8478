"""``Callback`` (the hooks fit/evaluate/predict call) and ``CallbackList`` (dispatch).

Per-batch logs are only computed when some callback overrides a batch hook, and
are read back to Python floats once per step for all such callbacks together;
``ProgbarLogger`` reads them only when it redraws.
"""

from __future__ import annotations

_BATCH_HOOKS = {
    "train": ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}


def to_floats(logs: dict | None) -> dict:
    """Tensors and numbers in ``logs`` -> Python floats (lists stay lists)."""
    out = {}
    for k, v in (logs or {}).items():
        if hasattr(v, "numpy"):
            v = v.numpy()
            v = v.tolist() if hasattr(v, "tolist") else v
        out[k] = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
    return out


class Callback:
    """Base class: override the ``on_*`` hooks you need. ``self.model`` is the model being fit."""

    raw_batch_logs = False  # True: receives tensors in batch logs and reads them itself

    def __init__(self):
        self.params: dict = {}
        self._model = None

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model) -> None:
        self._model = model

    @property
    def model(self):
        return self._model

    def _implements(self, kind: str) -> bool:
        return any(getattr(type(self), h) is not getattr(Callback, h) for h in _BATCH_HOOKS[kind])

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass


class CallbackList(Callback):
    """Calls every callback's hook in order; adds History and ProgbarLogger for fit."""

    def __init__(self, callbacks=None, add_history: bool = False, add_progbar: bool = False, model=None, **params):
        super().__init__()
        self.callbacks = list(callbacks.callbacks if isinstance(callbacks, CallbackList) else callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be tf.keras.callbacks.Callback instances, got {type(cb).__name__}")
        if add_progbar and not any(type(c).__name__ == "ProgbarLogger" for c in self.callbacks):
            from .progbar_logger import ProgbarLogger

            self.callbacks.append(ProgbarLogger())
        self.history = None
        if add_history:
            from .history import History

            self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
            if self.history is None:
                self.history = History()
                self.callbacks.append(self.history)
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def set_model(self, model):
        super().set_model(model)
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        for cb in self.callbacks:
            cb.set_params(params)

    def wants_batch_logs(self, kind: str = "train") -> bool:
        return any(cb._implements(kind) for cb in self.callbacks)

    def append(self, callback) -> None:
        self.callbacks.append(callback)

    def _call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def _batch(self, kind, hook, batch, logs):
        floats = None
        for cb in self.callbacks:
            if not cb._implements(kind):
                continue
            if cb.raw_batch_logs:
                getattr(cb, hook)(batch, logs)
            else:
                if floats is None:
                    floats = to_floats(logs)
                getattr(cb, hook)(batch, floats)

    def on_train_batch_begin(self, batch, logs=None):
        self._batch("train", "on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._batch("train", "on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._batch("test", "on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._batch("test", "on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._batch("predict", "on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._batch("predict", "on_predict_batch_end", batch, logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)
