"""Keras 3's ``model.export(path)``: a SavedModel with a ``serve`` endpoint and a
``serving_default`` signature (outputs ``output_0``, ... as Keras 3 names them)."""

from __future__ import annotations

from ..function.trace import Function
from ..spec import TensorSpec
from .save import keras_serving, save


def export(
    model, filepath, format: str = "tf_saved_model", verbose: bool = True, input_signature=None, **kwargs
) -> None:
    if format != "tf_saved_model":
        raise ValueError(
            f"model.export: format {format!r} is not supported; use 'tf_saved_model' "
            f"(webtensor's model files: model.save('m.safetensors'))"
        )
    if not getattr(model, "built", False) or not getattr(model, "inputs", None):
        if input_signature is None:
            raise ValueError("model.export: the model has no known inputs; build it or pass input_signature")
    serve, in_names, _ = keras_serving(model) if input_signature is None else _from_signature(model, input_signature)
    n_out = len(model.outputs) if getattr(model, "outputs", None) else 1
    save(
        model,
        filepath,
        signatures={"serving_default": (serve, in_names, [f"output_{i}" for i in range(n_out)])},
        _extra={"serve": serve},
    )
    if verbose:
        print(
            f"Saved artifact at '{filepath}'. Endpoint 'serve' takes "
            f"{', '.join(f'{s.name}: {s.dtype.name} {s.shape}' for s in serve.input_signature)}"
        )


def _from_signature(model, specs):
    import inspect

    specs = [s if isinstance(s, TensorSpec) else TensorSpec(s.shape, s.dtype) for s in specs]
    names = [s.name or f"inputs_{i}" if len(specs) > 1 else (s.name or "inputs") for i, s in enumerate(specs)]

    def serve(*xs):
        return model(xs[0] if len(xs) == 1 else list(xs), training=False)

    serve.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
    )
    return (
        Function(serve, input_signature=[TensorSpec(s.shape, s.dtype, n) for s, n in zip(specs, names)], name="serve"),
        names,
        None,
    )
