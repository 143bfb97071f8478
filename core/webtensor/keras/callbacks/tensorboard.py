"""``tf.keras.callbacks.TensorBoard``: training curves and weight histograms as event files.

Follows Keras 3: ``<log_dir>/train`` gets ``epoch_<metric>`` scalars (plus ``epoch_learning_rate``)
at each epoch end, ``<log_dir>/validation`` gets the ``val_`` metrics under the same names and
``evaluation_<metric>_vs_iterations`` after each evaluation; ``update_freq=N`` adds
``batch_<metric>`` every N training batches; ``histogram_freq`` adds ``<weight path>/histogram``
(and ``<weight path>/image`` with ``write_images``); ``write_graph`` stores the model's JSON
config for TensorBoard's conceptual graph.
"""

from __future__ import annotations

import os
import time
import warnings

from ... import summary
from ...ops import array as A
from ...summary import proto
from .callback import Callback


class TensorBoard(Callback):
    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__()
        if (
            update_freq != "epoch"
            and update_freq != "batch"
            and (isinstance(update_freq, bool) or not isinstance(update_freq, int) or update_freq < 1)
        ):
            raise ValueError(
                f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive integer, got {update_freq!r}"
            )
        if profile_batch not in (0, None, "0", (0, 0)):
            raise ValueError(
                "TensorBoard: profiling is not available in webtensor (as in Keras 3 on its "
                f"numpy and torch backends); got profile_batch={profile_batch!r}, must be 0"
            )
        if embeddings_freq:
            raise ValueError(
                "TensorBoard: the embedding projector is not supported; "
                f"got embeddings_freq={embeddings_freq!r}, must be 0"
            )
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = int(histogram_freq or 0)
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._global_train_batch = 0
        self._step_before = None
        self._writers: dict = {}
        self._contexts: list = []
        self._epoch_start = self._batch_start = 0.0
        self._epoch_iterations = 0

    def _implements(self, kind: str) -> bool:
        """Ask fit for per-batch logs (a host read every step) only when batches are logged."""
        return kind == "train" and (self.update_freq != "epoch" or bool(self.write_steps_per_second))

    def set_model(self, model):
        super().set_model(model)
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._writers = {}  # a new fit/evaluate gets new event files, as in Keras
        if self.write_graph:
            self._write_model_config()

    def _writer(self, which: str):
        if which not in self._writers:
            self._writers[which] = summary.create_file_writer(self._train_dir if which == "train" else self._val_dir)
        return self._writers[which]

    def _write_model_config(self) -> None:
        """The model's JSON under tag ``keras`` (plugin ``graph_keras_model``), for TensorBoard's Graphs tab."""
        to_json = getattr(self.model, "to_json", None)
        if to_json is None:
            return
        try:
            config = to_json()
        except Exception as e:  # a model that cannot serialise must not stop training (Keras does the same)
            warnings.warn(f"TensorBoard: model failed to serialize as JSON; not writing the graph ({e})")
            return
        meta = proto.summary_metadata("graph_keras_model", b"1")
        with summary.record_if(True), self._writer("train").as_default():
            summary.write("keras", config, step=0, metadata=meta)

    # -- batch-level logging: a default writer that records every update_freq batches --------
    def _push_writer(self, which: str) -> None:
        if self.update_freq == "epoch":
            return
        ctx = (
            self._writer(which).as_default(),
            summary.record_if(lambda: self._global_train_batch % self.update_freq == 0),
        )
        for c in ctx:
            c.__enter__()
        self._contexts.append(ctx)

    def _pop_writer(self) -> None:
        if self.update_freq == "epoch" or not self._contexts:
            return
        for c in reversed(self._contexts.pop()):
            c.__exit__(None, None, None)

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._step_before = summary.experimental.get_step()
        self._push_writer("train")

    def on_train_end(self, logs=None):
        self._pop_writer()
        if self.update_freq != "epoch":
            summary.experimental.set_step(self._step_before)
        for w in self._writers.values():
            w.close()

    def on_test_begin(self, logs=None):
        self._push_writer("validation")

    def on_test_end(self, logs=None):
        iterations = getattr(getattr(self.model, "optimizer", None), "iterations", None)
        if logs and iterations is not None:
            with summary.record_if(True), self._writer("validation").as_default():
                for name, value in logs.items():
                    summary.scalar(f"evaluation_{name}_vs_iterations", value, step=iterations)
        self._pop_writer()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.update_freq != "epoch":
            summary.experimental.set_step(self._global_train_batch)
        if self.write_steps_per_second:
            self._batch_start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch":
            return
        if self.write_steps_per_second:
            summary.scalar(
                "batch_steps_per_second",
                1.0 / max(time.time() - self._batch_start, 1e-9),
                step=self._global_train_batch,
            )
        if isinstance(logs, dict):
            for name, value in logs.items():
                summary.scalar("batch_" + name, value, step=self._global_train_batch)

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start = time.time()
            self._epoch_iterations = self._global_train_batch

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)

    def _log_epoch_metrics(self, epoch: int, logs: dict) -> None:
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        lr = self._learning_rate()
        if lr is not None:
            train["learning_rate"] = lr
        if self.write_steps_per_second:
            steps = self._global_train_batch - self._epoch_iterations
            train["steps_per_second"] = steps / max(time.time() - self._epoch_start, 1e-9)
        for which, values in (("train", train), ("validation", val)):
            if values:
                with summary.record_if(True), self._writer(which).as_default():
                    for name, value in values.items():
                        summary.scalar("epoch_" + name, value, step=epoch)

    def _learning_rate(self):
        opt = getattr(self.model, "optimizer", None)
        lr = getattr(opt, "learning_rate", None)
        if lr is None:
            return None
        if callable(lr) and not hasattr(lr, "numpy"):  # a schedule: its value at the current step
            lr = lr(opt.iterations)
        try:
            return float(lr)
        except (TypeError, ValueError):
            return None

    def _log_weights(self, epoch: int) -> None:
        with summary.record_if(True), self._writer("train").as_default():
            for layer in self.model.layers:
                for w in layer.weights:
                    name = getattr(w, "path", None) or w.name.replace(":", "_")
                    summary.histogram(name + "/histogram", w, step=epoch)
                    if self.write_images:
                        self._log_weight_as_image(w, name + "/image", epoch)
            self._writer("train").flush()

    def _log_weight_as_image(self, weight, tag: str, epoch: int) -> None:
        """Keras's layout: a bias is a 1-pixel-wide column, a kernel an image with the longer side
        as height, a 3-D kernel one image per output position; others are skipped."""
        img = A.squeeze(weight)
        shape = tuple(img.shape)
        if len(shape) == 1:
            img = A.reshape(img, (1, shape[0], 1, 1))
        elif len(shape) == 2:
            if shape[0] > shape[1]:
                img = A.transpose(img)
                shape = tuple(img.shape)
            img = A.reshape(img, (1, shape[0], shape[1], 1))
        elif len(shape) == 3:
            img = A.transpose(img, (2, 0, 1))
            img = A.reshape(img, tuple(img.shape) + (1,))
        shape = tuple(img.shape)
        if len(shape) == 4 and shape[-1] in (1, 3, 4):
            summary.image(tag, img, step=epoch)
