"""``tf.image`` (partial): resize (TF 2's methods and half-pixel rules), flips, crop/pad to a
bounding box, brightness/contrast, random augmentations, and PNG/JPEG coding in pure Python. See docs/image.md."""

from .ops import (  # noqa: F401
    adjust_brightness,
    adjust_contrast,
    central_crop,
    crop_to_bounding_box,
    flip_left_right,
    flip_up_down,
    pad_to_bounding_box,
    resize_with_crop_or_pad,
)
from .augment import (  # noqa: F401
    random_brightness,
    random_contrast,
    random_crop,
    random_flip_left_right,
    random_flip_up_down,
    random_jpeg_quality,
    stateless_random_brightness,
    stateless_random_contrast,
    stateless_random_crop,
    stateless_random_flip_left_right,
    stateless_random_flip_up_down,
    stateless_random_jpeg_quality,
)
from .resize import ResizeMethod, resize, resize_with_pad  # noqa: F401
from .affine import affine_transform  # noqa: F401
from .decode import decode_image, decode_jpeg, decode_png  # noqa: F401
from .color import (  # noqa: F401,E402
    adjust_gamma,
    adjust_hue,
    adjust_saturation,
    convert_image_dtype,
    grayscale_to_rgb,
    hsv_to_rgb,
    per_image_standardization,
    random_hue,
    random_saturation,
    rgb_to_grayscale,
    rgb_to_hsv,
    stateless_random_hue,
    stateless_random_saturation,
)
from .metrics import image_gradients, psnr, sobel_edges, ssim, total_variation  # noqa: F401,E402
from .geometry import extract_patches, rot90, transpose  # noqa: F401,E402
from .encode import adjust_jpeg_quality, encode_jpeg, encode_png  # noqa: F401,E402
