"""A condition of the study: which channels, and which part of the epoch, become noise.

The config's ``conditions`` map a name to one of:

- a list of channel names (``[]``: the original data; the paper's ``perturbed_visual``
  lists its seven visual-cortex channels, SPEC.md 6.5);
- the name of a channel set (:data:`~necomimi.conditions.regions.CHANNEL_SETS`: a
  scalp region such as ``occipital``, or ``visual_cortex``);
- a mapping ``{channels: <list or set>, window: [start_s, stop_s], action: ...}`` for a
  time-window ablation, ``action`` being ``noise_inside`` (the window's samples become
  noise), ``noise_outside`` (every sample outside the window does) or ``crop`` (samples
  outside the window take the channel's mean over the window: the encoder sees the
  window alone, its input length unchanged). ``channels`` defaults to every channel.

Conditions apply to the EEG an encoder trained on the original data reads: the features
of every condition come from one encoder (:mod:`necomimi.generation.features`), and
retrieval and generation read those features.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from necomimi.conditions.regions import CHANNEL_SETS, resolve_channels

#: What a window condition does with the epoch.
WINDOW_ACTIONS: tuple[str, ...] = ("noise_inside", "noise_outside", "crop")
#: Keys of a condition given as a mapping.
CONDITION_KEYS: tuple[str, ...] = ("channels", "window", "action")
#: Slack on the epoch's bounds and window edges, seconds (times are rounded to 1 us).
_TOLERANCE_S = 1e-6


@dataclass(frozen=True)
class Condition:
    """One condition of the study.

    Attributes
    ----------
    name : str
        Its name in the config.
    channels : str or tuple of str or None
        The channels it touches: names, the name of a channel set, or None for every
        channel (a window condition without ``channels``).
    window : tuple of float or None
        ``(start_s, stop_s)``, both included, or None for the whole epoch.
    action : str or None
        One of :data:`WINDOW_ACTIONS` for a window condition, else None (the channels
        become noise over the whole epoch).
    """

    name: str
    channels: str | tuple[str, ...] | None
    window: tuple[float, float] | None = None
    action: str | None = None

    @property
    def is_reference(self) -> bool:
        """Whether the condition leaves the data as it is (no channel and no window)."""
        return self.window is None and not self.channels

    @property
    def kind(self) -> str:
        """``reference``, ``window``, ``region`` (a named set) or ``channels`` (a list)."""
        if self.is_reference:
            return "reference"
        if self.window is not None:
            return "window"
        return "region" if isinstance(self.channels, str) else "channels"

    def describe(self, ch_names: Sequence[str] | None = None) -> str:
        """What the condition replaces, in words (for tables and logs).

        With the data's ``ch_names``, a set or every channel is spelled out by name.
        """
        if self.is_reference:
            return "nothing (the original data)"
        if ch_names is not None:
            where = "channels " + ", ".join(self.channel_names(ch_names))
        elif self.channels is None:
            where = "every channel"
        else:
            where = self.channels if isinstance(self.channels, str) else ", ".join(self.channels)
        if self.window is None:
            return f"{where} replaced by noise over the epoch"
        span = f"{self.window[0] * 1000:g}-{self.window[1] * 1000:g} ms"
        return {"noise_inside": f"{where} replaced by noise in {span}",
                "noise_outside": f"{where} replaced by noise outside {span}",
                "crop": f"{where} cropped to {span}"}[self.action]  # fmt: skip

    def channel_names(self, ch_names: Sequence[str]) -> list[str]:
        """The channels of ``ch_names`` the condition touches, in its own order."""
        return list(ch_names) if self.channels is None else resolve_channels(self.channels, ch_names)

    def replaced_times(self, times: Sequence[float] | None) -> np.ndarray | slice:
        """Which time points of the epoch the condition replaces.

        Returns ``slice(None)`` (all of them) without a window, else a boolean mask over
        ``times``. Raises ValueError, naming the condition, when the window or what it
        leaves holds fewer samples than the action needs.
        """
        if self.window is None:
            return slice(None)
        if times is None:
            raise ValueError(f"condition {self.name!r}: a time window needs the epoch's times")
        times = np.asarray(times, dtype=float)
        start, stop = self.window
        inside = (times >= start - _TOLERANCE_S) & (times <= stop + _TOLERANCE_S)
        replaced = inside if self.action == "noise_inside" else ~inside
        # Noise needs a standard deviation (2 samples); a crop keeps a sample or more.
        usable = inside.any() and replaced.any() if self.action == "crop" else replaced.sum() >= 2
        if not usable:
            needs = "a sample inside it and one outside" if self.action == "crop" else "2 samples or more to replace"
            raise ValueError(
                f"condition {self.name!r}: window {start:g}-{stop:g} s holds {int(inside.sum())} of the epoch's "
                f"{len(times)} samples ({times[0]:g}-{times[-1]:g} s); {self.action} needs {needs}"
            )
        return replaced


def _parse_channels(name: str, value) -> str | tuple[str, ...]:
    if isinstance(value, str):
        if value not in CHANNEL_SETS:
            raise ValueError(f"condition {name!r}: unknown channel set {value!r}; expected a list of channels "
                             f"or one of {', '.join(sorted(CHANNEL_SETS))}")  # fmt: skip
        return value
    if isinstance(value, Sequence) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ValueError(f"condition {name!r}: channels must be a list of channel names or a set name, got {value!r}")


def parse_condition(name: str, value) -> Condition:
    """Read one condition of the config (the forms in this module's docstring).

    Raises
    ------
    ValueError
        Naming the condition and the key: an unknown set, an unknown key, a window that
        is not ``[start, stop]`` with ``start < stop``, or an unknown action.
    """
    if not isinstance(value, Mapping):
        return Condition(name=name, channels=_parse_channels(name, value))
    unknown = sorted(set(value) - set(CONDITION_KEYS))
    if unknown:
        raise ValueError(
            f"condition {name!r}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(CONDITION_KEYS)}"
        )
    missing = [key for key in ("window", "action") if key not in value]
    if missing:
        raise ValueError(f"condition {name!r}: a window condition needs {' and '.join(map(repr, missing))}; "
                         "give channels alone as a list or a set's name")  # fmt: skip
    channels = _parse_channels(name, value["channels"]) if "channels" in value else None
    window = value["window"]
    if (not isinstance(window, Sequence) or isinstance(window, str) or len(window) != 2
            or not all(isinstance(t, int | float) and not isinstance(t, bool) for t in window)):  # fmt: skip
        raise ValueError(f"condition {name!r}: window must be [start_s, stop_s], got {window!r}")
    start, stop = float(window[0]), float(window[1])
    if not start < stop:
        raise ValueError(
            f"condition {name!r}: empty window [{start:g}, {stop:g}] s; the start must come before the stop"
        )
    action = value.get("action")
    if action not in WINDOW_ACTIONS:
        raise ValueError(f"condition {name!r}: action must be one of {', '.join(WINDOW_ACTIONS)}, got {action!r}")
    return Condition(name=name, channels=channels, window=(start, stop), action=action)


def parse_conditions(conditions: Mapping[str, object]) -> dict[str, Condition]:
    """Read the config's ``conditions`` mapping, in order (:func:`parse_condition`)."""
    return {name: parse_condition(name, value) for name, value in conditions.items()}


def as_condition(condition: Condition | str | Sequence[str], name: str = "condition") -> Condition:
    """A :class:`Condition`, or a config value (channel list or set name) read as one."""
    return condition if isinstance(condition, Condition) else parse_condition(name, condition)


def _check_condition(condition: Condition, epoch: tuple[float, float], ch_names: Sequence[str] | None) -> None:
    if ch_names is not None and condition.channels:
        try:
            condition.channel_names(ch_names)
        except ValueError as error:
            raise ValueError(f"condition {condition.name!r}: {error}") from error
    if condition.window is not None:
        start, stop = condition.window
        if start < epoch[0] - _TOLERANCE_S or stop > epoch[1] + _TOLERANCE_S:
            raise ValueError(f"condition {condition.name!r}: window {start:g}-{stop:g} s lies outside "
                             f"the epoch, {epoch[0]:g}-{epoch[1]:g} s")  # fmt: skip


def check_conditions(
    conditions: Mapping[str, object],
    *,
    epoch: tuple[float, float],
    ch_names: Sequence[str] | None = None,
    where: str = "conditions",
) -> dict[str, Condition]:
    """Read and check the config's conditions before any job runs.

    Parameters
    ----------
    conditions : mapping
        The config's ``conditions`` (or ``meg.conditions``).
    epoch : tuple of float
        First and last time of the preprocessed epoch, seconds; every window must lie
        within it.
    ch_names : sequence of str, optional
        The data's channels when known before the data exist (THINGS-EEG2's 63): listed
        channels and sets are checked against them. Without them, only set names are.
    where : str
        The config key, for messages.

    Returns
    -------
    dict
        Name -> :class:`Condition`, in config order.

    Raises
    ------
    ValueError
        Naming the config key, the condition and what is wrong.
    """
    try:
        parsed = parse_conditions(conditions)
        for condition in parsed.values():
            _check_condition(condition, epoch, ch_names)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from error
    return parsed
