"""``tf.keras.layers``."""

from .layer import InputSpec, KerasVariable, Layer  # noqa: F401
from .input_layer import Input, InputLayer, KerasTensor  # noqa: F401
from .core import Activation, Dense, Dropout, Embedding, Flatten, Identity, Permute, Reshape  # noqa: F401
from .activation import ELU, LeakyReLU, ReLU, Softmax  # noqa: F401
from .merge import (  # noqa: F401
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    concatenate,
    multiply,
)
from .conv import (  # noqa: F401
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    DepthwiseConv2D,
    SeparableConv2D,
)
from .pooling import (  # noqa: F401
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from .normalization import BatchNormalization, LayerNormalization  # noqa: F401
from .rnn import GRU, LSTM, RNN, Bidirectional, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell  # noqa: F401
from .attention import MultiHeadAttention  # noqa: F401
from .reshaping import (  # noqa: F401
    Cropping2D,
    RepeatVector,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from .preprocessing import CenterCrop, Discretization, Normalization, RandomFlip, Rescaling  # noqa: F401
from .category_layers import CategoryEncoding, Hashing, IntegerLookup, StringLookup  # noqa: F401
from .text_vectorization import TextVectorization  # noqa: F401
from .lambda_layer import Lambda  # noqa: F401
from .noise import (  # noqa: F401
    ActivityRegularization,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from .group_normalization import GroupNormalization, UnitNormalization  # noqa: F401
from .wrappers import TimeDistributed  # noqa: F401
from .dot_attention import AdditiveAttention, Attention  # noqa: F401
from .conv3d import AveragePooling3D, Conv3D, MaxPooling3D  # noqa: F401
from .conv_lstm import ConvLSTM2D  # noqa: F401
from .masking import Masking  # noqa: F401
from .image_preprocessing import (  # noqa: F401
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Resizing,
)

Convolution1D, Convolution2D, Conv2DTranspose = Conv1D, Conv2D, Conv2DTranspose
MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
Convolution3D, MaxPool3D, AvgPool3D = Conv3D, MaxPooling3D, AveragePooling3D


def serialize(layer) -> dict:
    from ..saving import serialize_keras_object

    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    from ..saving import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects, kind="layers")
