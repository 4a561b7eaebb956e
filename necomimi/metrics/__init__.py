"""Image metrics of the study: pixel-level similarity to the ground truth.

:func:`ssim` follows the NECOMIMI reference's protocol (the paper's Table 5);
:func:`pixcorr` is the pixel correlation the rest of the field reports.
"""

from necomimi.metrics.pixel import pixcorr, ssim

__all__ = ["pixcorr", "ssim"]
