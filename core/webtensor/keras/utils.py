"""``tf.keras.utils``: Progbar, to_categorical, set_random_seed and the serialization helpers."""

from __future__ import annotations

import math
import os
import sys
import time

from .. import random as _random
from ..ops import array as A
from ..ops import math as M
from ..tensor import convert
from .saving import (  # noqa: F401
    custom_object_scope,
    deserialize_keras_object,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)


def to_categorical(x, num_classes=None):
    """Integer class labels -> one-hot float32 rows (a numpy array where numpy exists)."""
    t = convert(x)
    if len(t.shape) > 1 and t.shape[-1] == 1:
        t = A.squeeze(t, -1)
    if num_classes is None:
        from ..ops.reduce import reduce_max

        num_classes = int(reduce_max(t)) + 1
    labels = t if t.dtype.is_integer else M.cast(t, "int32")
    _check_labels(labels, num_classes)
    return A.one_hot(labels, num_classes).numpy()


def _check_labels(labels, num_classes) -> None:
    """Labels outside [0, num_classes) were all-zero rows; Keras raises for them."""
    from ..ops.reduce import reduce_max, reduce_min

    if not labels.shape.num_elements():
        return
    lo, hi = int(reduce_min(labels)), int(reduce_max(labels))
    if lo < 0 or hi >= num_classes:
        bad = lo if lo < 0 else hi
        raise ValueError(
            f"to_categorical: label {bad} is out of range for num_classes={num_classes} "
            f"(labels must be in [0, {num_classes}))"
        )


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random`` and ``tf.random`` (numpy too, if it is here)."""
    import random

    random.seed(seed)
    _random.set_seed(seed)
    np = sys.modules.get("numpy")
    if np is not None:
        np.random.seed(seed)


class Progbar:
    """Keras's text progress bar: ``12/43 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - loss: 0.4``.

    Values not in ``stateful_metrics`` are averaged over the steps since the last
    update, weighted by how many steps each covers, exactly as Keras does."""

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None, unit_name="step"):
        self.target, self.width, self.verbose = target, width, verbose
        self.interval, self.unit_name = interval, unit_name
        self.stateful_metrics = set(stateful_metrics or ())
        out = sys.stdout
        self._dynamic_display = (
            (hasattr(out, "isatty") and out.isatty())
            or "ipykernel" in sys.modules
            or "posix" in sys.modules
            or "PYCHARM_HOSTED" in os.environ
        )
        self._seen_so_far = 0
        self._values: dict = {}
        self._values_order: list = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._prev_total_width = 0

    def should_update(self, current) -> bool:
        """Whether ``update(current, ...)`` would draw now (callers skip reading values if not)."""
        finalize = self.target is not None and current >= self.target
        return self.verbose == 1 and (finalize or time.time() - self._last_update >= self.interval)

    def update(self, current, values=None, finalize=None):
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for k, v in values or []:
            if k not in self._values_order:
                self._values_order.append(k)
            if k in self.stateful_metrics or finalize:
                self._values[k] = [v, 1]
            else:
                base = max(current - self._seen_so_far, 1)
                if k not in self._values:
                    self._values[k] = [v * base, base]
                else:
                    self._values[k][0] += v * base
                    self._values[k][1] += base
        self._seen_so_far = current
        now = time.time()
        per_unit = self._step_duration(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            message = ("\b" * self._prev_total_width + "\r") if self._dynamic_display else "\n"
            special = 0
            if self.target is not None and self.target > 0:
                digits = int(math.log10(self.target)) + 1
                bar = f"\x1b[1m{current:{digits}d}/{self.target}\x1b[0m "
                special += 8
                done = int(self.width * current / self.target)
                if done > 0:
                    bar += f"\33[32m{'━' * done}\x1b[0m"
                    special += 9
                bar += f"\33[37m{'━' * (self.width - done)}\x1b[0m"
                special += 9
            else:
                bar = f"{current:7d}/Unknown"
            message += bar
            if self.target is not None and self.target > 0 and not finalize:
                eta = per_unit * (self.target - current)
                if eta > 3600:
                    eta_s = f"{int(eta // 3600)}:{int((eta % 3600) // 60):02d}:{int(eta % 60):02d}"
                elif eta > 60:
                    eta_s = f"{int(eta // 60)}:{int(eta % 60):02d}"
                else:
                    eta_s = f"{int(eta)}s"
                info = f" \x1b[1m{eta_s}\x1b[0m"
            else:
                info = f" \x1b[1m{now - self._start:.0f}s\x1b[0m"
            special += 8
            info += self._format_time(per_unit)
            info += self._format_values(abs_threshold=True)
            message += info
            width = len(bar) + len(info) - special
            if self._prev_total_width > width:
                message += " " * (self._prev_total_width - width)
            if finalize:
                message += "\n"
            sys.stdout.write(message)
            sys.stdout.flush()
            self._prev_total_width = width
        elif self.verbose == 2 and finalize and self.target:
            digits = int(math.log10(self.target)) + 1
            info = f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s -"
            info += self._format_time(per_unit) + self._format_values(abs_threshold=False) + "\n"
            sys.stdout.write(info)
            sys.stdout.flush()
        self._last_update = now

    def add(self, n, values=None):
        self.update(self._seen_so_far + n, values)

    def _format_values(self, abs_threshold):
        out = ""
        for k in self._values_order:
            total, count = self._values[k]
            avg = total / max(1, count)
            big = abs(avg) > 1e-3 if abs_threshold else avg > 1e-3
            out += f" - {k}: {avg:.4f}" if big else f" - {k}: {avg:.4e}"
        return out

    def _format_time(self, per_unit):
        if per_unit >= 1 or per_unit == 0:
            return f" {per_unit:.0f}s/{self.unit_name}"
        if per_unit >= 1e-3:
            return f" {per_unit * 1000.0:.0f}ms/{self.unit_name}"
        return f" {per_unit * 1000000.0:.0f}us/{self.unit_name}"

    def _step_duration(self, current, now):
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            return (now - self._time_after_first_step) / (current - 1)
        if current == 1:
            self._time_after_first_step = now
        return (now - self._start) / current


from ._data_utils import pad_sequences, split_dataset, timeseries_dataset_from_array  # noqa: F401,E402
from ._dataset_dirs import image_dataset_from_directory, text_dataset_from_directory  # noqa: F401,E402
from ._file_utils import get_file  # noqa: F401,E402
from ._plot_model import model_to_dot, plot_model  # noqa: F401,E402
