"""EEG preprocessing: raw THINGS-EEG2 recordings to per-subject arrays (SPEC.md 2)."""

from necomimi.preprocessing.subject import preprocess_subject

__all__ = ["preprocess_subject"]
