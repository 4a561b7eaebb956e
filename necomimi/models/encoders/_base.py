"""The base every necomimi encoder shares (braindecode's naming conventions)."""

from __future__ import annotations

import inspect

from torch import nn


class EEGEncoder(nn.Module):
    """An EEG encoder: (batch, n_chans, n_times) to (batch, n_outputs) embeddings.

    Follows braindecode's conventions (argument names, a ``final_layer``,
    ``get_config``/``from_config``). Every subclass stores each constructor argument
    under its own name, and applies neither a temperature nor a normalisation: the
    contrastive loss owns both.

    Parameters
    ----------
    n_outputs : int
        Embedding size. 1024 (the OpenCLIP ViT-H-14 embedding) in every subclass.
    n_chans : int
        Number of EEG channels. 63 (THINGS-EEG2) in every subclass.
    n_times : int
        Time points per input. 250 (0 to 0.996 s at 250 Hz) in every subclass.
    sfreq : float
        Sampling rate in Hz. 250 in every subclass.
    """

    def __init__(self, n_outputs: int, n_chans: int, n_times: int, sfreq: float) -> None:
        super().__init__()
        for name, value in (("n_outputs", n_outputs), ("n_chans", n_chans), ("n_times", n_times)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{type(self).__name__}: {name} must be a positive integer, got {value!r}")
        if not sfreq > 0:
            raise ValueError(f"{type(self).__name__}: sfreq must be positive, got {sfreq!r}")
        self.n_outputs, self.n_chans, self.n_times, self.sfreq = n_outputs, n_chans, n_times, sfreq

    def get_config(self) -> dict:
        """The constructor's arguments, enough to rebuild the model without weights."""
        parameters = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in parameters if name != "self"}

    @classmethod
    def from_config(cls, config: dict) -> EEGEncoder:
        """Build a model from :meth:`get_config`'s output."""
        return cls(**config)
