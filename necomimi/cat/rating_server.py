"""The rating page of ``necomimi rate``: a local web server for one :class:`~necomimi.cat.rating.RatingSession`.

The page (``rating_page.html``) shows one image at a time and the five questions on
it; it asks the server for the next image and posts each answer back. The server
names images by their opaque ids only and sends them re-encoded without their PNG
metadata, so neither the page, its URLs nor the image bytes tell encoder, condition,
mode or file name.

- ``GET /``: the page;
- ``GET /api/next``: the rater, progress and the next image (id, URL, questions), or no
  image when all are rated;
- ``GET /image/<id>``: that image, as a PNG without metadata;
- ``POST /api/answer``: ``{"item": id, "answers": {tag type: 0 or 1}}``; answers like
  ``/api/next``.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import logging
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

from necomimi.cat.rating import QUESTIONS, TAG_TYPES, RatingSession

logger = logging.getLogger(__name__)

PAGE = resources.files(__package__).joinpath("rating_page.html").read_bytes()
#: Bytes of a request body the server reads at most (an answer is about 150).
MAX_BODY = 4096


def session_state(session: RatingSession) -> dict:
    """What the page shows: the rater, the progress and the next image (or None)."""
    item = session.next_item()
    shown = None if item is None else {
        "id": item.id,
        "image": f"image/{item.id}",
        "questions": [{"tag_type": kind, "question": QUESTIONS[kind], "tag": item.tags[kind]} for kind in TAG_TYPES],
    }  # fmt: skip
    return {"rater": session.rater, "answered": session.n_answered, "total": len(session.items), "item": shown}


def blinded_png(path: str | Path) -> bytes:
    """The image's pixels as a fresh PNG: none of the file's metadata chunks."""
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    stream = io.BytesIO()
    Image.fromarray(pixels).save(stream, format="PNG")
    return stream.getvalue()


class RatingHandler(BaseHTTPRequestHandler):
    """Answers the page's requests for the server's :attr:`RatingServer.session`."""

    server: RatingServer

    def do_GET(self) -> None:
        """The page, the next image's state, or an image."""
        if self.path == "/":
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", PAGE)
        elif self.path == "/api/next":
            self._json(HTTPStatus.OK, session_state(self.server.session))
        elif self.path.startswith("/image/"):
            self._image(self.path.removeprefix("/image/"))
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:
        """Record one image's answers; reply with the next image's state."""
        if self.path != "/api/answer":
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
            if not 0 < length <= MAX_BODY:
                raise ValueError(f"an answer of {length} bytes")
            body = json.loads(self.rfile.read(length))
            written = self.server.session.record(body["item"], body["answers"])
        except KeyError as error:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such image or field: {error}"})
            return
        except (ValueError, TypeError, AttributeError) as error:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(error)})
            return
        if written is not None:
            logger.info("a group is fully rated: %s", written)
        self._json(HTTPStatus.OK, session_state(self.server.session))

    def _image(self, item: str) -> None:
        try:
            path = self.server.session.item(item).image
        except KeyError:
            self._json(HTTPStatus.NOT_FOUND, {"error": "no such image"})
            return
        self._send(HTTPStatus.OK, "image/png", blinded_png(path))

    def _json(self, status: HTTPStatus, content: dict) -> None:
        self._send(status, "application/json", json.dumps(content).encode())

    def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        """Requests go to the debug log, not to stderr."""
        logger.debug(format, *args)


class RatingServer(HTTPServer):
    """One thread, one request at a time: answers are recorded in the order they come."""

    def __init__(self, session: RatingSession, host: str = "127.0.0.1", port: int = 0) -> None:
        try:
            super().__init__((host, port), RatingHandler)
        except OSError as error:
            message = f"cannot serve on {host}:{port}: {error.strerror}; choose another port (0: any free one)"
            raise ValueError(message) from error
        self.session = session

    @property
    def url(self) -> str:
        """The page's address."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


@contextlib.contextmanager
def rater_lock(folder: str | Path) -> Iterator[None]:
    """Hold the rater's folder for one server at a time (an exclusive lock on ``.lock`` in it).

    Raises
    ------
    ValueError
        Naming the lock file if another process holds it.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / ".lock"
    with open(lock, "w") as stream:
        try:
            fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise ValueError(f"{lock}: another `necomimi rate` serves this rater; stop it first") from error
        yield
