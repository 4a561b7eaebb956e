"""The synthetic MEG carries image information in the occipital sensors, and only there.

Checked on entry point A's outputs, so the whole chain (generator, entry point B's
derivative, entry point A's split) must keep trials and images aligned. These tests
fail on a generator whose MEG ignores the images, puts the signal elsewhere, or on a
preprocessing that misaligns trials and images.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from necomimi.data.synthetic.meg_signal import OCCIPITAL_SENSORS
from necomimi.preprocessing.meg_outputs import read_ch_names
from tests.meg_fixtures import PARTICIPANTS

#: 80-300 ms after onset, samples of the 0..1 s window at 200 Hz.
WINDOW = slice(16, 61)


def _load(meg_out, participant):
    out = meg_out / f"sub-BIGMEG{participant}"
    names = read_ch_names(out / "ch_names.txt")
    occipital = [names.index(name) for name in OCCIPITAL_SENSORS]
    others = [i for i in range(len(names)) if i not in occipital]
    labels = pd.read_csv(out / "train_index.tsv", sep="\t")["label"].to_numpy()
    return np.load(out / "train.npy"), np.load(out / "test.npy"), labels, occipital, others


def _perturbed(data, occipital, seed):
    """The occipital sensors replaced by noise of the same size."""
    out = data.copy()
    rng = np.random.default_rng(seed)
    out[:, occipital] = rng.standard_normal(out[:, occipital].shape) * data[:, occipital].std()
    return out


def _concept_accuracy(trials, labels):
    """Leave-one-trial-out nearest-centroid (correlation) accuracy over concepts."""
    features = trials[..., WINDOW].reshape(len(trials), -1)
    correct = 0
    for i in range(len(features)):
        others = np.arange(len(features)) != i
        centroids = np.stack([features[others & (labels == c)].mean(axis=0) for c in np.unique(labels)])
        scores = [np.corrcoef(features[i], c)[0, 1] for c in centroids]
        correct += np.unique(labels)[int(np.argmax(scores))] == labels[i]
    return correct / len(features)


def _repetition_agreement(test, channels):
    """Mean correlation of repetitions of the same test image minus that of different ones."""
    x = test[:, :, channels, WINDOW].reshape(test.shape[0] * test.shape[1], -1)
    image = np.repeat(np.arange(test.shape[0]), test.shape[1])
    r = np.corrcoef(x)
    pairs = ~np.eye(len(x), dtype=bool)
    return r[pairs & (image[:, None] == image[None, :])].mean() - r[pairs & (image[:, None] != image[None, :])].mean()


@pytest.mark.parametrize("participant", PARTICIPANTS)
def test_concepts_decodable_from_single_occipital_trials(meg_out, participant):
    train, _, labels, occipital, others = _load(meg_out, participant)
    chance = 1.0 / len(np.unique(labels))
    assert _concept_accuracy(train[:, occipital], labels) > chance + 0.4
    assert _concept_accuracy(train[:, others], labels) < chance + 0.25


@pytest.mark.parametrize("participant", PARTICIPANTS)
def test_noise_on_the_occipital_sensors_destroys_the_information(meg_out, participant):
    train, _, labels, occipital, _ = _load(meg_out, participant)
    chance = 1.0 / len(np.unique(labels))
    assert _concept_accuracy(train, labels) > chance + 0.25
    assert _concept_accuracy(_perturbed(train, occipital, seed=participant), labels) < chance + 0.25


@pytest.mark.parametrize("participant", PARTICIPANTS)
def test_repetitions_of_a_test_image_agree(meg_out, participant):
    _, test, _, occipital, others = _load(meg_out, participant)
    assert _repetition_agreement(test, occipital) > 0.25
    assert abs(_repetition_agreement(test, others)) < 0.15
    perturbed = _perturbed(test.reshape(-1, *test.shape[2:]), occipital, seed=participant).reshape(test.shape)
    assert _repetition_agreement(perturbed, occipital) < 0.1
