"""The synthetic EEG carries image information where and when visual EEG does.

These tests fail on a generator whose EEG ignores the images, puts the signal on the
wrong channels or latencies, or misaligns events and responses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import signal
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import GroupKFold, cross_val_score

from necomimi.data.synthetic.eeg import BackgroundNoise, channel_positions
from necomimi.data.things_eeg2 import CHANNEL_NAMES
from tests.conftest import epochs_by_condition

POSTERIOR = [i for i, name in enumerate(CHANNEL_NAMES) if name.startswith(("P", "O"))]
FRONTAL = [i for i, name in enumerate(CHANNEL_NAMES) if name.startswith(("F", "AF"))]
VISUAL = [CHANNEL_NAMES.index(name) for name in ("O1", "Oz", "O2", "POz", "PO3", "PO4")]


@pytest.fixture(scope="module")
def image_averages(demo_dataset):
    """Per training image: its 4 repetitions, their average and its factors."""
    epochs, conditions = epochs_by_condition(demo_dataset, "01", "training", 4)
    images = np.unique(conditions)
    factors = pd.read_csv(demo_dataset / "image_factors.csv")
    factors = factors[factors["partition"] == "training"].set_index("condition").loc[images]
    repetitions = [epochs[conditions == image] for image in images]
    return repetitions, np.stack([r.mean(axis=0) for r in repetitions]), factors


def _decoding_accuracy(averages, factors, factor, channels):
    """Cross-validated accuracy over held-out *concepts* (80-300 ms features)."""
    features = averages[:, channels, 80:300:10].reshape(len(averages), -1) * 1e6
    scores = cross_val_score(
        RidgeClassifier(alpha=10.0),
        features,
        factors[factor].to_numpy(),
        groups=factors["folder"].to_numpy(),
        cv=GroupKFold(5),
    )
    return scores.mean()


@pytest.mark.parametrize("factor", ["shape_family", "colour_family"])
def test_factors_decodable_from_posterior_not_frontal_channels(image_averages, factor):
    _, averages, factors = image_averages
    chance = 1.0 / factors[factor].nunique()
    posterior = _decoding_accuracy(averages, factors, factor, POSTERIOR)
    frontal = _decoding_accuracy(averages, factors, factor, FRONTAL)
    assert posterior > chance + 0.15, (posterior, chance)
    assert posterior > frontal + 0.15, (posterior, frontal)


def test_repetitions_of_an_image_agree_more_than_different_images(image_averages):
    repetitions, _, _ = image_averages
    halves = [
        np.stack([r[::2].mean(axis=0) for r in repetitions]),
        np.stack([r[1::2].mean(axis=0) for r in repetitions]),
    ]
    first, second = (h[:, VISUAL, 80:300].reshape(len(h), -1) for h in halves)
    first, second = first - first.mean(axis=0), second - second.mean(axis=0)
    n = len(first)
    correlation = np.corrcoef(first, second)[:n, n:]
    same = np.diag(correlation).mean()
    different = correlation[~np.eye(n, dtype=bool)].mean()
    assert same > different + 0.07, (same, different)


def test_image_information_peaks_at_visual_erp_latencies(image_averages):
    repetitions, _, _ = image_averages
    first = np.stack([r[::2].mean(axis=0) for r in repetitions])[:, VISUAL]
    second = np.stack([r[1::2].mean(axis=0) for r in repetitions])[:, VISUAL]
    # Covariance across images of two independent halves: image-driven variance only,
    # per channel and millisecond (the noise of the halves is independent).
    first, second = first - first.mean(axis=0), second - second.mean(axis=0)
    image_variance = (first * second).mean(axis=0).mean(axis=0)
    smoothed = np.convolve(image_variance, np.ones(20) / 20, mode="same")
    assert 80 <= int(np.argmax(smoothed)) <= 300
    assert image_variance[80:300].mean() > 3 * abs(image_variance[450:600].mean())


def test_background_noise_is_one_over_f_with_posterior_alpha():
    positions = channel_positions()
    noise = BackgroundNoise(
        positions,
        background_noise_uv=6.0,
        alpha_amplitude_uv=4.0,
        alpha_hz=10.0,
        rng=np.random.default_rng(0),
    )
    data = np.concatenate([noise.block(20_000) for _ in range(3)], axis=1)
    assert abs(data.std() - 7e-6) < 3e-6  # 1/f + alpha + sensor noise, tens of uV
    freqs, power = signal.welch(data, fs=1000.0, nperseg=2000)
    band = lambda lo, hi: (freqs >= lo) & (freqs <= hi)  # noqa: E731
    oz, fpz = CHANNEL_NAMES.index("Oz"), CHANNEL_NAMES.index("Fp1")
    # 1/f: low frequencies dominate on a frontal channel (no alpha there).
    assert power[fpz, band(2, 4)].mean() > 5 * power[fpz, band(30, 40)].mean()
    # Alpha peak at posterior channels, absent frontally.
    alpha = power[oz, band(9, 11)].mean() / power[oz, band(14, 18)].mean()
    assert alpha > 3
    assert power[oz, band(9, 11)].mean() > 3 * power[fpz, band(9, 11)].mean()
    # Volume conduction: neighbours correlate more than distant channels.
    c = np.corrcoef(data)
    assert c[oz, CHANNEL_NAMES.index("O1")] > c[oz, fpz] + 0.3
