"""``tf.version``: a TF-2 version string (the TF API level webtensor follows) plus our own.

``VERSION`` is PEP 440 valid, so code that parses ``tf.__version__`` (``packaging``,
``startswith("2.")``) sees TF 2.21's API level and the webtensor release beside it."""

WEBTENSOR_VERSION = "0.1.0"
TF_API_VERSION = "2.21.0"
VERSION = f"{TF_API_VERSION}+webtensor.{WEBTENSOR_VERSION}"
GIT_VERSION = f"webtensor-{WEBTENSOR_VERSION}"
COMPILER_VERSION = "pure Python"
