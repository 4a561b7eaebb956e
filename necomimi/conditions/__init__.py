"""The study's conditions: what of the EEG (or MEG) becomes noise, and their comparison.

- :mod:`~necomimi.conditions.regions`: named channel sets (scalp regions of 10-10 names
  and CTF sensors, the paper's visual-cortex channels);
- :mod:`~necomimi.conditions.condition`: a condition as the config gives it (channels,
  a time window and what to do with it), checked before any job runs;
- :mod:`~necomimi.conditions.perturb`: applying a condition to the data;
- :mod:`~necomimi.conditions.ablations`: the ablation table and figure (every condition
  against the original data).
"""

from necomimi.conditions.condition import Condition, check_conditions, parse_conditions
from necomimi.conditions.perturb import perturb
from necomimi.conditions.regions import CHANNEL_SETS, REGIONS, resolve_channels

__all__ = [
    "CHANNEL_SETS",
    "REGIONS",
    "Condition",
    "check_conditions",
    "parse_conditions",
    "perturb",
    "resolve_channels",
]
