"""``BackupAndRestore``: resume an interrupted ``fit`` from its last backup (Keras 3's callback).

The backup is one ``tf.train.Checkpoint`` file (written atomically: temp file, fsync,
rename) holding the model's weights, the optimizer's state (slots, ``iterations``) and
the epoch to resume at, so a resumed run continues exactly where the backup was taken.
Under a multi-worker strategy only the chief writes; every worker reads the same file.
"""

from __future__ import annotations

import os
import shutil

from .callback import Callback


class BackupAndRestore(Callback):
    """``BackupAndRestore(backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True)``.

    ``save_freq``: ``"epoch"`` (after each epoch), an int (every N batches; a resumed run
    restarts the saved epoch from its first batch, as Keras 3), or False (never saves)."""

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: empty `backup_dir` argument passed")
        if (
            save_freq != "epoch"
            and save_freq is not False
            and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1)
        ):
            raise ValueError(
                f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. "
                f"Expected either 'epoch' or a positive integer"
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq, self.double_checkpoint, self.delete_checkpoint = save_freq, double_checkpoint, delete_checkpoint
        self._path = os.path.join(self.backup_dir, "latest.safetensors")  # tf.train.Checkpoint's suffix
        self._prev_path = os.path.join(self.backup_dir, "previous.safetensors")
        self._batches = 0
        self._current_epoch = 0

    def _implements(self, kind):
        return kind == "train" and isinstance(self.save_freq, int) and not isinstance(self.save_freq, bool)

    def on_train_begin(self, logs=None):
        """Every worker: make the checkpoint's objects (variables are made on all workers alike, so a
        strategy scope mirrors them in step), then read the last backup if there is one."""
        from ... import train
        from ...tensor import Variable

        if not self.model.built:
            raise ValueError(
                f"To use the BackupAndRestore callback, your model must be built before you call "
                f"`fit()`. Model {self.model.name} is unbuilt."
            )
        opt = self.model.optimizer
        if opt is not None and not getattr(opt, "built", True):
            opt.build(self.model.trainable_variables)
        self._epoch_var = Variable(0, name="epoch")
        self._ckpt = train.Checkpoint(model=self.model, optimizer=opt, epoch=self._epoch_var)
        for path in (self._path, self._prev_path if self.double_checkpoint else None):
            if path and os.path.exists(path):
                try:
                    self._ckpt.read(path).expect_partial()
                except (ValueError, OSError):
                    if path == self._prev_path or not self.double_checkpoint:
                        raise
                    continue
                self.model._initial_epoch = int(self._epoch_var.numpy())
                return

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self._implements("train") and self._batches % self.save_freq == 0:
            self._save(self._current_epoch)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch + 1)

    def _save(self, resume_epoch: int) -> None:
        from ...distribute.keras_hooks import is_chief

        if not is_chief(self.model):
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._path):
            os.replace(self._path, self._prev_path)
        self._epoch_var.assign(resume_epoch)
        self._ckpt.write(self._path)

    def on_train_end(self, logs=None):
        from ...distribute.keras_hooks import is_chief

        self.model._initial_epoch = None
        if self.delete_checkpoint and is_chief(self.model) and os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir, ignore_errors=True)
