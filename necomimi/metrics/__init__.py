"""Image metrics of the study.

- :func:`ssim` follows the NECOMIMI reference's protocol (the paper's Table 5);
  :func:`pixcorr` is the pixel correlation the rest of the field reports;
- :func:`two_way_identification`, :func:`correlation_distance` and
  :func:`frechet_distance` work on features of any network (CLIP, InceptionV3,
  AlexNet, ...): MindEye's identification accuracy and distance, and the FID formula;
- :func:`load_feature_network` loads those networks (:data:`FEATURE_NETWORKS`) from
  local weights files.
"""

from necomimi.metrics.features import correlation_distance, frechet_distance, two_way_identification
from necomimi.metrics.pixel import PixelReference, pixcorr, ssim

_NETWORKS = ("FEATURE_NETWORKS", "load_feature_network")


def __getattr__(name: str):
    """Import the feature networks on first use (PEP 562).

    They build torchvision and pytorch-fid networks, which other metrics do not need.
    """
    if name in _NETWORKS:
        from necomimi.metrics import networks

        return getattr(networks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FEATURE_NETWORKS",
    "PixelReference",
    "correlation_distance",
    "frechet_distance",
    "load_feature_network",
    "pixcorr",
    "ssim",
    "two_way_identification",
]
