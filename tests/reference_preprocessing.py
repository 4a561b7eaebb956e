"""Oracle: a literal, slow re-implementation of the reference preprocessing.

Follows the NECOMIMI reference ``EEG-preprocessing/preprocessing_utils.py`` (itself
Gifford et al.'s THINGS-EEG2 code) step by step as SPEC.md section 2 describes it:
whole sessions epoched at 1 kHz, Python loops over conditions, sklearn's ``_cov`` and
scipy's ``fractional_matrix_power``. Kept in tests/ only, to check that
``necomimi.preprocessing`` computes the same numbers.
"""

from __future__ import annotations

import mne
import numpy as np
import scipy.linalg
from sklearn.discriminant_analysis import _cov
from sklearn.utils import shuffle

from necomimi.data.things_eeg2 import CHANNEL_NAMES


def epoching(raw_dir, partition, n_sessions, sfreq, seed, max_rep):
    epoched_data, img_conditions = [], []
    for s in range(n_sessions):
        path = raw_dir / f"ses-{s + 1:02d}" / f"raw_eeg_{partition}.npy"
        eeg_data = np.load(path, allow_pickle=True).item()
        info = mne.create_info(eeg_data["ch_names"], eeg_data["sfreq"], eeg_data["ch_types"])
        raw = mne.io.RawArray(eeg_data["raw_eeg_data"], info, verbose="error")
        events = mne.find_events(raw, stim_channel="stim", verbose="error")
        raw.pick(list(CHANNEL_NAMES))
        idx_target = np.where(events[:, 2] == 99999)[0]
        events = np.delete(events, idx_target, 0)
        epochs = mne.Epochs(
            raw, events, tmin=-0.2, tmax=1.0, baseline=(None, 0), preload=True, verbose="error"
        )
        if sfreq < 1000:
            epochs.resample(sfreq, verbose="error")
        times = epochs.times
        data = epochs.get_data()
        events = epochs.events[:, 2]
        img_cond = np.unique(events)
        sorted_data = np.zeros((len(img_cond), max_rep, data.shape[1], data.shape[2]))
        for i in range(len(img_cond)):
            idx = np.where(events == img_cond[i])[0]
            idx = shuffle(idx, random_state=seed, n_samples=max_rep)
            sorted_data[i] = data[idx]
        epoched_data.append(sorted_data[:, :, :, 50:])
        img_conditions.append(img_cond)
    return epoched_data, img_conditions, times


def mvnn(epoched_test, epoched_train, n_sessions, mvnn_dim):
    whitened_test, whitened_train = [], []
    for s in range(n_sessions):
        session_data = [epoched_test[s], epoched_train[s]]
        n_ch = session_data[0].shape[2]
        sigma_part = np.empty((len(session_data), n_ch, n_ch))
        for p in range(sigma_part.shape[0]):
            sigma_cond = np.empty((session_data[p].shape[0], n_ch, n_ch))
            for i in range(session_data[p].shape[0]):
                cond_data = session_data[p][i]
                if mvnn_dim == "time":
                    sigma_cond[i] = np.mean(
                        [_cov(cond_data[:, :, t], shrinkage="auto") for t in range(cond_data.shape[2])],
                        axis=0,
                    )
                else:
                    sigma_cond[i] = np.mean(
                        [_cov(np.transpose(cond_data[e]), shrinkage="auto") for e in range(cond_data.shape[0])],
                        axis=0,
                    )
            sigma_part[p] = sigma_cond.mean(axis=0)
        sigma_tot = sigma_part[1]  # NECOMIMI: the training partition only
        sigma_inv = scipy.linalg.fractional_matrix_power(sigma_tot, -0.5)
        for part, out in ((session_data[0], whitened_test), (session_data[1], whitened_train)):
            flat = np.reshape(part, (-1, part.shape[2], part.shape[3]))
            out.append(np.reshape((flat.swapaxes(1, 2) @ sigma_inv).swapaxes(1, 2), part.shape))
    return whitened_test, whitened_train


def save_prepr(whitened_test, whitened_train, img_conditions_train, n_sessions, seed):
    merged_test = whitened_test[0]
    for s in range(1, n_sessions):
        merged_test = np.append(merged_test, whitened_test[s], 1)
    idx = shuffle(np.arange(0, merged_test.shape[1]), random_state=seed)
    merged_test = merged_test[:, idx]

    white_data = whitened_train[0]
    img_cond = img_conditions_train[0]
    for s in range(1, n_sessions):
        white_data = np.append(white_data, whitened_train[s], 0)
        img_cond = np.append(img_cond, img_conditions_train[s], 0)
    n_images = len(np.unique(img_cond))
    n_reps = white_data.shape[1] * (len(img_cond) // n_images)
    merged_train = np.zeros((n_images, n_reps, white_data.shape[2], white_data.shape[3]))
    for i in range(n_images):
        idx = np.where(img_cond == i + 1)[0]
        ordered_data = white_data[idx[0]]
        for r in range(1, len(idx)):
            ordered_data = np.append(ordered_data, white_data[idx[r]], 0)
        merged_train[i] = ordered_data
    idx = shuffle(np.arange(0, merged_train.shape[1]), random_state=seed)
    merged_train = merged_train[:, idx]
    return merged_train, merged_test


def reference_preprocess(raw_dir, *, n_sessions, sfreq, mvnn_dim, train_reps, test_reps, seed):
    """Return (training, test, times) exactly as the reference computes them (float64)."""
    epoched_test, _, times = epoching(raw_dir, "test", n_sessions, sfreq, seed, test_reps)
    epoched_train, img_conditions_train, _ = epoching(raw_dir, "training", n_sessions, sfreq, seed, train_reps)
    whitened_test, whitened_train = mvnn(epoched_test, epoched_train, n_sessions, mvnn_dim)
    train, test = save_prepr(whitened_test, whitened_train, img_conditions_train, n_sessions, seed)
    return train, test, times
