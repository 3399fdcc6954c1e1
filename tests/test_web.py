"""The web service through FastAPI's test client: the API answers as train.evaluate and run.py do, bad uploads
get a 4xx with a clear message, live sessions are bounded, and a live frame comes back with its hand."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx2")
from fastapi.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from model import AI_CHECKPOINT  # noqa: E402
from model.classifier import LetterClassifier  # noqa: E402
from realtime.smoothing import LIVE_NO_LETTER_OFFSET  # noqa: E402
from web.app import Limits, create_app  # noqa: E402

pytestmark = pytest.mark.mediapipe


@pytest.fixture(scope="module")
def classifier():
    return LetterClassifier(AI_CHECKPOINT, "cpu", LIVE_NO_LETTER_OFFSET)


@pytest.fixture(scope="module")
def client(classifier):
    app = create_app(classifier, Limits(upload_mb=2, sessions=2, video_s=10))
    with TestClient(app) as c:
        yield c
    app.state.close()


def jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image)[1].tobytes()


def test_health_and_the_page_and_the_docs(client):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["classes"][-1] == "none" and health["letters"] == "ABCDEFGHIJZ"
    page = client.get("/")
    assert page.status_code == 200 and "<video" in page.text and 'src="app.js"' in page.text
    assert "http" not in page.text.split("<body>")[0].replace('href="data:,"', "")  # nothing from a CDN
    assert client.get("/app.js").status_code == 200 and client.get("/docs").status_code == 200
    assert "/api/predict" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(
    "name, data, status, message",
    [
        ("notes.txt", b"not an image at all", 415, "not an image"),
        ("empty.jpg", b"", 415, "not an image"),
        ("big.jpg", b"\xff" * 2_500_000, 413, "too large"),
    ],
)
def test_a_bad_upload_gets_a_4xx_and_a_clear_message(client, name, data, status, message):
    r = client.post("/api/predict", files={"image": (name, data)})
    assert r.status_code == status and message in r.json()["error"]


def test_a_request_without_the_image_field_is_a_422(client):
    assert client.post("/api/predict", files={"photo": ("a.jpg", b"x")}).status_code == 422


def test_a_photo_without_a_hand_has_no_letter(client):
    r = client.post(
        "/api/predict",
        files={"image": ("grey.png", cv2.imencode(".png", np.full((240, 320, 3), 128, np.uint8))[1].tobytes())},
    )
    assert r.status_code == 200 and r.json() == {"letter": None, "confidence": None, "probs": {}, "hand": False}


@pytest.mark.parametrize("name", ["clip.mp4", "../../etc/x.mp4\u0000", "no-suffix"])
def test_a_video_that_is_not_one_gets_a_415(client, name):
    r = client.post("/api/replay", files={"video": (name, b"\x00\x00\x00\x18ftypmp42" + b"junk" * 100)})
    assert r.status_code == 415 and "not a video" in r.json()["error"]


@pytest.mark.data
def test_photos_come_back_as_the_evaluation_reads_them(client, classifier, aps360):
    """Photos of a few signers: the API's answer equals the evaluation path's (photo hand finder, the
    checkpoint's operating point) for every one."""
    from train.features import read_image
    from train.photos import PhotoHandFinder

    photos = [sorted((aps360 / letter).glob("*.jpg"))[k] for letter in "ABCDEFGHI" for k in (0, 7)]
    with PhotoHandFinder() as finder:
        for path in photos:
            image = read_image(path)
            hand = finder.find(image)
            expected = classifier.predict([classifier.prepare(image, hand.landmarks)], classifier.photo_offset)[0]
            got = client.post("/api/predict", files={"image": (path.name, path.read_bytes())}).json()
            assert got["hand"] and got["letter"] == expected.letter, path.name
            assert got["confidence"] == pytest.approx(expected.confidence, abs=1e-3)


@pytest.mark.data
def test_a_replayed_video_commits_its_letter(client, signademy):
    clip = signademy / "B" / "signademy_B.mp4"
    r = client.post("/api/replay", files={"video": (clip.name, clip.read_bytes())})
    body = r.json()
    assert r.status_code == 200, body
    assert [c["letter"] for c in body["commits"]] == ["B"] and body["text"] == "B" and body["frames"] == 132
    assert list(body["commits"][0]["top"])[0] == "B"  # what the model thought over the hold, best first


@pytest.mark.data
def test_a_live_frame_comes_back_with_its_hand_and_the_sessions_are_bounded(client, signademy):
    cap = cv2.VideoCapture(str(signademy / "B" / "signademy_B.mp4"))
    frames = [cap.read()[1] for _ in range(70)][60:]  # the hold
    cap.release()
    with client.websocket_connect("/ws") as first, client.websocket_connect("/ws") as second:
        with client.websocket_connect("/ws") as third:
            answer = third.receive_json()
            assert answer["error"] == "busy"
            with pytest.raises(WebSocketDisconnect) as closed:
                third.receive_json()
            assert closed.value.code == 1013
        answers = []
        for image in frames:
            first.send_bytes(jpeg(cv2.resize(image, (540, 960))))
            answers.append(first.receive_json())
        hand = answers[-1]["hand"]
        assert hand is not None and len(hand["landmarks"]) == 21 and hand["guess"] == "B"
        assert all(0 <= v <= 1 for point in hand["landmarks"] for v in point)
        second.send_bytes(b"not a jpeg")
        assert "not a JPEG" in second.receive_json()["error"]
        first.send_text(json.dumps({"action": "clear"}))
        first.send_bytes(jpeg(cv2.resize(frames[-1], (540, 960))))
        assert first.receive_json()["text"] == ""
    assert client.get("/health").json()["sessions"] == 0


def test_frames_sent_faster_than_the_server_answers_are_dropped_not_queued(client):
    """Ten frames at once: every one is answered or counted as dropped, the newest is always answered, and the
    dropped ones are never processed later."""
    frame = jpeg(np.full((120, 160, 3), 90, np.uint8))
    with client.websocket_connect("/ws") as ws:
        for _ in range(10):
            ws.send_bytes(frame)
        answers = [ws.receive_json()]
        while answers[-1]["frame"] + 1 + answers[-1]["dropped"] < 10:
            answers.append(ws.receive_json())
    last = answers[-1]
    assert last["dropped"] > 0 and len(answers) == last["frame"] + 1 < 10
