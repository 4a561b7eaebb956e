"""Conditions: scalp regions, windows, the one perturbation, and the ablation table and figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from necomimi.conditions import check_conditions, perturb, resolve_channels
from necomimi.conditions.ablations import ablation_markdown, ablation_table, plot_ablations
from necomimi.conditions.condition import parse_condition
from necomimi.conditions.regions import REGIONS, channel_region, region_channels
from necomimi.data.things_eeg2 import CHANNEL_NAMES

TIMES = np.arange(100) / 100  # 0-0.99 s at 100 Hz, as the demo's epochs

# SPEC.md 1.5: the reference code's regions, which partition the 63 channels.
REFERENCE_REGIONS = {
    "frontal": "Fp1 Fp2 AF7 AF3 AFz AF4 AF8 F7 F5 F3 F1 F2 F4 F6 F8",
    "central": "FC5 FC3 FC1 FCz FC2 FC4 FC6 C5 C3 C1 Cz C2 C4 C6",
    "parietal": "CP5 CP3 CP1 CPz CP2 CP4 CP6 P7 P5 P3 P1 Pz P2 P4 P6 P8",
    "temporal": "FT9 FT7 T7 TP9 TP7 TP8 TP10 T8 FT8 FT10",
    "occipital": "PO7 PO3 POz PO4 PO8 O1 Oz O2",
}


def test_the_regions_from_the_10_10_names_are_the_reference_codes_partition():
    for region, names in REFERENCE_REGIONS.items():
        assert set(region_channels(region, CHANNEL_NAMES)) == set(names.split()), region
    assert sum(len(region_channels(region, CHANNEL_NAMES)) for region in REGIONS) == 63


def test_meg_sensors_fall_in_the_region_of_their_third_letter():
    sensors = ["MLF11-1609", "MRC21-1609", "MLT31-1609", "MZP01-1609", "MZO02-1609", "UPPT001"]
    regions = ["frontal", "central", "temporal", "parietal", "occipital", None]
    assert [channel_region(name) for name in sensors] == regions
    assert resolve_channels("occipital", sensors) == ["MZO02-1609"]


def test_each_form_of_a_condition_is_read():
    assert parse_condition("original", []).is_reference
    listed = parse_condition("visual", ["O1", "Oz"])
    assert (listed.kind, listed.channels, listed.window) == ("channels", ("O1", "Oz"), None)
    assert parse_condition("occ", "occipital").kind == "region"
    window = parse_condition("early", {"window": [0, 0.2], "action": "noise_outside"})
    assert (window.kind, window.channels, window.window, window.action) == ("window", None, (0.0, 0.2), "noise_outside")
    assert window.describe() == "every channel replaced by noise outside 0-200 ms"
    late = parse_condition("late", {"channels": "occipital", "window": [0.2, 0.5], "action": "crop"})
    assert late.describe(CHANNEL_NAMES) == "channels PO7, PO3, POz, PO4, PO8, O1, Oz, O2 cropped to 200-500 ms"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("posterior", r"condition 'bad': unknown channel set 'posterior'; expected a list of channels or one of"),
        ({"window": [0.3, 0.1], "action": "crop"}, r"condition 'bad': empty window \[0.3, 0.1\] s"),
        ({"window": [0.2, 0.2], "action": "crop"}, r"condition 'bad': empty window"),
        ({"window": [0.1], "action": "crop"}, r"condition 'bad': window must be \[start_s, stop_s\], got \[0.1\]"),
        ({"window": [0.1, 0.3]}, r"condition 'bad': a window condition needs 'action'"),
        ({"window": [0.1, 0.3], "action": "chop"}, r"condition 'bad': action must be one of noise_inside"),
        ({"window": [0.1, 0.3], "action": "crop", "taper": 1}, r"condition 'bad': unknown key\(s\) taper"),
        ({"channels": 3, "window": [0.1, 0.3], "action": "crop"}, r"condition 'bad': channels must be a list"),
    ],
)
def test_a_malformed_condition_is_refused_by_name(value, message):
    with pytest.raises(ValueError, match=message):
        parse_condition("bad", value)


def test_the_config_check_names_unknown_channels_and_windows_outside_the_epoch():
    conditions = {"original": [], "occ": "occipital", "early": {"window": [0.0, 0.2], "action": "crop"}}
    assert list(check_conditions(conditions, epoch=(0.0, 1.0), ch_names=CHANNEL_NAMES)) == ["original", "occ", "early"]
    with pytest.raises(ValueError, match=r"^conditions: condition 'typo': unknown channel\(s\) \['OZ'\]"):
        check_conditions({"typo": ["OZ"]}, epoch=(0.0, 1.0), ch_names=CHANNEL_NAMES)
    late = {"late": {"window": [0.8, 1.2], "action": "noise_inside"}}
    with pytest.raises(ValueError, match=r"^meg.conditions: condition 'late': window 0.8-1.2 s lies outside the epoch"):
        check_conditions(late, epoch=(0.0, 1.0), where="meg.conditions")
    # Without the channel names (MEG, known from the data only), listed sensors wait for the job.
    assert check_conditions({"some": ["MLO11-1609"]}, epoch=(0.0, 1.0))["some"].channels == ("MLO11-1609",)


def _eeg(seed=0):
    return (np.random.default_rng(seed).standard_normal((4, 63, 100)) * 3 + 5).astype(np.float32)


def test_noise_inside_a_window_touches_only_its_channels_and_samples():
    eeg = _eeg()
    condition = parse_condition("w", {"channels": "occipital", "window": [0.1, 0.3], "action": "noise_inside"})
    out = perturb(eeg, condition, np.random.default_rng(1), CHANNEL_NAMES, TIMES)
    changed = out != eeg
    channels = [CHANNEL_NAMES.index(name) for name in REFERENCE_REGIONS["occipital"].split()]
    assert set(np.flatnonzero(changed.any(axis=(0, 2)))) == set(channels)
    assert list(np.flatnonzero(changed.any(axis=(0, 1)))) == list(range(10, 31))  # 0.10-0.30 s, both included
    block = out[:, channels, 10:31]
    np.testing.assert_allclose(block.mean(axis=-1), eeg[:, channels, 10:31].mean(axis=-1), atol=1.5)
    again = perturb(eeg, condition, np.random.default_rng(1), CHANNEL_NAMES, TIMES)
    np.testing.assert_array_equal(out, again)


def test_noise_outside_and_crop_keep_the_window():
    eeg = _eeg()
    outside = perturb(eeg, parse_condition("o", {"window": [0.2, 0.4], "action": "noise_outside"}),
                      np.random.default_rng(1), CHANNEL_NAMES, TIMES)  # fmt: skip
    np.testing.assert_array_equal(outside[:, :, 20:41], eeg[:, :, 20:41])
    assert (outside[:, :, :20] != eeg[:, :, :20]).all() and (outside[:, :, 41:] != eeg[:, :, 41:]).all()
    rng = np.random.default_rng(1)
    cropped = perturb(eeg, parse_condition("c", {"window": [0.2, 0.4], "action": "crop"}), rng, CHANNEL_NAMES, TIMES)
    np.testing.assert_array_equal(cropped[:, :, 20:41], eeg[:, :, 20:41])
    np.testing.assert_allclose(cropped[:, :, 0], eeg[:, :, 20:41].mean(axis=-1), rtol=1e-6)
    assert (cropped[:, :, 41:] == cropped[:, :, :1]).all()
    assert rng.random() == np.random.default_rng(1).random()  # a crop draws no noise


def test_the_reference_condition_returns_the_data_and_bad_windows_are_refused():
    eeg = _eeg()
    np.testing.assert_array_equal(perturb(eeg, [], np.random.default_rng(0)), eeg)
    outside_data = parse_condition("late", {"window": [0.995, 1.0], "action": "noise_inside"})
    with pytest.raises(ValueError, match=r"condition 'late': window 0.995-1 s holds 0 of the epoch's 100 samples"):
        perturb(eeg, outside_data, np.random.default_rng(0), CHANNEL_NAMES, TIMES)
    with pytest.raises(ValueError, match=r"condition 'w': a time window needs the epoch's times"):
        perturb(eeg, parse_condition("w", {"window": [0, 0.5], "action": "crop"}), np.random.default_rng(0))
    with pytest.raises(ValueError, match="100 time points in the data but 3 times"):
        perturb(eeg, "occipital", np.random.default_rng(0), CHANNEL_NAMES, [0.0, 0.1, 0.2])


CONDITIONS = {"original": [], "frontal": "frontal", "occipital": "occipital",
              "early": {"window": [0.0, 0.2], "action": "noise_outside"}}  # fmt: skip
ACCURACY = {"original": 0.8, "frontal": 0.78, "occipital": 0.6, "early": 0.7}


def _retrieval() -> pd.DataFrame:
    rows = [{"protocol": "intra", "encoder": encoder, "subject": subject, "seed": 0, "condition": condition,
             "selection": "validation", "k": k, "top": 1, "accuracy": ACCURACY[condition] - (k == 20) * 0.5 - bonus,
             "mc_accuracy": 0.0, "mc_stderr": 0.0}
            for encoder, bonus in (("nerv", 0.0), ("atms", 0.1)) for subject in ("01", "02")
            for condition in CONDITIONS for k in (2, 20)]  # fmt: skip
    return pd.DataFrame(rows)


def test_the_ablation_table_sets_each_condition_beside_the_original():
    metrics = pd.DataFrame([{"protocol": "intra", "encoder": "nerv", "subject": "01", "seed": 0, "condition": condition,
                             "mode": mode, "metric": "clip_2way", "space": "", "value": value, "n_images": 20,
                             "computed": True, "note": ""}
                            for condition, value in (("original", 0.7), ("occipital", 0.6))
                            for mode in ("gt", "one_stage")])  # fmt: skip
    table = ablation_table(_retrieval(), CONDITIONS, metrics)
    top1 = table[table["measure"] == "retrieval 20-way top-1 (%)"]
    assert list(top1["condition"].unique()) == list(CONDITIONS)  # the config's order
    nerv = top1[top1["encoder"] == "nerv"].set_index("condition")
    assert nerv.loc["occipital", "mean"] == pytest.approx(10.0)
    assert nerv.loc["occipital", "change"] == pytest.approx(-20.0) and nerv.loc["original", "change"] == 0
    assert list(nerv["kind"]) == ["reference", "region", "region", "window"]
    measures = ["retrieval 2-way top-1 (%)", "retrieval 20-way top-1 (%)", "clip_2way, one_stage"]
    assert list(table["measure"].unique()) == measures
    image = table[table["measure"] == "clip_2way, one_stage"].set_index("condition")
    assert image.loc["occipital", "change"] == pytest.approx(-0.1)
    markdown = ablation_markdown(table)
    row = "| occipital | occipital replaced by noise over the epoch | 50.00 ± 0.00 (-20.00) | 60.00 ± 0.00 (-20.00) |"
    assert row in markdown
    without_reference = ablation_table(_retrieval()[lambda r: r["condition"] != "original"],
                                       {k: v for k, v in CONDITIONS.items() if k != "original"})  # fmt: skip
    assert without_reference["change"].isna().all()
    with pytest.raises(ValueError, match=r"retrieval results of condition\(s\) \['early'\] that the config does not"):
        ablation_table(_retrieval(), {k: v for k, v in CONDITIONS.items() if k != "early"})


def test_the_ablation_figure_is_a_png(tmp_path):
    plot_ablations(ablation_table(_retrieval(), CONDITIONS), tmp_path / "ablations.png")
    assert (tmp_path / "ablations.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="no condition other than the original data to plot"):
        original_only = ablation_table(_retrieval()[lambda r: r["condition"] == "original"], {"original": []})
        plot_ablations(original_only, tmp_path / "x.png")
