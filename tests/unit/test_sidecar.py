"""The sidecar reader shared by the scores, the image grids and the rating page."""

import json

import pytest

from necomimi.generation.sidecar import sidecar_entries


def test_entries_come_sorted_by_index_and_bad_sidecars_are_named(tmp_path):
    entries = [{"index": 1, "file": "b"}, {"index": 0, "file": "a"}]
    (tmp_path / "images.json").write_text(json.dumps({"images": entries}))
    assert [entry["file"] for entry in sidecar_entries(tmp_path)] == ["a", "b"]
    (tmp_path / "images.json").write_text(json.dumps({"mode": "gt"}))
    with pytest.raises(ValueError, match=r"images\.json: not a sidecar of generated images \(KeyError"):
        sidecar_entries(tmp_path)
    (tmp_path / "images.json").write_text("{")
    with pytest.raises(ValueError, match="not a sidecar of generated images"):
        sidecar_entries(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"missing; .*empty is not a folder of generated images"):
        sidecar_entries(tmp_path / "empty")
