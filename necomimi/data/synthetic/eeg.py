"""Synthetic EEG: evoked responses that depend on image factors, under realistic noise.

Each categorical factor value (a shape family, a shape, a colour, ...) owns a
spatio-temporal pattern: a scalp map concentrated over the visual-cortex channels
(Pz, PO3, POz, PO4, O1, Oz, O2, the channels the paper's perturbed condition replaces
by noise) and reaching their neighbours, as volume conduction spreads a focal source,
times a waveform whose peaks fall between 80 and 300 ms, as visual
evoked responses do. An image's response is the weighted sum of the patterns of its
factor values, plus a generic P1/N1/P2 complex whose size follows the stimulus size
and a lateralised term that follows its horizontal position. The population patterns
are perturbed per subject (maps, latencies, gain), so subjects differ as real ones do.

A recording is a rapid serial visual presentation (one stimulus every 200 ms, so
responses overlap) under spatially correlated 1/f background activity, a posterior
alpha rhythm, sensor noise, and per-session channel gains, offsets and slow drifts.
Repetitions of an image differ only by that noise (and by their neighbours' overlap).
"""

from __future__ import annotations

from dataclasses import dataclass

import mne
import numpy as np
from scipy import signal

from necomimi.data.synthetic.factors import CATEGORICAL_FACTORS, ImageFactors
from necomimi.data.things_eeg2 import CHANNEL_NAMES, RAW_SFREQ, SOA_S, TARGET_EVENT

#: Length of one evoked response, samples at 1000 Hz (0-599 ms after onset).
RESPONSE_SAMPLES = 600
#: Relative weight of each categorical factor in the evoked response.
FACTOR_WEIGHTS: dict[str, float] = {
    "shape_family": 1.0,
    "shape": 0.8,
    "colour_family": 0.6,
    "colour": 0.8,
    "texture": 0.6,
    "background": 0.4,
}
#: Padding before the first onset and after the last, seconds (epochs need -0.2..1.0 s).
PRE_PADDING_S = 0.5
POST_PADDING_S = 1.2
#: Trigger pulse width on the stim channel, samples (mne.find_events needs >= 2).
PULSE_SAMPLES = 10
#: Samples generated at a time, to bound memory at full size.
BLOCK_SAMPLES = 1 << 17
#: Standard deviation of the white sensor noise, volts.
SENSOR_NOISE_V = 0.5e-6

# Pink (1/f) noise filter: Kasdin-style three-pole approximation as given in J. O.
# Smith, "Spectral Audio Signal Processing" (2011), section "Example: Synthesis of
# 1/F Noise". Accurate to within about 0.3 dB above 0.001 of the sampling rate.
_PINK_B = np.array([0.049922035, -0.095993537, 0.050612699, -0.004408786])
_PINK_A = np.array([1.0, -2.494956002, 2.017265875, -0.522189400])

# Independent random streams, combined with the dataset seed.
_STREAM_POPULATION = 1
_STREAM_SUBJECT = 2
_STREAM_SESSION = 3


def channel_positions() -> np.ndarray:
    """3-D positions (metres) of the 63 channels on the colin27 template head."""
    montage = mne.channels.make_standard_montage("colin27_1005")
    positions = montage.get_positions()["ch_pos"]
    return np.array([positions[name] for name in CHANNEL_NAMES])


def _blob(positions: np.ndarray, centre: np.ndarray, width_m: float) -> np.ndarray:
    distance2 = np.sum((positions - centre) ** 2, axis=1)
    return np.exp(-distance2 / (2.0 * width_m**2))


def _unit_peak(values: np.ndarray) -> np.ndarray:
    peak = np.max(np.abs(values), axis=-1, keepdims=True)
    return values / np.where(peak > 0, peak, 1.0)


def _posterior_centre(positions: np.ndarray) -> np.ndarray:
    index = {name: i for i, name in enumerate(CHANNEL_NAMES)}
    return (positions[index["POz"]] + positions[index["Oz"]]) / 2.0


def _random_posterior_maps(
    n_maps: int, positions: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Scalp maps made of two signed blobs centred on posterior channels.

    The blobs' centres are drawn with weights falling off 4 cm around POz-Oz (85 % of
    them on the visual-cortex channels) and spread 3 cm (60 % of their peak on a
    neighbour 3 cm away, such as PO7 from O1). With wider maps (5 and 3.5 cm), 29 % of
    the centres lay beyond those channels, and replacing the channels by noise left
    the demo's NERV images as good by the CAT score (38.5 of 100 against 39); with
    narrower ones (3 and 2.5 cm), the few channels carrying the signal left one demo
    subject's NERV retrieval at 0.59 (2-way), even with 12 uV responses, against 0.82.
    """
    envelope = _blob(positions, _posterior_centre(positions), 0.04)
    probability = envelope**2 / np.sum(envelope**2)
    maps = np.zeros((n_maps, len(positions)))
    for row in maps:
        for centre in rng.choice(len(positions), size=2, p=probability):
            row += rng.choice([-1.0, 1.0]) * _blob(positions, positions[centre], 0.03)
    return _unit_peak(maps)


@dataclass(frozen=True)
class _Bumps:
    """Gaussian bumps that make up waveforms: latency, width (ms) and amplitude."""

    latency_ms: np.ndarray  # (n_waveforms, n_bumps)
    width_ms: np.ndarray
    amplitude: np.ndarray

    def render(self, shift_ms: float = 0.0) -> np.ndarray:
        """Waveforms of shape (n_waveforms, RESPONSE_SAMPLES), peak 1."""
        t = np.arange(RESPONSE_SAMPLES, dtype=float)[None, None, :]
        bumps = self.amplitude[..., None] * np.exp(
            -((t - self.latency_ms[..., None] - shift_ms) ** 2)
            / (2.0 * self.width_ms[..., None] ** 2)
        )
        return _unit_peak(bumps.sum(axis=1))


def _random_bumps(n_waveforms: int, rng: np.random.Generator) -> _Bumps:
    shape = (n_waveforms, 2)
    return _Bumps(
        latency_ms=rng.uniform(80.0, 300.0, shape),
        width_ms=rng.uniform(15.0, 40.0, shape),
        amplitude=rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.0, shape),
    )


@dataclass(frozen=True)
class BrainModel:
    """How one subject's EEG responds to images.

    ``spatial`` and ``temporal`` stack one row per categorical factor value, in the
    order of :data:`~necomimi.data.synthetic.factors.CATEGORICAL_FACTORS`;
    ``row_offset`` gives each factor's first row. Amplitudes are in units of
    ``SyntheticSpec.evoked_amplitude_uv``.
    """

    spatial: np.ndarray  # (n_values, 63)
    temporal: np.ndarray  # (n_values, RESPONSE_SAMPLES), weighted by FACTOR_WEIGHTS
    row_offset: dict[str, int]
    generic: np.ndarray  # (63, RESPONSE_SAMPLES) P1/N1/P2 complex for a mean-size shape
    lateral: np.ndarray  # (63, RESPONSE_SAMPLES) response per unit horizontal offset
    target: np.ndarray  # (63, RESPONSE_SAMPLES) response to a target image
    alpha_hz: float

    def factor_rows(self, factors: ImageFactors) -> np.ndarray:
        """Row indices of the image's factor values in ``spatial``/``temporal``."""
        values = factors.categorical()
        return np.array(
            [
                self.row_offset[name] + CATEGORICAL_FACTORS[name].index(values[name])
                for name in CATEGORICAL_FACTORS
            ]
        )

    def response(self, factors: ImageFactors) -> np.ndarray:
        """Noise-free evoked response to one image, (63, RESPONSE_SAMPLES), units."""
        rows = self.factor_rows(factors)
        specific = self.spatial[rows].T @ self.temporal[rows]
        return specific + (factors.scale / 0.29) * self.generic + factors.x * self.lateral


def make_brain(seed: int, subject: str, positions: np.ndarray) -> BrainModel:
    """Build the brain of ``subject``: shared population patterns, perturbed per subject.

    Parameters
    ----------
    seed : int
        Dataset seed; the population patterns depend on it alone.
    subject : str
        Two-digit subject label; the subject's perturbations depend on it.
    positions : numpy.ndarray
        Channel positions, (63, 3), from :func:`channel_positions`.
    """
    population = np.random.default_rng([seed, _STREAM_POPULATION])
    own = np.random.default_rng([seed, _STREAM_SUBJECT, int(subject)])
    n_values = sum(len(values) for values in CATEGORICAL_FACTORS.values())
    row_offset, weights, start = {}, [], 0
    for name, values in CATEGORICAL_FACTORS.items():
        row_offset[name] = start
        weights += [FACTOR_WEIGHTS[name]] * len(values)
        start += len(values)

    spatial = _random_posterior_maps(n_values, positions, population)
    bumps = _random_bumps(n_values, population)
    spatial = _unit_peak(spatial + 0.25 * _random_posterior_maps(n_values, positions, own))
    shift_ms = own.uniform(-12.0, 12.0)
    gain = own.uniform(0.8, 1.2)
    temporal = gain * np.array(weights)[:, None] * bumps.render(shift_ms)

    index = {name: i for i, name in enumerate(CHANNEL_NAMES)}
    occipital = _blob(positions, _posterior_centre(positions), 0.04)
    lateral_occipital = _blob(positions, positions[index["PO7"]], 0.035) + _blob(
        positions, positions[index["PO8"]], 0.035
    )
    parietal = _blob(positions, positions[index["Pz"]], 0.05)
    t = np.arange(RESPONSE_SAMPLES, dtype=float)

    def wave(latency_ms: float, width_ms: float) -> np.ndarray:
        return np.exp(-((t - latency_ms - shift_ms) ** 2) / (2.0 * width_ms**2))

    generic = 1.5 * gain * (
        np.outer(occipital, wave(100.0, 15.0))
        - 1.5 * np.outer(_unit_peak(lateral_occipital), wave(170.0, 20.0))
        + 0.8 * np.outer(parietal, wave(240.0, 30.0))
    )
    hemisphere = np.sign(positions[:, 0])  # stimuli on the left drive the right hemisphere
    lateral = -4.0 * gain * np.outer(hemisphere * occipital, wave(120.0, 25.0))
    target = generic + 4.0 * gain * np.outer(parietal, wave(400.0, 60.0))
    return BrainModel(
        spatial=spatial,
        temporal=temporal,
        row_offset=row_offset,
        generic=generic,
        lateral=lateral,
        target=target,
        alpha_hz=float(own.uniform(9.0, 11.5)),
    )


def _filter_gain(b: np.ndarray, a: np.ndarray) -> float:
    """Root energy of a filter's impulse response, to give its output unit variance."""
    impulse = np.zeros(1 << 16)
    impulse[0] = 1.0
    return float(np.sqrt(np.sum(signal.lfilter(b, a, impulse) ** 2)))


class BackgroundNoise:
    """Streaming background EEG: spatially correlated 1/f activity, alpha, sensor noise.

    Call :meth:`block` repeatedly; filter states carry over so consecutive blocks form
    one continuous signal.
    """

    def __init__(
        self,
        positions: np.ndarray,
        *,
        background_noise_uv: float,
        alpha_amplitude_uv: float,
        alpha_hz: float,
        rng: np.random.Generator,
    ) -> None:
        n_channels = len(positions)
        distance2 = np.sum((positions[:, None, :] - positions[None, :, :]) ** 2, axis=-1)
        # Volume conduction: each channel sees a smooth mixture of nearby sources.
        mixing = np.exp(-distance2 / (2.0 * 0.04**2))
        self._mixing = mixing / np.linalg.norm(mixing, axis=1, keepdims=True)
        self._pink_scale = background_noise_uv * 1e-6 / _filter_gain(_PINK_B, _PINK_A)
        self._pink_state = np.zeros((n_channels, len(_PINK_A) - 1))
        self._alpha_b, self._alpha_a = signal.iirpeak(alpha_hz, Q=4.0, fs=RAW_SFREQ)
        self._alpha_scale = (
            alpha_amplitude_uv * 1e-6 / _filter_gain(self._alpha_b, self._alpha_a)
        )
        self._alpha_state = np.zeros((2, len(self._alpha_a) - 1))
        index = {name: i for i, name in enumerate(CHANNEL_NAMES)}
        self._alpha_maps = np.stack(
            [
                _blob(positions, positions[index["PO3"]], 0.045),
                _blob(positions, positions[index["PO4"]], 0.045),
            ]
        )
        self._rng = rng

    def block(self, n_samples: int) -> np.ndarray:
        """The next ``n_samples`` of background activity, (63, n_samples), volts."""
        sources = self._rng.standard_normal((self._mixing.shape[1], n_samples))
        pink, self._pink_state = signal.lfilter(
            _PINK_B, _PINK_A, sources, axis=1, zi=self._pink_state
        )
        out = self._mixing @ (pink * self._pink_scale)
        alpha_sources = self._rng.standard_normal((2, n_samples))
        alpha, self._alpha_state = signal.lfilter(
            self._alpha_b, self._alpha_a, alpha_sources, axis=1, zi=self._alpha_state
        )
        out += self._alpha_maps.T @ (alpha * self._alpha_scale)
        out += self._rng.normal(0.0, SENSOR_NOISE_V, out.shape)
        return out


@dataclass(frozen=True)
class SessionEffects:
    """Per-session channel gains, offsets and slow drifts (impedance, sweat, etc.)."""

    gain: np.ndarray  # (63,)
    offset_v: np.ndarray  # (63,)
    slope_v: np.ndarray  # (63,) drift over the whole recording
    wave_v: np.ndarray  # (63,) amplitude of a slow oscillating drift
    wave_hz: float
    wave_phase: np.ndarray  # (63,)

    @classmethod
    def draw(cls, n_channels: int, rng: np.random.Generator) -> SessionEffects:
        """Draw one session's effects."""
        return cls(
            gain=np.clip(rng.normal(1.0, 0.1, n_channels), 0.5, None),
            offset_v=rng.normal(0.0, 15e-6, n_channels),
            slope_v=rng.normal(0.0, 20e-6, n_channels),
            wave_v=rng.normal(0.0, 5e-6, n_channels),
            wave_hz=float(rng.uniform(0.01, 0.05)),
            wave_phase=rng.uniform(0.0, 2 * np.pi, n_channels),
        )

    def drift(self, start: int, stop: int, n_total: int) -> np.ndarray:
        """Offset plus drift for samples ``start:stop`` of an ``n_total``-long recording."""
        samples = np.arange(start, stop, dtype=float)
        seconds = samples / RAW_SFREQ
        trend = np.outer(self.slope_v, samples / n_total)
        wave = self.wave_v[:, None] * np.sin(
            2 * np.pi * self.wave_hz * seconds[None, :] + self.wave_phase[:, None]
        )
        return self.offset_v[:, None] + trend + wave


def trial_sequence(
    conditions: np.ndarray, target_fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """Shuffle the trials and insert target trials (code 99999) at random positions.

    Parameters
    ----------
    conditions : numpy.ndarray
        One image-condition number (1-based) per non-target trial.
    target_fraction : float
        Share of all trials that are targets.
    rng : numpy.random.Generator
        Source of the order.
    """
    order = rng.permutation(np.asarray(conditions))
    n_targets = int(round(target_fraction * len(order) / (1.0 - target_fraction)))
    positions = rng.choice(len(order) + 1, size=n_targets, replace=True)
    return np.insert(order, np.sort(positions), TARGET_EVENT).astype(np.int64)


def synthesize_recording(
    codes: np.ndarray,
    images: list[ImageFactors],
    brain: BrainModel,
    noise: BackgroundNoise,
    session: SessionEffects,
    *,
    evoked_amplitude_uv: float,
) -> np.ndarray:
    """Write the continuous recording of one trial sequence.

    Parameters
    ----------
    codes : numpy.ndarray
        Event code per trial, in presentation order: a 1-based index into ``images``,
        or 99999 for a target trial.
    images : list of ImageFactors
        The partition's images; ``codes`` index into it.
    brain, noise, session
        The subject's brain, its background activity and the session's effects.
    evoked_amplitude_uv : float
        Microvolts per unit of evoked response.

    Returns
    -------
    numpy.ndarray
        float64 array of shape (64, n_samples): 63 EEG channels in volts, in
        :data:`~necomimi.data.things_eeg2.CHANNEL_NAMES` order, then the stim channel.
    """
    soa = int(round(SOA_S * RAW_SFREQ))
    pre, post = int(PRE_PADDING_S * RAW_SFREQ), int(POST_PADDING_S * RAW_SFREQ)
    onsets = pre + soa * np.arange(len(codes))
    n_samples = int(onsets[-1]) + post
    data = np.zeros((len(CHANNEL_NAMES) + 1, n_samples))
    volts_per_unit = evoked_amplitude_uv * 1e-6
    for onset, code in zip(onsets, codes, strict=True):
        response = brain.target if code == TARGET_EVENT else brain.response(images[code - 1])
        data[:-1, onset : onset + RESPONSE_SAMPLES] += volts_per_unit * response
        data[-1, onset : onset + PULSE_SAMPLES] = code
    gain = session.gain[:, None]
    for start in range(0, n_samples, BLOCK_SAMPLES):
        stop = min(start + BLOCK_SAMPLES, n_samples)
        eeg = data[:-1, start:stop]
        eeg += noise.block(stop - start)
        eeg *= gain
        eeg += session.drift(start, stop, n_samples)
    return data


def session_rng(seed: int, subject: str, session: int, partition_index: int):
    """Random stream of one recording (subject, session, partition)."""
    return np.random.default_rng([seed, _STREAM_SESSION, int(subject), session, partition_index])
