"""``keras.utils.image_dataset_from_directory`` / ``text_dataset_from_directory``: one class per
sub-directory, Keras 3's indexing, splitting and labels; images decoded in pure Python (PNG).

File order: class folders sorted, files sorted within each (walking sub-folders), then, with
``shuffle``, one global shuffle by ``seed`` (numpy's ``RandomState`` where numpy exists, so the
order is Keras's; Python's ``random`` otherwise) before the training/validation split.
"""

from __future__ import annotations

import os
import random

from .. import dtypes as D
from ..ops import array as A
from ..ops import math as M
from ..tensor import constant

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def _check_split(validation_split, subset, shuffle, seed) -> None:
    if validation_split is not None and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: {validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'`subset` must be either "training", "validation" or "both", received: {subset}')
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide a `seed` argument, "
            "to make sure that there is no overlap between the training and validation subset."
        )


def _walk(path: str, formats, follow_links: bool) -> list:
    out = []
    for root, dirs, files in os.walk(path, followlinks=follow_links):
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(formats):
                out.append(os.path.join(root, name))
    return out


def _shuffle(items: list, seed: int) -> None:
    try:
        import numpy as np
    except ImportError:
        random.Random(seed).shuffle(items)
        return
    np.random.RandomState(seed).shuffle(items)


def index_directory(
    directory, labels, formats, class_names=None, shuffle=True, seed=None, follow_links=False, verbose=True
) -> tuple:
    """``(file_paths, labels, class_names)`` as Keras 3's ``dataset_utils.index_directory``."""
    if not os.path.isdir(directory):
        raise ValueError(f"Directory {directory!r} does not exist or is not a directory")
    if labels == "inferred":
        subdirs = sorted(d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d)))
        if class_names is not None:
            if not set(class_names) <= set(subdirs):
                raise ValueError(
                    f"The `class_names` passed did not match the names of the subdirectories of the "
                    f"target directory. Expected: {subdirs} (or a subset of it), but received: "
                    f"class_names={class_names}"
                )
            subdirs = list(class_names)
        class_names = subdirs
        paths, found = [], []
        for i, sub in enumerate(subdirs):
            files = _walk(os.path.join(directory, sub), formats, follow_links)
            paths += files
            found += [i] * len(files)
    else:
        paths = _walk(directory, formats, follow_links)
        found = None
        if labels is not None:
            found = list(labels)
            if len(found) != len(paths):
                raise ValueError(
                    f"Expected the lengths of `labels` to match the number of files in the target "
                    f"directory. len(labels) is {len(found)} while we found {len(paths)} files in "
                    f"directory {directory}."
                )
            class_names = [str(c) for c in sorted(set(found))]
    if verbose:
        print(
            f"Found {len(paths)} files"
            + (f" belonging to {len(class_names)} classes." if labels is not None and class_names is not None else ".")
        )
    if shuffle:
        seed = random.randint(0, 10**6 - 1) if seed is None else seed
        _shuffle(paths, seed)
        if found is not None:
            _shuffle(found, seed)
    return paths, found, class_names


def _split(paths, labels, validation_split, subset, verbose) -> tuple:
    if not validation_split:
        return paths, labels
    n_val = int(validation_split * len(paths))
    if subset == "training":
        if verbose:
            print(f"Using {len(paths) - n_val} files for training.")
        return paths[: len(paths) - n_val], None if labels is None else labels[: len(paths) - n_val]
    if verbose:
        print(f"Using {n_val} files for validation.")
    return paths[len(paths) - n_val :], None if labels is None else labels[len(labels) - n_val :]


def _label_tensor(labels, label_mode, num_classes):
    if label_mode == "int":
        return constant(labels, D.int32)
    if label_mode == "binary":
        return A.reshape(constant([float(v) for v in labels], D.float32), (-1, 1))
    return A.one_hot(constant(labels, D.int32), num_classes)


def _check_labels(labels, label_mode, class_names) -> None:
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(
            f'`label_mode` argument must be one of "int", "categorical", "binary", or None. '
            f"Received: label_mode={label_mode}"
        )
    if labels is None or label_mode is None:
        return
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(
            f'When passing `label_mode="binary"`, there must be exactly 2 class_names. Received: '
            f"class_names={class_names}"
        )


def _dataset(paths, labels, label_mode, class_names, load, batch_size, shuffle, seed):
    from ..data import Dataset

    if not paths:
        return None
    ds = Dataset.from_tensor_slices(constant([p.encode("utf-8") for p in paths]))
    if labels is not None and label_mode is not None:
        ds = Dataset.zip((ds, Dataset.from_tensor_slices(_label_tensor(labels, label_mode, len(class_names)))))
    if shuffle:
        ds = ds.shuffle(batch_size * 8 if batch_size else 1024, seed=seed)
    ds = ds.map(load if labels is None or label_mode is None else (lambda p, y: (load(p), y)))
    if batch_size is not None:
        ds = ds.batch(batch_size)
    ds = ds.prefetch(-1)
    ds.class_names, ds.file_paths = class_names, list(paths)
    return ds


def _read(path) -> bytes:
    name = path.numpy().decode("utf-8") if hasattr(path, "numpy") else path
    with open(name, "rb") as f:
        return f.read()


def _image_loader(image_size, channels, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio):
    from .. import image as I
    from ..errors import InvalidArgumentError
    from .layers.image_preprocessing import Resizing

    resize = Resizing(
        *image_size,
        interpolation=interpolation,
        crop_to_aspect_ratio=crop_to_aspect_ratio,
        pad_to_aspect_ratio=pad_to_aspect_ratio,
    )

    def load(path):
        data = _read(path)
        try:
            img = I.decode_image(data, channels=channels)
        except InvalidArgumentError as e:
            raise InvalidArgumentError(f"{path.numpy().decode('utf-8')}: {e}") from None
        out = resize(M.cast(img, D.float32))
        return out

    return load


def image_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    color_mode="rgb",
    batch_size=32,
    image_size=(256, 256),
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    interpolation="bilinear",
    follow_links=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    data_format=None,
    verbose=True,
):
    """A ``tf.data.Dataset`` of ``(images, labels)`` batches from ``directory/<class>/*.png``.
    Images are float32 ``(batch, height, width, channels)`` resized to ``image_size``."""
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError(
            f"`labels` argument should be a list/tuple of integer labels, of the same size as the "
            f'number of image files in the target directory, "inferred" or None. Received: '
            f"labels={labels}"
        )
    if class_names is not None and labels != "inferred":
        raise ValueError('You can only pass `class_names` if `labels="inferred"`.')
    channels = {"rgb": 3, "rgba": 4, "grayscale": 1}.get(color_mode)
    if channels is None:
        raise ValueError(
            f'`color_mode` must be one of {{"rgb", "rgba", "grayscale"}}. Received: color_mode={color_mode}'
        )
    if data_format not in (None, "channels_last"):
        raise ValueError(
            f"image_dataset_from_directory: only data_format='channels_last' is supported, got {data_format!r}"
        )
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be set to `True`.")
    _check_split(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = random.randint(0, 10**6 - 1)
    paths, found, class_names = index_directory(
        directory, labels, IMAGE_FORMATS, class_names, shuffle, seed, follow_links, verbose
    )
    _check_labels(found, label_mode, class_names)
    if not paths:
        raise ValueError(f"No images found in directory {directory}. Allowed formats: {IMAGE_FORMATS}")
    load = _image_loader(tuple(image_size), channels, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio)

    def make(which):
        p, y = _split(paths, found, validation_split, which, verbose)
        if not p:
            raise ValueError(f"No images found for the {which} subset of directory {directory}")
        return _dataset(p, y, label_mode, class_names, load, batch_size, shuffle, seed)

    if subset == "both":
        return [make("training"), make("validation")]
    return make(subset)


def text_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    max_length=None,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    verbose=True,
):
    """A ``tf.data.Dataset`` of ``(texts, labels)`` from ``directory/<class>/*.txt``: each file is one
    ``tf.string`` element (bytes as stored), cut to ``max_length`` bytes if given."""
    if class_names is not None and labels != "inferred":
        raise ValueError('You can only pass `class_names` if `labels="inferred"`.')
    _check_split(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = random.randint(0, 10**6 - 1)
    paths, found, class_names = index_directory(
        directory, labels, (".txt",), class_names, shuffle, seed, follow_links, verbose
    )
    _check_labels(found, label_mode, class_names)
    if not paths:
        raise ValueError(f"No text files found in directory {directory}. Allowed format: .txt")

    def load(path):
        data = _read(path)
        return constant(data[:max_length] if max_length is not None else data)

    def make(which):
        p, y = _split(paths, found, validation_split, which, verbose)
        return _dataset(p, y, label_mode, class_names, load, batch_size, shuffle, seed)

    if subset == "both":
        return [make("training"), make("validation")]
    return make(subset)
