"""Moved to ``webtensor.keras.model_file`` (the Keras side of the model file); this name
still resolves, lazily, so the format package never imports Keras."""


def __getattr__(name: str):
    from ..keras import model_file

    return getattr(model_file, name)
