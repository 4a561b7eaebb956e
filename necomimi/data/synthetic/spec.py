"""What a synthetic THINGS-EEG2 looks like: its size, design and signal strength."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def require_integers(spec, names: Iterable[str], *, minimum: int, prefix: str) -> None:
    """Refuse fields of ``spec`` that are not integers >= ``minimum`` (0 or 1), naming the field."""
    kind = "positive" if minimum == 1 else "non-negative"
    for name in names:
        value = getattr(spec, name)
        if not isinstance(value, int) or value < minimum:
            raise ValueError(f"{prefix}.{name} must be a {kind} integer, got {value!r}")


@dataclass(frozen=True)
class SyntheticSpec:
    """Size, recording design and signal strength of a synthetic THINGS-EEG2.

    The defaults are the embedded demo of ``config/config.yaml`` (a test keeps the two
    equal); :meth:`full_size` gives the counts of the real release.

    Parameters
    ----------
    seed : int
        Seeds every random step: concepts, images, subjects' brains, noise.
    n_train_concepts : int
        Training concepts (1654 in THINGS-EEG2).
    train_images_per_concept : int
        Images per training concept (10 in THINGS-EEG2).
    n_test_concepts : int
        Test concepts, one image each (200 in THINGS-EEG2). Disjoint from training.
    n_sessions : int
        Recording sessions per subject (4 in THINGS-EEG2). Must be even: every
        training image is shown in exactly two sessions.
    train_reps_per_session : int
        Repetitions of a training image within each session that shows it (2).
    test_reps_per_session : int
        Repetitions of every test image in every session (20).
    image_size : int
        Side of the square stimulus images, pixels (the release's are 500).
    target_fraction : float
        Share of trials that are target-detection trials (event 99999), in [0, 0.5).
    evoked_amplitude_uv : float
        Peak amplitude, in microvolts, of one unit of the image-dependent evoked
        response; the factor terms add up to a few units at posterior channels.
    background_noise_uv : float
        Standard deviation per channel, in microvolts, of the 1/f background EEG.
    alpha_amplitude_uv : float
        Standard deviation, in microvolts, of the posterior alpha rhythm at its
        strongest channel.
    """

    seed: int = 20200220
    n_train_concepts: int = 30
    train_images_per_concept: int = 4
    n_test_concepts: int = 20
    n_sessions: int = 4
    train_reps_per_session: int = 2
    test_reps_per_session: int = 2
    image_size: int = 64
    target_fraction: float = 0.03
    evoked_amplitude_uv: float = 10.0
    background_noise_uv: float = 6.0
    alpha_amplitude_uv: float = 4.0

    def __post_init__(self) -> None:
        """Refuse sizes the generator cannot honour, naming the field."""
        positive = (
            "n_train_concepts",
            "train_images_per_concept",
            "n_test_concepts",
            "n_sessions",
            "train_reps_per_session",
            "test_reps_per_session",
        )
        require_integers(self, positive, minimum=1, prefix="synthetic")
        if self.n_sessions % 2:
            raise ValueError(
                "synthetic n_sessions must be even (every training image is shown in "
                f"exactly two sessions), got {self.n_sessions}"
            )
        if not isinstance(self.image_size, int) or self.image_size < 16:
            raise ValueError(f"synthetic.image_size must be an integer >= 16, got {self.image_size!r}")
        if not 0.0 <= self.target_fraction < 0.5:
            raise ValueError(
                f"synthetic.target_fraction must lie in [0, 0.5), got {self.target_fraction!r}"
            )
        for name in ("evoked_amplitude_uv", "background_noise_uv", "alpha_amplitude_uv"):
            if getattr(self, name) < 0:
                raise ValueError(f"synthetic.{name} must be >= 0, got {getattr(self, name)!r}")

    @property
    def n_train_images(self) -> int:
        """Training image conditions (16540 in THINGS-EEG2)."""
        return self.n_train_concepts * self.train_images_per_concept

    @classmethod
    def full_size(cls, **overrides) -> SyntheticSpec:
        """Return the counts of the real release (SPEC.md 1.3 and 2), for benchmarks.

        1654 x 10 training images shown 2 x 2 times, 200 test images shown 20 times in
        each of 4 sessions, 500 x 500 pixel images.
        """
        values = dict(
            n_train_concepts=1654,
            train_images_per_concept=10,
            n_test_concepts=200,
            n_sessions=4,
            train_reps_per_session=2,
            test_reps_per_session=20,
            image_size=500,
        )
        values.update(overrides)
        return cls(**values)
