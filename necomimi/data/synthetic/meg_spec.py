"""What a synthetic THINGS-MEG looks like: its size, design and signal strength."""

from __future__ import annotations

from dataclasses import dataclass

from necomimi.data.synthetic.spec import require_integers


@dataclass(frozen=True)
class SyntheticMegSpec:
    """Size, recording design and signal strength of a synthetic THINGS-MEG.

    The design follows the real one (MEG.md 1.1) at a small scale: every concept has
    ``exp_images_per_concept`` images shown once each (spread over the sessions);
    ``n_test_concepts`` concepts have one more image, the test image, shown once in
    every session; every run has ``catch_per_run`` catch trials. THINGS numbers
    images concept by concept and also holds images the experiment never shows
    (``unused_images_per_concept``), so the shown image numbers have gaps.

    Parameters
    ----------
    seed : int
        Seeds every random step: concepts, images, trial orders, brains, noise.
    n_concepts : int
        THINGS concepts in the experiment (1854 in THINGS-MEG).
    exp_images_per_concept : int
        ``exp`` images per concept (12).
    n_test_concepts : int
        Concepts with a test image (200); they leave the training set (ATM's split).
    unused_images_per_concept : int
        Images per concept in the THINGS tables but never shown.
    n_sessions : int
        Sessions per participant (12); every test image is shown once in each.
    runs_per_session : int
        Runs per session (10).
    catch_per_run : int
        Catch trials per run (20).
    image_size : int
        Side of the square stimulus images, pixels.
    evoked_amplitude_ft : float
        Peak amplitude, femtotesla, of one unit of the image-dependent response of
        the occipital sensors.
    noise_ft : float
        Standard deviation, femtotesla, of the white sensor noise at the raw rate
        (about a quarter of it survives the 40 Hz low-pass).
    min_run_s : float
        Shortest run, seconds: runs are padded to it so that the 0.1 Hz high-pass
        (a 33 s FIR filter) is shorter than the signal, as with the real 348 s runs.
    """

    seed: int = 20230114
    n_concepts: int = 10
    exp_images_per_concept: int = 4
    n_test_concepts: int = 3
    unused_images_per_concept: int = 1
    n_sessions: int = 3
    runs_per_session: int = 2
    catch_per_run: int = 2
    image_size: int = 32
    evoked_amplitude_ft: float = 200.0
    noise_ft: float = 300.0
    min_run_s: float = 40.0

    def __post_init__(self) -> None:
        """Refuse sizes the generator cannot honour, naming the field."""
        positive = ("n_concepts", "exp_images_per_concept", "n_test_concepts", "n_sessions", "runs_per_session")
        require_integers(self, positive, minimum=1, prefix="synthetic_meg")
        require_integers(self, ("unused_images_per_concept", "catch_per_run"), minimum=0, prefix="synthetic_meg")
        if self.n_test_concepts >= self.n_concepts:
            raise ValueError(
                f"synthetic_meg.n_test_concepts ({self.n_test_concepts}) must be below n_concepts "
                f"({self.n_concepts}): the other concepts are the training set"
            )
        if self.catch_per_run == 0 and self.min_trials_per_session < self.runs_per_session:
            raise ValueError(
                f"synthetic_meg.runs_per_session ({self.runs_per_session}) exceeds the "
                f"{self.min_trials_per_session} trials every session is sure to have (n_test_concepts + "
                "n_concepts x (exp_images_per_concept // n_sessions)) and catch_per_run is 0: a run "
                "could hold no trial"
            )
        if not isinstance(self.image_size, int) or self.image_size < 16:
            raise ValueError(f"synthetic_meg.image_size must be an integer >= 16, got {self.image_size!r}")
        for name in ("evoked_amplitude_ft", "noise_ft", "min_run_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"synthetic_meg.{name} must be >= 0, got {getattr(self, name)!r}")

    @property
    def min_trials_per_session(self) -> int:
        """Trials (exp and test, without catch) that every session is sure to hold.

        Each session shows every test image, and at least ``exp_images_per_concept //
        n_sessions`` exp images of every concept (the rest of a concept's images go to
        sessions drawn at random).
        """
        return self.n_test_concepts + self.n_concepts * (self.exp_images_per_concept // self.n_sessions)
