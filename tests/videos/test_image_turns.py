"""Uploads take turns at the decoder: one process decodes one image at a time, one more upload
may wait for it, and the rest are refused at once as busy, so that uploads can never hold every
request thread (bench/uploads.py measures why).

An upload is held inside the decoder by a JPEG stream that stops at its pixel data until the
test lets it go; the header before it reads freely, as the checks before decoding need it to.
"""

import io
import queue
import threading

import pytest
import requests
from PIL import Image

from studio.api import services as api_services
from tests.factories import PASSWORD
from videos import images
from videos.images import BUSY, BUSY_RETRY_SECONDS, CleanImage, ImageBusy, clean_image
from videos.models import PromptImage, Video


def _jpeg() -> bytes:
    # Noise, so the pixel data is long enough for the decoder to read it in more than one go.
    buffer = io.BytesIO()
    Image.effect_noise((640, 480), 60).convert("RGB").save(buffer, "JPEG")
    return buffer.getvalue()


def _bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (7680, 5200)).save(buffer, "PNG")
    return buffer.getvalue()


class _Held(io.BytesIO):
    """A JPEG whose pixel data is not read until `release` is set; `reached` says the decoder
    got there. Reading the header (everything before the start-of-scan marker) never waits."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.pixels_at = data.index(b"\xff\xda") + 64
        self.reached, self.release = threading.Event(), threading.Event()

    def read(self, size: int | None = -1) -> bytes:
        wanted = size if size is not None and size >= 0 else len(self.getbuffer())
        if self.tell() + wanted > self.pixels_at and not self.release.is_set():
            self.reached.set()
            assert self.release.wait(timeout=30), "the test never let the upload go"
        return super().read(size)


class _Upload(threading.Thread):
    """clean_image in a thread of its own, as a request thread would run it."""

    def __init__(self, stream: io.BytesIO, answers: queue.Queue) -> None:
        super().__init__(daemon=True)
        self.stream, self.answers = stream, answers

    def run(self) -> None:
        try:
            self.answers.put(clean_image(self.stream, name="frame.jpg"))
        except images.ImageRejected as exc:
            self.answers.put(exc)


@pytest.fixture
def held():
    """An upload decoding and held there, so this process's one turn is taken."""
    upload = _Held(_jpeg())
    answers: queue.Queue = queue.Queue()
    thread = _Upload(upload, answers)
    thread.start()
    assert upload.reached.wait(timeout=10)
    yield upload, answers
    upload.release.set()
    thread.join(timeout=30)


def test_a_third_upload_at_once_is_refused_as_busy_and_the_other_two_are_kept(held) -> None:
    first, answers = held
    # One of these two waits for the turn; the other finds no room to wait and is refused, while
    # the first is still held, so it is the first answer of all.
    data = _jpeg()
    for _ in range(2):
        _Upload(io.BytesIO(data), answers).start()
    refused = answers.get(timeout=10)
    assert isinstance(refused, ImageBusy)
    assert str(refused) == (
        "The studio is busy with other images right now; send this one again in 5 seconds."
    )
    first.release.set()
    kept = [answers.get(timeout=30), answers.get(timeout=30)]
    assert all(isinstance(image, CleanImage) for image in kept), kept
    # Its turn has come back: the refused upload is taken when sent again.
    assert clean_image(io.BytesIO(data), name="frame.jpg").format == "JPEG"


def test_refusals_from_the_header_do_not_wait_for_a_turn(held) -> None:
    # With the only turn taken, an oversized image is still refused for its size at once.
    with pytest.raises(images.ImageRejected, match=r"7680 x 5200 px, 39\.9 MP"):
        clean_image(io.BytesIO(_bomb()), name="bomb.png")


def test_a_damaged_upload_gives_its_turn_back() -> None:
    data = _jpeg()
    for _ in range(3):  # more than the process has turns
        with pytest.raises(images.ImageRejected, match="damaged or cut short"):
            clean_image(io.BytesIO(data[: len(data) // 2]), name="frame.jpg")
    assert clean_image(io.BytesIO(data), name="frame.jpg").format == "JPEG"


# Over HTTP: the API's POST files/ and the composer's form, while the turns are taken.


@pytest.fixture
def busy(held):
    """Both of this process's places taken: one upload decoding, one waiting for it."""
    first, answers = held
    # As above: of two more, one takes the place to wait and the other is refused.
    uploads = [_Upload(io.BytesIO(_jpeg()), answers) for _ in range(2)]
    for upload in uploads:
        upload.start()
    assert isinstance(answers.get(timeout=10), ImageBusy)
    yield
    first.release.set()
    for upload in uploads:
        upload.join(timeout=30)


@pytest.fixture
def token(cast, transactional_db):

    return api_services.api_token_create(user=cast.bob, team=cast.acme, name="turns")[1]


def test_the_api_answers_503_with_retry_after_while_busy(live_server, token, busy) -> None:
    response = requests.post(
        f"{live_server.url}/v1/minimax/files/",
        data=_jpeg(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg"},
        timeout=30,
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(BUSY_RETRY_SECONDS)
    assert response.json() == {"error": BUSY, "code": 503}
    assert not PromptImage.objects.exists()


def test_the_form_shows_busy_under_the_image_while_busy(cast, live_server, busy) -> None:
    session = requests.Session()
    session.get(f"{live_server.url}/login/", timeout=30)
    signed_in = session.post(
        f"{live_server.url}/login/",
        data={
            "username": "bob",
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=30,
    )
    assert signed_in.url == f"{live_server.url}/"
    response = session.post(
        f"{live_server.url}/videos/new",
        data={"prompt": "A lighthouse at dusk"},
        files={"image": ("frame.jpg", _jpeg(), "image/jpeg")},
        headers={"X-CSRFToken": session.cookies["csrftoken"]},
        timeout=30,
    )
    assert 'id="id_image_error"' in response.text and "send this one again in 5 seconds" in (
        response.text
    )
    assert not Video.objects.exists() and not PromptImage.objects.exists()
