"""Image metrics of the study.

- :func:`ssim` follows the NECOMIMI reference's protocol (the paper's Table 5);
  :func:`pixcorr` is the pixel correlation the rest of the field reports;
- :func:`two_way_identification` and :func:`frechet_distance` work on features of any
  network (CLIP, InceptionV3, AlexNet, ...): MindEye's identification accuracy and the
  FID formula.
"""

from necomimi.metrics.features import frechet_distance, two_way_identification
from necomimi.metrics.pixel import pixcorr, ssim

__all__ = ["frechet_distance", "pixcorr", "ssim", "two_way_identification"]
