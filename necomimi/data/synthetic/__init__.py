"""Embedded synthetic THINGS-EEG2: images from latent factors, EEG that depends on them.

The demo study runs on this dataset; it is written in the exact formats of the real
release (:mod:`necomimi.data.things_eeg2`) so that the same loading code serves both.
"""

from necomimi.data.synthetic.spec import SyntheticSpec
from necomimi.data.synthetic.writer import write_dataset, write_image_set, write_subject_raw

__all__ = ["SyntheticSpec", "write_dataset", "write_image_set", "write_subject_raw"]
