"""``keras.datasets``: the standard datasets read from Keras's cache (``~/.keras/datasets``, or
``$KERAS_HOME``) with Keras 3's file names, parsing and splits. Nothing is downloaded: a missing
file is ``get_file``'s error saying where to put it. These return numpy arrays, as Keras does,
so they need numpy (native; not in the page)."""

from . import boston_housing, cifar10, cifar100, fashion_mnist, imdb, mnist, reuters  # noqa: F401
