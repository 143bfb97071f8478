"""Serving: a TensorFlow Serving-compatible REST server (Starlette + uvicorn) with hot
swap of model versions, and the static-site builder for pages that run models in the
browser. ``python -m webtensor serve`` / ``python -m webtensor site``.

Only ``servable``, ``repository`` and ``worker`` are needed without the web stack;
``app`` needs the ``serve`` extra (starlette, uvicorn)."""
