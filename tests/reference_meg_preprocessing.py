"""Oracle: ATM's THINGS-MEG preprocessing, literally (MEG.md 2.1 steps 1-10).

Follows ``MEG-preprocessing/pre_possess.ipynb`` of ATM (``dongyangli-del/EEG_Image_decode``)
as MEG.md section 2.1 describes it: load the whole derivative, crop 0..1.0 s, sort by
event code with numpy's default (unstable) argsort, drop the catch code 999999, take
the image numbers that occur ``n_sessions`` times as the test images, remove the test
concepts from training, reshape. The count 12 is a parameter here (the synthetic data
have fewer sessions). Kept in tests/ only, to check that
:mod:`necomimi.preprocessing.meg_derivative` computes the same arrays.
"""

from __future__ import annotations

import mne
import numpy as np
import pandas as pd


def atm_reference(derivative, image_concept_index, n_sessions):
    """Return ATM's arrays (float64) and what the comparison needs.

    Returns
    -------
    dict
        ``train`` (n_concepts, n_images, 1, C, T), ``test`` (n_test, 1, n_sessions, C,
        T), ``test_ids``, ``train_ids`` (image number of each training trial),
        ``test_sessions`` (n_test, n_sessions: the session of each repetition, from the
        metadata), ``ch_names``, ``times``.
    """
    epochs = mne.read_epochs(derivative, preload=True, verbose="error")  # step 1
    epochs.crop(tmin=0, tmax=1.0)  # step 2
    epochs = epochs[np.argsort(epochs.events[:, 2])]  # step 3
    epochs = epochs[epochs.events[:, 2] != 999999]  # step 4
    ids, counts = np.unique(epochs.events[:, 2], return_counts=True)  # step 5
    test_ids = ids[counts == n_sessions]
    is_test = np.isin(epochs.events[:, 2], test_ids)
    training_epochs = epochs[~is_test]  # step 6
    zs_test_epochs = epochs[is_test]  # step 7
    concept_of_image = pd.read_csv(image_concept_index, header=None)[0].to_numpy()  # step 8
    test_concepts = np.unique(concept_of_image[test_ids - 1])
    train_concepts = concept_of_image[training_epochs.events[:, 2] - 1]
    training_epochs = training_epochs[~np.isin(train_concepts, test_concepts)]  # step 9
    train = training_epochs.get_data()  # step 10
    test = zs_test_epochs.get_data()
    n_concepts = len(np.unique(concept_of_image[training_epochs.events[:, 2] - 1]))
    return {
        "train": train.reshape(n_concepts, -1, 1, *train.shape[1:]),
        "test": test.reshape(len(test_ids), 1, n_sessions, *test.shape[1:]),
        "test_ids": test_ids,
        "train_ids": training_epochs.events[:, 2],
        "test_sessions": zs_test_epochs.metadata["session_nr"].to_numpy().reshape(len(test_ids), n_sessions),
        "ch_names": list(epochs.ch_names),
        "times": epochs.times,
    }
