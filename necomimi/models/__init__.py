"""The networks of the NECOMIMI study: EEG encoders in one registry, and the prior.

``ENCODERS`` maps the names used in configs to classes; :func:`create` builds one.
Every encoder maps (batch, n_chans, n_times) EEG to (batch, n_outputs) embeddings, ends
in a ``final_layer``, and applies neither a temperature nor a normalisation.
:class:`DiffusionPriorUNet` is the diffusion prior of the two-stage generation.
"""

from __future__ import annotations

from necomimi.models.encoders._base import EEGEncoder
from necomimi.models.encoders.atms import ATMS
from necomimi.models.encoders.braindecode_baselines import (
    ATCNetEncoder,
    EEGConformerEncoder,
    EEGITNetEncoder,
    EEGNetEncoder,
    ShallowFBCSPEncoder,
)
from necomimi.models.encoders.meta_eeg import MetaEEG
from necomimi.models.encoders.mlp import MLPProjector
from necomimi.models.encoders.muse import MUSE
from necomimi.models.encoders.nerv import NERV
from necomimi.models.encoders.nervformer_v1 import NervFormerV1
from necomimi.models.encoders.nice import NICE

#: Registry: config name -> encoder class.
ENCODERS: dict[str, type[EEGEncoder]] = {
    "nerv": NERV,
    "nervformer_v1": NervFormerV1,
    "muse": MUSE,
    "atms": ATMS,
    "nice": NICE,
    "eegnet": EEGNetEncoder,
    "shallow_fbcsp": ShallowFBCSPEncoder,
    "eeg_conformer": EEGConformerEncoder,
    "atcnet": ATCNetEncoder,
    "eegitnet": EEGITNetEncoder,
    "meta_eeg": MetaEEG,
    "mlp": MLPProjector,
}


def create(name: str, **kwargs) -> EEGEncoder:
    """Build the encoder registered as ``name`` with keyword arguments ``kwargs``.

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; known encoders: {', '.join(ENCODERS)}")
    return ENCODERS[name](**kwargs)


def __getattr__(name: str):
    """Import :class:`DiffusionPriorUNet` on first use (PEP 562).

    It needs diffusers, about 1.5 s to import, which the encoder jobs do not.
    """
    if name == "DiffusionPriorUNet":
        from necomimi.models.prior import DiffusionPriorUNet

        return DiffusionPriorUNet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ENCODERS", "DiffusionPriorUNet", "EEGEncoder", "create"]
