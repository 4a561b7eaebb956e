"""Synthetic MEG: occipital evoked responses that depend on the image, under noise.

Each categorical factor value of an image (a shape family, a shape, a colour, ...,
:data:`~necomimi.data.synthetic.factors.CATEGORICAL_FACTORS`) owns a pattern over the
**occipital sensors only** (CTF names whose third letter is ``O``) times a waveform
peaking between 80 and 300 ms; an image's response is the sum of its values' patterns
plus a small pattern of its own. Images of a concept share all factors but the
background, so they evoke similar responses. A generic visual response (the same for
every image, also over parietal sensors) and a parietal P300-like wave for catch
images carry no image information. Replacing the occipital sensors by noise therefore
removes every trace of the image.

Runs follow ds004212 (MEG.md 1.2, 1.4): 1200 Hz, an SOA of 1.5 +- 0.2 s, the first
onset after about 3 s, trigger pulses of 64 on ``UPPT001`` 10-20 ms before the
optical-sensor onset (the events.tsv ``sample``) and one pulse of 32 after the last
trial ([unverified] neuralset report); white sensor noise, a slow random walk, 60 Hz
line noise and a drift, with per-session sensor gains.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from necomimi.data.synthetic.factors import CATEGORICAL_FACTORS
from necomimi.data.synthetic.meg_design import MegImage, MegTrial
from necomimi.data.synthetic.meg_spec import SyntheticMegSpec
from necomimi.data.things_meg import (
    DEAD_CHANNEL,
    RAW_SFREQ,
    TRIGGER_CHANNEL,
    TRIGGER_VALUE,
    occipital_sensors,
)

#: A small CTF-275-like montage: sensors of every region and both hemispheres plus
#: the midline, including the dead ``MRO11-1609`` (dropped by the preprocessing).
SENSORS: tuple[str, ...] = tuple(
    f"M{side}{code}-1609"
    for side in "LR"
    for code in ("C11", "C21", "F11", "F21", "O11", "O21", "O31", "P11", "P21", "T11", "T21")
) + ("MZC01-1609", "MZF01-1609", "MZO01-1609", "MZO02-1609", "MZP01-1609")
#: Reference magnetometers (MNE type ``ref_meg``) and miscellaneous channels.
REFERENCE_CHANNELS: tuple[str, ...] = ("BG1-1609", "BP1-1609")
MISC_CHANNELS: tuple[str, ...] = ("SCLK01-177", "UADC016-2104")
#: Every channel of a synthetic raw run, in file order, and its MNE type.
CHANNELS: tuple[str, ...] = SENSORS + REFERENCE_CHANNELS + MISC_CHANNELS + (TRIGGER_CHANNEL,)
CHANNEL_TYPES: tuple[str, ...] = (
    ("mag",) * len(SENSORS) + ("ref_meg",) * len(REFERENCE_CHANNELS) + ("misc",) * len(MISC_CHANNELS) + ("stim",)
)
#: The occipital sensors of the preprocessed data (the dead one dropped): the only
#: sensors that carry image information, and those the perturbation replaces.
OCCIPITAL_SENSORS: tuple[str, ...] = tuple(s for s in occipital_sensors(SENSORS) if s != DEAD_CHANNEL)
_PARIETAL = tuple(s for s in SENSORS if s[2] == "P")

#: Length of one evoked response, seconds.
RESPONSE_S = 0.6
#: Trigger pulse width (10 ms) and value of the end-of-run pulse.
PULSE_S = 0.01
END_PULSE_VALUE = 32
FIRST_ONSET_S = 3.0
SOA_S = (1.3, 1.7)
TRIGGER_LAG_S = (0.010, 0.020)
#: Relative weight of each categorical factor in the response.
FACTOR_WEIGHTS: dict[str, float] = {
    "shape_family": 1.0, "shape": 0.8, "colour_family": 0.6, "colour": 0.8, "texture": 0.6, "background": 0.4,
}  # fmt: skip
_IMAGE_WEIGHT = 0.3

_STREAM_POPULATION = 31
_STREAM_PARTICIPANT = 32
_STREAM_RUN = 33
_STREAM_IMAGE = 34


def _waveforms(n: int, rng: np.random.Generator, shift_s: float = 0.0) -> np.ndarray:
    """``n`` waveforms of two Gaussian bumps between 80 and 300 ms, peak 1."""
    t = np.arange(int(RESPONSE_S * RAW_SFREQ)) / RAW_SFREQ
    latency = rng.uniform(0.08, 0.30, (n, 2, 1)) + shift_s
    width = rng.uniform(0.015, 0.04, (n, 2, 1))
    sign = rng.choice([-1.0, 1.0], (n, 2, 1)) * rng.uniform(0.5, 1.0, (n, 2, 1))
    waves = (sign * np.exp(-((t - latency) ** 2) / (2 * width**2))).sum(axis=1)
    return waves / np.abs(waves).max(axis=1, keepdims=True)


def _occipital_maps(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` spatial maps over :data:`SENSORS`, zero outside the occipital sensors."""
    maps = np.zeros((n, len(SENSORS)))
    columns = [SENSORS.index(s) for s in occipital_sensors(SENSORS)]
    maps[:, columns] = rng.standard_normal((n, len(columns)))
    return maps / np.abs(maps).max(axis=1, keepdims=True)


@dataclass(frozen=True)
class MegBrain:
    """How one participant's sensors respond to images (units of the evoked amplitude)."""

    patterns: dict[tuple[str, str], np.ndarray]  # (factor, value) -> (n_sensors, n_response)
    generic: np.ndarray  # (n_sensors, n_response), every image
    catch: np.ndarray  # (n_sensors, n_response), added for catch images
    seed: int
    participant: int

    def response(self, image: MegImage | None) -> np.ndarray:
        """Noise-free response to an image (``None``: a catch image)."""
        if image is None:
            return self.generic + self.catch
        values = image.factors.categorical()
        out = self.generic.copy()
        for name in CATEGORICAL_FACTORS:
            out += self.patterns[name, values[name]]
        own = np.random.default_rng([self.seed, _STREAM_IMAGE, image.number])
        out += _IMAGE_WEIGHT * _occipital_maps(1, own).T @ _waveforms(1, own)
        return out


def make_brain(seed: int, participant: int) -> MegBrain:
    """Build the brain of ``participant``: population patterns (from ``seed``), perturbed."""
    population = np.random.default_rng([seed, _STREAM_POPULATION])
    own = np.random.default_rng([seed, _STREAM_PARTICIPANT, participant])
    keys = [(name, value) for name, values in CATEGORICAL_FACTORS.items() for value in values]
    shift_s, gain = own.uniform(-0.01, 0.01), own.uniform(0.8, 1.2)
    maps = _occipital_maps(len(keys), population) + 0.25 * _occipital_maps(len(keys), own)
    waves = _waveforms(len(keys), population, shift_s)
    patterns = {
        key: gain * FACTOR_WEIGHTS[key[0]] * np.outer(maps[i], waves[i]) for i, key in enumerate(keys)
    }
    t = np.arange(int(RESPONSE_S * RAW_SFREQ)) / RAW_SFREQ
    occipital = np.isin(SENSORS, occipital_sensors(SENSORS)).astype(float)
    parietal = np.isin(SENSORS, _PARIETAL).astype(float)
    generic = gain * (
        np.outer(occipital, np.exp(-((t - 0.1 - shift_s) ** 2) / (2 * 0.015**2)))
        - 0.6 * np.outer(occipital + parietal, np.exp(-((t - 0.17 - shift_s) ** 2) / (2 * 0.02**2)))
    )
    catch = 2.0 * gain * np.outer(parietal, np.exp(-((t - 0.4) ** 2) / (2 * 0.06**2)))
    return MegBrain(patterns, generic, catch, seed, participant)


@dataclass(frozen=True)
class SynthesizedRun:
    """A raw run: the data of :data:`CHANNELS` (tesla; trigger codes) and its onsets."""

    data: np.ndarray  # (len(CHANNELS), n_samples)
    onsets: np.ndarray  # optical-sensor onset of each trial, samples
    triggers: np.ndarray  # trigger pulse of each trial, samples


def synthesize_run(
    trials: list[MegTrial], brain: MegBrain, spec: SyntheticMegSpec, session: int, run: int
) -> SynthesizedRun:
    """Write one run of ``trials`` for ``brain``, seeded by (participant, session, run)."""
    rng = np.random.default_rng([spec.seed, _STREAM_RUN, brain.participant, session, run])
    sfreq = RAW_SFREQ
    soa = rng.uniform(*SOA_S, size=len(trials))
    onset_s = FIRST_ONSET_S + rng.uniform(-0.2, 0.2) + np.concatenate([[0.0], np.cumsum(soa[:-1])])
    onsets = np.round(onset_s * sfreq).astype(np.int64)
    triggers = onsets - np.round(rng.uniform(*TRIGGER_LAG_S, size=len(trials)) * sfreq).astype(np.int64)
    n_samples = int(max(onsets[-1] + 3.0 * sfreq, spec.min_run_s * sfreq))
    n_sensors = len(SENSORS)

    data = np.zeros((len(CHANNELS), n_samples))
    t = np.arange(n_samples) / sfreq
    # Environment (seen by sensors and references): 60 Hz line noise and a slow drift.
    line = np.sin(2 * np.pi * 60.0 * t + rng.uniform(0, 2 * np.pi))
    drift = np.cumsum(rng.standard_normal(n_samples)) / np.sqrt(n_samples)
    environment = np.outer(rng.uniform(0.5, 1.5, n_sensors + len(REFERENCE_CHANNELS)),
                           200e-15 * line + 2000e-15 * drift)  # fmt: skip
    data[: n_sensors + len(REFERENCE_CHANNELS)] = environment
    # Brain background: a slow random walk per sensor; white sensor noise.
    walk = np.cumsum(rng.standard_normal((n_sensors, n_samples)), axis=1)
    walk -= walk.mean(axis=1, keepdims=True)
    data[:n_sensors] += 20e-15 * walk / np.sqrt(sfreq)
    data[:n_sensors] += spec.noise_ft * 1e-15 * rng.standard_normal((n_sensors, n_samples))
    length = int(RESPONSE_S * sfreq)
    unit = spec.evoked_amplitude_ft * 1e-15
    for onset, trial in zip(onsets, trials, strict=True):
        data[:n_sensors, onset : onset + length] += unit * brain.response(trial.image)
    data[:n_sensors] *= rng.normal(1.0, 0.05, n_sensors)[:, None]  # the session's gains
    misc = len(SENSORS) + len(REFERENCE_CHANNELS)
    data[misc : misc + len(MISC_CHANNELS)] = 1e-3 * rng.standard_normal((len(MISC_CHANNELS), n_samples))
    pulse = int(round(PULSE_S * sfreq))
    for trigger in triggers:
        data[-1, trigger : trigger + pulse] = TRIGGER_VALUE
    end = int(onsets[-1] + 2.0 * sfreq)
    data[-1, end : end + pulse] = END_PULSE_VALUE
    return SynthesizedRun(data, onsets, triggers)
