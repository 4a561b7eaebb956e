"""necomimi rate: the blinded human CAT rating session, its files and its page."""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, PngImagePlugin

from necomimi.cat.judge import human_judgement
from necomimi.cat.rating import (
    ANSWER_COLUMNS,
    RatingSession,
    blinded_order,
    read_answers,
)
from necomimi.cat.rating_server import RatingServer, rater_lock
from necomimi.cat.tags import TAG_TYPES
from necomimi.cli import main
from necomimi.utils.hashing import file_sha256
from tests.cat_fixtures import TABLE

GROUPS = ("intra/nerv/sub-01/seed-0/original/two_stage", "intra/atms/sub-02/seed-3/perturbed_visual/one_stage", "gt")
#: What the page must never tell: the groups' encoders, conditions, modes and files.
SECRETS = re.compile(r"\b(intra|nerv|atms|sub-0\d|seed-\d|original|perturbed_visual|one_stage|two_stage|gt)\b|\.png")


def _write_group(folder: Path, concepts=TABLE["folder"], seed: int = 0) -> None:
    """A folder of generated images as necomimi.generation.images writes it (PNGs and sidecar)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    entries = []
    for index, concept in enumerate(concepts):
        name = f"{index:03d}_{concept.split('_', 1)[1]}.png"
        info = PngImagePlugin.PngInfo()
        info.add_text("source", str(folder))  # metadata the page must not pass on
        Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(folder / name, pnginfo=info)
        entries.append({"index": index, "concept": concept, "file": name, "sha256": file_sha256(folder / name)})
    (folder / "images.json").write_text(json.dumps({"mode": folder.name, "images": entries}))


@pytest.fixture
def study(tmp_path) -> tuple[Path, Path]:
    """An images folder laid out like results/images (three groups) and its tag table."""
    images = tmp_path / "images"
    for seed, group in enumerate(GROUPS):
        _write_group(images / group, seed=seed)
    TABLE.to_csv(tmp_path / "tags.csv", index=False)
    return images, tmp_path / "tags.csv"


def _session(study, out, **kwargs) -> RatingSession:
    images, tags = study
    return RatingSession(images, tags, kwargs.pop("rater", "alice"), out, **kwargs)


def _answer(item) -> dict[str, int]:
    """A rater's deterministic answers: yes to a tag type iff the index and its position have one parity."""
    return {kind: int((item.index + position) % 2 == 0) for position, kind in enumerate(TAG_TYPES)}


def test_the_order_is_seeded_and_covers_every_image_once(study, tmp_path):
    orders = {seed: [(item.group, item.index) for item in _session(study, tmp_path / "out", seed=seed).items]
              for seed in (0, 0, 1)}  # fmt: skip
    again = [(item.group, item.index) for item in _session(study, tmp_path / "out", seed=0).items]
    assert orders[0] == again and orders[0] != orders[1]
    assert sorted(orders[0]) == sorted((group, index) for group in GROUPS for index in range(4))
    # the order depends on the images only, not on the order they were found in
    items = _session(study, tmp_path / "out").items
    assert blinded_order(items[::-1], 0) == blinded_order(items, 0)
    # opaque ids: one per image, none repeated
    assert len({item.id for item in items}) == len(items) == 12


def test_answers_become_ratings_files_the_cat_aggregation_reads(study, tmp_path):
    session = _session(study, tmp_path / "out", groups=["intra/*", "gt"])
    written = []
    while (item := session.next_item()) is not None:
        written.append(session.record(item.id, _answer(item)))
    assert session.n_answered == 12
    files = sorted(path.relative_to(tmp_path / "out" / "alice").as_posix() for path in written if path)
    assert files == sorted([f"{GROUPS[0]}.csv", f"{GROUPS[1]}.csv", "gt/gt.csv"])
    expected = np.array([[(index + position) % 2 == 0 for position in range(5)] for index in range(4)])
    for name in files:
        judgement = human_judgement(tmp_path / "out" / "alice" / name, n_images=4)
        np.testing.assert_array_equal(judgement.matches, expected)
        assert list(pd.read_csv(tmp_path / "out" / "alice" / name).columns) == ["index", "tag_type", "match"]
    log = pd.read_csv(tmp_path / "out" / "alice" / "answers.csv", dtype=str)
    assert list(log.columns) == list(ANSWER_COLUMNS) and len(log) == 12 and set(log["rater"]) == {"alice"}
    assert not SECRETS.search(log.drop(columns="answered_at").to_csv())  # the log is blinded too


def test_a_group_is_written_only_once_every_image_is_rated(study, tmp_path):
    session = _session(study, tmp_path / "out", groups=["gt"])
    items = list(session.items)
    assert [session.record(item.id, _answer(item)) for item in items[:3]] == [None] * 3
    assert not (tmp_path / "out" / "alice" / "gt").exists()
    assert session.record(items[3].id, _answer(items[3])) == tmp_path / "out" / "alice" / "gt" / "gt.csv"


def test_staging_folders_and_an_empty_log_are_no_answers(study, tmp_path):
    staging = study[0] / "intra" / "nerv" / "sub-01" / "seed-0" / "original" / ".two_stage.k2j4"
    _write_group(staging)  # a generation job's folder, not moved into place yet
    (tmp_path / "out" / "alice").mkdir(parents=True)
    (tmp_path / "out" / "alice" / "answers.csv").touch()  # created, nothing written
    session = _session(study, tmp_path / "out")
    assert len(session.items) == 12 and session.n_answered == 0
    session.record(session.items[0].id, _answer(session.items[0]))
    assert read_answers(tmp_path / "out" / "alice" / "answers.csv", "alice") == {
        session.items[0].id: _answer(session.items[0])}


def test_a_new_session_resumes_where_the_rater_left_off(study, tmp_path):
    first = _session(study, tmp_path / "out", seed=5)
    answered = first.items[:5]
    for item in answered:
        first.record(item.id, _answer(item))
    resumed = _session(study, tmp_path / "out", seed=5)
    assert resumed.n_answered == 5 and resumed.next_item() == first.items[5]
    # another seed or a subset of the groups still skips what is answered
    other = _session(study, tmp_path / "out", seed=6, groups=["gt"])
    assert other.n_answered == sum(item.group == "gt" for item in answered)
    with pytest.raises(ValueError, match="answered already"):
        resumed.record(answered[0].id, _answer(answered[0]))
    # a regenerated image is a new image: its old answer does not carry over
    group = answered[0].group
    (study[0] / group / "images.json").unlink()
    for path in (study[0] / group).glob("*.png"):
        path.unlink()
    (study[0] / group).rmdir()
    _write_group(study[0] / group, seed=99)
    regenerated = _session(study, tmp_path / "out", seed=5)
    assert regenerated.n_answered == 5 - sum(item.group == group for item in answered)


def test_answers_must_be_yes_or_no_for_each_tag_type(study, tmp_path):
    session = _session(study, tmp_path / "out")
    item = session.next_item()
    for bad in ({**_answer(item), "concept": 2}, {**_answer(item), "concept": True},
                {kind: 1 for kind in TAG_TYPES[:4]}, [1, 0, 1, 0, 1]):  # fmt: skip
        with pytest.raises(ValueError, match="answers must be 0 or 1 for each of broad_1"):
            session.record(item.id, bad)
    with pytest.raises(KeyError):
        session.record("0123456789abcdef", _answer(item))
    assert session.n_answered == 0 and not (tmp_path / "out" / "alice" / "answers.csv").exists()


HEADER = ",".join(ANSWER_COLUMNS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rater,item,match\n", r"line 1 is \['rater', 'item', 'match'\], not the answers header"),
        (f"{HEADER}\nalice,0123456789abcdef,1,0,1,0\n", "line 2: 6 fields, expected 8"),
        (f"{HEADER}\nbob,0123456789abcdef,1,0,1,0,1,t\n", "line 2: rater 'bob', but this is the answers log of"),
        (f"{HEADER}\nalice,intra/nerv,1,0,1,0,1,t\n", "line 2: item 'intra/nerv' is not an image id"),
        (f"{HEADER}\nalice,0123456789abcdef,1,0,yes,0,1,t\n", "line 2: specific is 'yes', not 0 or 1"),
        (f"{HEADER}\nalice,0123456789abcdef,1,0,1,0,1,t\nalice,0123456789abcdef,1,1,1,1,1,t\n",
         "line 3: image 0123456789abcdef answered twice"),
    ],
)  # fmt: skip
def test_a_malformed_answers_log_is_refused_by_path_and_line(study, tmp_path, text, message):
    log = tmp_path / "out" / "alice" / "answers.csv"
    log.parent.mkdir(parents=True)
    log.write_text(text)
    with pytest.raises(ValueError, match=f"{re.escape(str(log))}: {message}"):
        _session(study, tmp_path / "out")
    with pytest.raises(ValueError, match=re.escape(str(log))):
        read_answers(log, "alice")


def test_bad_inputs_are_refused_by_name(study, tmp_path):
    images, tags = study
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=f"{tmp_path / 'empty'}: no generated images"):
        RatingSession(tmp_path / "empty", tags, "alice", tmp_path / "out")
    with pytest.raises(FileNotFoundError, match="images folder not found"):
        RatingSession(tmp_path / "absent", tags, "alice", tmp_path / "out")
    with pytest.raises(ValueError, match=f"{images / 'intra' / 'atms'}/.*: not a group of results/images"):
        RatingSession(images / "intra", tags, "alice", tmp_path / "out")
    with pytest.raises(ValueError, match="no image group matches 'intra/muse/\\*'"):
        RatingSession(images, tags, "alice", tmp_path / "out", groups=["intra/muse/*"])
    with pytest.raises(ValueError, match="rater id '../bob'"):
        RatingSession(images, tags, "../bob", tmp_path / "out")
    TABLE.replace({"folder": {"00003_car": "00003_cat"}}).to_csv(tmp_path / "other_tags.csv", index=False)
    difference = r"image \(2, '00003_car'\) \(index, concept\), tag table row \(2, '00003_cat'\)"
    with pytest.raises(ValueError, match=rf"images.json: images of 4 concepts, .*other_tags.csv has tags of 4; the "
                       rf"first difference: {difference}"):
        RatingSession(images, tmp_path / "other_tags.csv", "alice", tmp_path / "out")
    TABLE.iloc[:3].to_csv(tmp_path / "short_tags.csv", index=False)
    with pytest.raises(ValueError, match=r"has tags of 3; the first difference: image \(3, '00004_bus'\)"):
        RatingSession(images, tmp_path / "short_tags.csv", "alice", tmp_path / "out")
    (images / "gt" / "001_bee.png").unlink()
    with pytest.raises(FileNotFoundError, match="001_bee.png: listed in .*images.json but missing"):
        RatingSession(images, tags, "alice", tmp_path / "out", groups=["gt"])


def test_the_command_line_refuses_an_images_folder_without_images(study, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit) as stopped:
        main(["rate", str(tmp_path / "empty"), "--tags", str(study[1]), "--rater", "alice", "--out", str(tmp_path)])
    assert stopped.value.code == 2
    assert f"necomimi rate: error: {tmp_path / 'empty'}: no generated images" in capsys.readouterr().err


def test_one_server_per_rater(tmp_path):
    with rater_lock(tmp_path / "alice"):
        with pytest.raises(ValueError, match="another `necomimi rate` serves this rater"):
            with rater_lock(tmp_path / "alice"):
                pass
    with rater_lock(tmp_path / "alice"):  # released
        pass


@pytest.fixture
def server(study, tmp_path):
    """The rating page of a session over the three groups, served on a free port."""
    with RatingServer(_session(study, tmp_path / "out", seed=3), port=0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server
        server.shutdown()
        thread.join()


def test_a_port_in_use_is_refused_by_name(server):
    host, port = server.server_address[:2]
    with pytest.raises(ValueError, match=f"cannot serve on {host}:{port}: .*choose another port"):
        RatingServer(server.session, host, port)


def _get(server, path: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(server.url + path) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def _post(server, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(server.url + "api/answer", data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_page_rates_through_the_server_and_tells_nothing_of_the_groups(server):
    status, kind, page = _get(server, "")
    assert status == 200 and kind.startswith("text/html") and not SECRETS.search(page.decode())
    seen = []
    state = json.loads(_get(server, "api/next")[2])
    while state["item"] is not None:
        item = server.session.item(state["item"]["id"])
        assert state["answered"] == len(seen) and state["total"] == 12 and state["rater"] == "alice"
        assert [(q["tag_type"], q["tag"]) for q in state["item"]["questions"]] == list(item.tags.items())
        assert not SECRETS.search(json.dumps(state)), state
        status, kind, png = _get(server, state["item"]["image"])
        assert status == 200 and kind == "image/png"
        with Image.open(item.image) as original, Image.open(io.BytesIO(png)) as served:
            assert "source" in original.info and not served.info.get("source")
            np.testing.assert_array_equal(np.asarray(served), np.asarray(original.convert("RGB")))
        seen.append(item)
        status, state = _post(server, json.dumps({"item": item.id, "answers": _answer(item)}).encode())
        assert status == 200
    assert [item.id for item in seen] == [item.id for item in server.session.items]
    assert (server.session.folder / "gt" / "gt.csv").is_file()


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"not json", 400, "Expecting value"),
        (json.dumps({"item": "0123456789abcdef", "answers": {}}).encode(), 404, "no such image"),
        (json.dumps({"answers": {}}).encode(), 404, "'item'"),
        (json.dumps({"item": None, "answers": []}).encode(), 404, "no such image"),
    ],
)
def test_bad_answers_are_refused_and_change_nothing(server, body, status, message):
    code, reply = _post(server, body)
    assert code == status and message in reply["error"]
    assert server.session.n_answered == 0
    assert _get(server, "image/0123456789abcdef")[0] == 404 and _get(server, "elsewhere")[0] == 404


def test_a_bad_answer_to_a_known_image_is_a_bad_request(server):
    item = server.session.next_item()
    code, reply = _post(server, json.dumps({"item": item.id, "answers": {"concept": 1}}).encode())
    assert code == 400 and "answers must be 0 or 1" in reply["error"]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_the_server_stops_on_ctrl_c_or_sigterm_even_with_sigint_ignored(study, tmp_path, stop):
    """A background job of a non-interactive shell (CI) starts its children with SIGINT ignored."""
    images, tags = study
    command = [sys.executable, "-m", "necomimi.cli", "rate", str(images), "--tags", str(tags), "--rater", "alice",
               "--out", str(tmp_path / "ratings"), "--port", "0"]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))  # fmt: skip
    try:
        assert "Rating page for alice: http://127.0.0.1:" in server.stdout.readline()
        server.send_signal(stop)
        out, errors = server.communicate(timeout=20)
    finally:
        server.kill()
    assert server.returncode == 0 and "Stopped: 0 of" in out, errors
