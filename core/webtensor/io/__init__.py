"""Bringing models in from other libraries: Keras 3 ``.keras`` archives and legacy ``.h5``.

``import_keras(path)`` rebuilds a Keras model as a ``webtensor.keras`` model with
its weights; the result saves to one ``.safetensors`` file like any other model.
"""

from .keras_files import KerasFile, read as read_keras_file  # noqa: F401
from .keras_import import import_keras, load_keras_weights  # noqa: F401
from .tfrecord import TFRecordOptions, TFRecordWriter, tf_record_iterator  # noqa: F401,E402
from .example_proto import FixedLenFeature, VarLenFeature, parse_example, parse_single_example  # noqa: F401,E402,E501
from .files import (  # noqa: F401,E402
    decode_csv,
    decode_raw,
    matching_files,
    parse_tensor,
    read_file,
    serialize_tensor,
    write_file,
)
from . import gfile  # noqa: F401,E402
from ..image.decode import decode_image, decode_jpeg, decode_png  # noqa: F401,E402 (TF has them in tf.io too)
from ..image.encode import encode_jpeg, encode_png  # noqa: F401,E402
