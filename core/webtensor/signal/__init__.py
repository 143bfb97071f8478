"""``tf.signal``: FFTs, framing, windows, STFT, mel filterbanks, DCT and MFCCs."""
from .fft import fft, fft2d, ifft, ifft2d, irfft, irfft2d, rfft, rfft2d  # noqa: F401
from .spectral import (  # noqa: F401
    dct, frame, hamming_window, hann_window, idct, inverse_stft, inverse_stft_window_fn,
    linear_to_mel_weight_matrix, mfccs_from_log_mel_spectrograms, overlap_and_add, stft,
)
