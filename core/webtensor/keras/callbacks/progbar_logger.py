"""``ProgbarLogger``: prints Keras's progress bar (verbose 1) or one line per epoch (verbose 2)."""

from __future__ import annotations

from ..utils import Progbar
from .callback import Callback, to_floats


class ProgbarLogger(Callback):
    raw_batch_logs = True

    def __init__(self, count_mode=None):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _reset(self):
        self.seen = 0
        self.progbar = None
        if self.verbose:
            self._bar()

    def _bar(self):
        if self.progbar is None:
            self.progbar = Progbar(target=self.target, verbose=self.verbose, unit_name="step")
        return self.progbar

    def _in_fit(self):
        return self.model is not None and getattr(self.model, "_in_fit", False)

    def on_test_begin(self, logs=None):
        if not self._in_fit():
            self._reset()

    def on_predict_begin(self, logs=None):
        self._reset()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}")

    def _update(self, batch, logs):
        self.seen = batch + 1
        if self.verbose == 1:
            bar = self._bar()
            if bar.should_update(self.seen):  # skipped steps are averaged in on the next redraw
                bar.update(self.seen, list(to_floats(logs).items()), finalize=False)

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit():
            self._update(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, None)

    def _finalize(self, logs):
        if self.verbose == 0:
            return
        bar = self._bar()
        if self.target is None:
            bar.target = self.target = self.seen
        bar.update(self.target, list(to_floats(logs).items()), finalize=True)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize(logs)

    def on_test_end(self, logs=None):
        if not self._in_fit():
            self._finalize(logs)

    def on_predict_end(self, logs=None):
        self._finalize(logs)
