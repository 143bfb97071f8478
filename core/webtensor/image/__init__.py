"""``tf.image`` (partial): resize (TF 2's methods and half-pixel rules), flips, crop/pad to a
bounding box, brightness/contrast, and PNG decoding in pure Python. See docs/image.md."""
from .ops import (  # noqa: F401
    adjust_brightness, adjust_contrast, central_crop, crop_to_bounding_box, flip_left_right, flip_up_down,
    pad_to_bounding_box, random_brightness, random_contrast, random_flip_left_right, random_flip_up_down,
    resize_with_crop_or_pad,
)
from .resize import ResizeMethod, resize, resize_with_pad  # noqa: F401
from .affine import affine_transform  # noqa: F401
from .decode import decode_image, decode_png  # noqa: F401
