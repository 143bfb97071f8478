"""CIFAR batch files (pickled dicts of numpy arrays), read with the restricted unpickler."""

from ._common import RestrictedUnpickler


def load_batch(fpath, label_key="labels"):
    with open(fpath, "rb") as f:
        d = RestrictedUnpickler(f, encoding="bytes").load()
    d = {k.decode("utf8"): v for k, v in d.items()}
    data = d["data"]
    return data.reshape(data.shape[0], 3, 32, 32), d[label_key]
