"""Datasets: the THINGS-EEG2 release layout and the embedded synthetic THINGS-EEG2."""
