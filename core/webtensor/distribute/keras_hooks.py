"""What ``Model.fit/evaluate/predict`` call under a multi-worker strategy (one line each in trainer.py).

The model remembers the strategy whose scope ``compile`` ran in (TF: create and compile
the model in ``strategy.scope()``). With one worker every hook returns its input
unchanged; several local replicas in one process compute as one replica on the local
batch (the same sum of gradients; BatchNormalization sees the whole local batch).
With W workers:
- ``shard``: each global batch of B rows -> this worker's consecutive B/W rows; before the
  first batch the model's variables are broadcast from rank 0;
- ``reduce_gradients``: gradient x (local rows / B), then bucketed SUM all-reduce, so the
  update is the gradient of the loss averaged over the global batch (TF's loss scaling);
  inside a compiled step it is a ``tf.numpy_function`` node (a host call at each replay);
  ``gradients`` (train_step's call) is ``tape.gradient`` + that, and in an eager step it
  starts each bucket's all-reduce during the backward pass;
- ``reduce_metrics``: metric state variables SUM-reduced before the epoch's logs;
- ``gather_predictions``: predictions of every worker, in the global batch's order;
- ``is_chief``: only rank 0 writes checkpoints.
"""

from __future__ import annotations

import collections
import weakref

from .. import nest
from .input import rows, split_sizes, take_rows

_state: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # strategy -> per-model state


def on_compile(model) -> None:
    """Remember the strategy of the scope compile runs in."""
    from .context import has_strategy, get_strategy

    model._distribute_strategy = get_strategy() if has_strategy() else None


def _strategy(model):
    s = getattr(model, "_distribute_strategy", None)
    return s if s is not None and s._world > 1 else None


def _st(model) -> dict:
    d = getattr(model, "_distribute_state", None)
    if d is None:
        d = {"rows": collections.deque(), "sharded": False, "synced": False, "sizes": []}
        model._distribute_state = d
    return d


def dataset_for_fit(model, x, what: str = "fit"):
    """``fit/evaluate/predict(strategy.experimental_distribute_dataset(ds))`` read ``ds`` (global
    batches, which ``shard`` splits); on ``strategy.distribute_datasets_from_function(fn)`` they read
    this worker's own pipeline, its L local replicas' batches concatenated, and ``shard`` splits
    nothing (the global batch is the local one x workers, as TF's loss scaling assumes). ``predict``
    on a model never compiled in a scope takes the dataset's strategy (TF: the model's)."""
    from .input import DistributedDataset

    if getattr(model, "_distribute_state", None) is not None:
        model._distribute_state["presharded"] = False
    if not isinstance(x, DistributedDataset):
        return x
    if what == "predict" and getattr(model, "_distribute_strategy", None) is None:
        model._distribute_strategy = x._strategy
    if x._strategy is not getattr(model, "_distribute_strategy", None):
        raise ValueError(
            f"{what}: the DistributedDataset belongs to {x._strategy!r}, but the model was compiled "
            f"under {getattr(model, '_distribute_strategy', None)!r}; compile the model in the same "
            "strategy's scope"
        )
    if x._fn is None:
        return x._dataset
    _st(model)["presharded"] = True
    local = len(x._strategy._devices)
    return x._dataset if local == 1 else x._dataset.batch(local, drop_remainder=True).map(_merge_replicas)


def _merge_replicas(*parts):
    """[L, b, ...] (L per-replica batches stacked by .batch(L)) -> [L*b, ...], replica order kept."""
    from ..ops import array as A

    def one(t):
        return A.reshape(t, [-1] + [int(d) for d in t.shape[2:]])

    out = nest.map_structure(one, parts)
    return out[0] if len(out) == 1 else out


def shard(model, batches):
    """This worker's rows of each global batch; checks once per pass that workers agree on the data."""
    s = _strategy(model)
    if s is None:
        yield from batches
        return
    st = _st(model)
    if st.get("presharded"):
        yield from _own_batches(model, s, st, batches)
        return
    for step, batch in enumerate(batches):
        n = rows(batch)
        if n < s._world:
            raise ValueError(
                f"distribute: a global batch of {n} rows cannot be split over {s._world} workers; "
                f"use a batch size of at least {s._world} (or drop_remainder=True)"
            )
        if step == 0:
            _check_same_data(s, batch, n)
            st["sizes"] = []
            st["rows"].clear()
            if not model.built:
                raise ValueError(
                    f"distribute: {type(model).__name__} {model.name!r} is not built; under "
                    f"{type(s).__name__} with {s._world} workers build it before fit/evaluate/"
                    f"predict (start it with tf.keras.Input, or call model.build) so every worker "
                    f"starts from rank 0's weights"
                )
            if not st["synced"]:  # before the first (maybe compiled) step reads them
                broadcast_variables(s, model.variables)
                st["synced"] = True
        sizes = split_sizes(n, s._world)
        st["sizes"].append(sizes)
        start = sum(sizes[: s._rank])
        st["rows"].append((sizes[s._rank], n))  # consumed in order by the steps' gradient reductions
        st["sharded"] = True
        yield take_rows(batch, start, start + sizes[s._rank])


def _own_batches(model, s, st, batches):
    """Batches of this worker's own pipeline (distribute_datasets_from_function): nothing to split."""
    for step, batch in enumerate(batches):
        n = rows(batch)
        if step == 0:
            st["sizes"], st["rows"] = [], collections.deque()
            if not st["synced"]:
                broadcast_variables(s, model.variables)
                st["synced"] = True
        st["sizes"].append([n] * s._world)
        st["rows"].append((n, n * s._world))
        st["sharded"] = True
        yield batch


def _check_same_data(s, batch, n):
    """Workers slicing different global batches would silently train on the wrong data."""
    import numpy as np

    first = next(t for t in nest.flatten(batch) if t is not None)
    mine = np.array([n, float(np.asarray(first.numpy(), np.float64).sum())], np.float64)
    got = s._coll.all_gather(mine)
    if any(not np.allclose(g, got[0]) for g in got):
        raise ValueError(
            f"distribute: the workers read different global batches at the start of a pass "
            f"(rows, sum) = {[g.tolist() for g in got]}; every worker must see the same data in "
            f"the same order: call tf.random.set_seed(...) with the same seed on every worker, "
            f"or shuffle with a seed"
        )


OVERLAP_FIRST_PACK = 1 << 20  # the first bucket (the last layers' gradients), as torch DDP's


def gradients(model, tape, loss, variables) -> list:
    """``tape.gradient(loss, variables)`` all-reduced (``reduce_gradients``). Eagerly, with several
    workers, on a host backend and ``CommunicationOptions(overlap=True)``, each bucket's all-reduce
    starts as soon as its gradients are final (autodiff's ``_on_final``), while the backward pass
    goes on; the step waits for all of them before the optimizer update. Buckets follow the
    variables in reverse (the order their gradients finish), the first at most 1 MiB, the rest
    ``bytes_per_pack`` (25 MiB by default). Not overlapped: a compiled step (the all-reduce is one
    host call after the backward pass inside each replay), and the GPU backend (reading each
    gradient to the host mid-backward would cut its command batches)."""
    s = _strategy(model)
    if s is None or not _can_overlap(s):
        return reduce_gradients(model, tape.gradient(loss, variables))
    return _overlapped(s, model, tape, loss, list(variables))


def _can_overlap(s) -> bool:
    from .. import backends
    from ..function.trace import TRACER

    return s._options.overlap and not TRACER.stack and getattr(backends.default(), "name", "") != "gpu"


def _overlapped(s, model, tape, loss, variables: list) -> list:
    import numpy as np

    from .collective import pack, plan_buckets, unpack

    st = _st(model)
    local_n, n = st["rows"].popleft() if st["rows"] else (1, s._world)
    order = variables[::-1]  # gradients finish roughly last layer first
    items = [(v.dtype, _size(v.shape) * v.dtype.size) for v in order]
    limit = s._options.bytes_per_pack or (25 << 20)
    plan = [
        [len(variables) - 1 - j for j in idx] for idx, _ in plan_buckets(items, limit, min(limit, OVERLAP_FIRST_PACK))
    ]
    bucket_of = {i: b for b, idx in enumerate(plan) for i in idx}
    left = [len(idx) for idx in plan]
    got: dict = {}  # variable index -> scaled numpy gradient (None: no gradient)
    flying: list = [None] * len(plan)

    def start(b: int) -> None:
        live = [got[i] for i in plan[b] if got[i] is not None]
        flying[b] = (s._coll.start_sum(pack(live), s._options.compression), live) if live else ((), [])

    def on_final(i: int, g) -> None:
        if i in got:
            return
        got[i] = None if g is None else _scaled(np.asarray(g.numpy()), local_n / n)
        b = bucket_of[i]
        left[b] -= 1
        if left[b] == 0:
            start(b)

    tape._on_final = on_final
    try:
        grads = tape.gradient(loss, variables)
    finally:
        tape._on_final = None
    for i, g in enumerate(grads):  # sources the hook did not report (complex ones)
        on_final(i, g)
    out = list(grads)
    for b, idx in enumerate(plan):
        started, live = flying[b]
        if not live:
            continue
        summed = unpack(s._coll.wait_sum(started), live)
        for i, part in zip([i for i in idx if got[i] is not None], summed):
            out[i] = _constant(part.astype(got[i].dtype, copy=False))
    s._coll.step += 1
    return out


def _scaled(a, factor: float):
    import numpy as np

    return a * np.asarray(factor, a.dtype)


def _size(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def reduce_gradients(model, grads):
    """Inside a compiled step (tf.function) the all-reduce is a ``tf.numpy_function`` node: a host
    call at every replay, so the collectives compose with compiled train steps."""
    s = _strategy(model)
    if s is None:
        return grads
    ref = weakref.ref(model)  # no cycle model -> step function -> graph -> this closure -> model
    return _on_host(grads, lambda arrays: _all_reduce_host(s, ref(), arrays))


def _all_reduce_host(s, model, arrays: list) -> list:
    """Gradients x (local rows / global rows), summed over the workers in buckets (numpy arrays)."""
    import numpy as np

    st = _st(model)
    local_n, n = st["rows"].popleft() if st["rows"] else (1, s._world)  # unsharded (train_on_batch): mean
    return _sum(s, [_scaled(np.asarray(a), local_n / n) for a in arrays])


def broadcast_variables(s, variables) -> None:
    vs = list(variables)
    if not vs:
        return
    for v, a in zip(vs, s._coll.broadcast([v.numpy() for v in vs])):
        v.assign(_constant(a))


def reduce_metrics(model) -> None:
    s = _strategy(model)
    if s is None:
        return
    st = _st(model)
    if not st["sharded"]:
        return
    st["sharded"] = False
    vs = [v for m in model.metrics for v in m.variables]
    if vs:
        for v, a in zip(vs, s._coll.all_reduce([v.numpy() for v in vs], "sum")):
            v.assign(_constant(a))


def gather_predictions(model, joined: list) -> list:
    """Every worker's predictions (each the concat of its slices), back in global batch order."""
    s = _strategy(model)
    if s is None:
        return joined
    import numpy as np

    st = _st(model)
    sizes = st["sizes"]
    if st.get("presharded"):  # own pipelines: the workers' batch sizes (and counts) may differ
        per_worker = s._coll.all_gather(np.array([k[s._rank] for k in sizes], np.int64))
        steps = max(len(p) for p in per_worker)
        sizes = [[int(p[i]) if i < len(p) else 0 for p in per_worker] for i in range(steps)]
    out = []
    for t in joined:
        parts = s._coll.all_gather(t.numpy())
        offsets = [0] * s._world
        pieces = []
        for per_batch in sizes:
            for w, k in enumerate(per_batch):
                pieces.append(parts[w][offsets[w] : offsets[w] + k])
                offsets[w] += k
        out.append(_constant(np.concatenate(pieces, 0)))
    return out


def is_chief(model=None) -> bool:
    """False on every worker but rank 0 of a multi-worker strategy (they must not write files)."""
    from .context import get_strategy

    s = getattr(model, "_distribute_strategy", None) if model is not None else None
    s = s or get_strategy()
    return s._rank == 0


def _constant(a):
    from .. import tensor

    return tensor.constant(a)


def replica_gradients(grads: list):
    """``optimizer.apply`` inside ``strategy.run``: gradients summed over all replicas first, as TF
    (scale the loss by the global batch, e.g. with ``tf.nn.compute_average_loss``).

    Several local replicas run one after another, so the update is deferred: each replica
    but the last leaves its gradients here and gets None (the optimizer then skips), the
    last one gets the sum of all of them. The variables are unchanged until then, so every
    replica's gradients are taken at the same weights, as in TF's synchronous update."""
    from . import context

    ctx = context._replicas[-1] if context._replicas else None
    if ctx is None or ctx.strategy.num_replicas_in_sync == 1:
        return grads
    s = ctx.strategy
    n = len(s._devices)
    if n > 1:
        pending = s.__dict__.setdefault("_pending_grads", [])
        if ctx._local == 0:
            pending.clear()
        if len(pending) != ctx._local or (pending and len(pending[0]) != len(grads)):
            raise RuntimeError(
                f"optimizer.apply inside strategy.run: local replica {ctx._local} of "
                f"{type(s).__name__} applied {len(grads)} gradients after {len(pending)} replicas "
                "applied theirs; every replica must call apply_gradients once, on the same variables"
            )
        pending.append(list(grads))
        if ctx._local < n - 1:
            return None
        grads = [_sum_parts(parts) for parts in zip(*pending)]
        pending.clear()
        if s._coll is None:
            return grads
    return _on_host(grads, lambda arrays: _sum(s, arrays))


def _sum_parts(parts):
    from .strategy import _sum_local

    if any(p is None for p in parts):
        if all(p is None for p in parts):
            return None
        raise ValueError(
            "optimizer.apply inside strategy.run: a variable has a gradient on some replicas and None on others"
        )
    return _sum_local(list(parts))


def _sum(s, arrays: list) -> list:
    summed = s._coll.all_reduce(list(arrays), "sum", s._options.bytes_per_pack, s._options.compression)
    s._coll.step += 1
    return summed


def _on_host(grads: list, host) -> list:
    """``host(numpy arrays) -> numpy arrays`` over the non-None gradients: a direct call eagerly,
    a ``tf.numpy_function`` node (a host call at every replay) inside a tf.function trace."""
    from ..function.trace import TRACER

    live = [i for i, g in enumerate(grads) if g is not None]
    if TRACER.stack:
        from ..function.py_function import numpy_function
        from ..spec import TensorSpec

        specs = [TensorSpec(tuple(grads[i].shape), grads[i].dtype) for i in live]
        summed = numpy_function(lambda *arrays: host(list(arrays)), [grads[i] for i in live], specs)
    else:
        summed = [_constant(a) for a in host([grads[i].numpy() for i in live])]
    out = list(grads)
    for i, a in zip(live, summed):
        out[i] = a
    return out
