"""useapi.net's own examples (seeds/000), word for word but for the base URL and the token, run
as scripts against a live studio with a real worker: the video completes, GET reports status 2,
and videoURL downloads a playable MP4. Then a replyUrl receiver gets exactly one signed callback.
"""

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from studio.api import services as api_services
from studio.webhooks import services as webhook_services
from studio.webhooks import signing as webhook_signing
from tests.receiver import Receiver
from videos import media
from videos.models import Video

pytestmark = pytest.mark.slow

SEED_CURL = """curl -H "Accept: application/json" \\
     -H "Content-Type: application/json" \\
     -H "Authorization: Bearer …" \\
     -X POST "https://api.useapi.net/v1/minimax/videos/create" \\
     -d '{"prompt": "…"}'"""

SEED_PYTHON = """import requests
prompt = "text prompt"      
apiUrl = f"https://api.useapi.net/v1/minimax/videos/create" 
token = "API token"
headers = {
    "Content-Type": "application/json", 
    "Authorization" : f"Bearer {token}"
}
body = {
    "prompt": f"{prompt}"
}
response = requests.post(apiUrl, headers=headers, json=body)
print(response, response.json())
"""  # noqa: W291 (the seed's own trailing spaces)

SEED_JS = """const prompt = "text prompt";      
const apiUrl = `https://api.useapi.net/v1/minimax/videos/create`; 
const token = "API token";
const data = { 
  method: 'POST',
  headers: {
    'Authorization': `Bearer ${token}`,
    'Content-Type': 'application/json' }
};
data.body = JSON.stringify({ 
  prompt
});
const response = await fetch(apiUrl, data);
const result = await response.json();
console.log("response", {response, result});
"""  # noqa: W291


@pytest.fixture
def studio(cast, live_server, worker_factory, conf):
    # The test's receiver listens on loopback, which callbacks may reach only when allowed.
    conf.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    worker_factory(OUTBOUND_ALLOWED_NETWORKS="127.0.0.0/8")
    _, token = api_services.api_token_create(user=cast.bob, team=cast.acme, name="seed")
    return live_server.url, token


def _video_id(output: str) -> str:
    """The videoId in what the example printed (Python's or Node's rendering of the answer)."""
    (video_id,) = set(re.findall(r"user:\d+-minimax:[\w.]+-video:\d+", output))
    return video_id


def _wait_until_final(base: str, token: str, video_id: str) -> dict:
    """What a useapi.net client does: poll GET videos/{videoId} until statusFinal."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        answer = requests.get(
            f"{base}/v1/minimax/videos/{video_id}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        if answer["statusFinal"]:
            return answer
        time.sleep(0.5)
    raise AssertionError(f"{video_id} did not finish: {answer}")


def _check_playable(url: str, tmp_path: Path) -> None:
    path = tmp_path / "downloaded.mp4"
    with requests.get(url, stream=True, timeout=30) as response:  # no token: a signed link
        assert response.status_code == 200 and response.headers["Content-Type"] == "video/mp4"
        path.write_bytes(response.content)
    info = media.probe(path, poster=tmp_path / "poster.jpg")
    assert info.width > 0 and info.height > 0 and info.duration > 1


def test_the_seeds_curl_example_makes_a_video_that_completes(studio, tmp_path):
    base, token = studio
    command = SEED_CURL.replace("https://api.useapi.net", base).replace(
        "Bearer …", f"Bearer {token}"
    )
    output = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    answer = json.loads(output)
    assert answer["code"] == 200
    final = _wait_until_final(base, token, answer["videoId"])
    assert (final["status"], final["statusLabel"]) == (2, "completed")
    assert Video.objects.get().prompt == "…"
    _check_playable(final["videoURL"], tmp_path)


def test_the_seeds_python_example_makes_a_video_that_completes(studio, tmp_path):
    base, token = studio
    script = SEED_PYTHON.replace("https://api.useapi.net", base).replace(
        '"API token"', f'"{token}"'
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert output.startswith("<Response [200]>")
    final = _wait_until_final(base, token, _video_id(output))
    assert final["status"] == 2
    _check_playable(final["downloadURL"], tmp_path)


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js runs the seed's JS example")
def test_the_seeds_javascript_example_makes_a_video(studio, tmp_path):
    base, token = studio
    script = tmp_path / "create.mjs"
    script.write_text(
        SEED_JS.replace("https://api.useapi.net", base).replace('"API token"', f'"{token}"')
    )
    output = subprocess.run(
        ["node", str(script)], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert "status: 200" in output
    assert _wait_until_final(base, token, _video_id(output))["status"] == 2


def test_a_worker_sends_exactly_one_signed_callback_when_the_video_ends(cast, studio):
    base, token = studio
    receiver = Receiver().start()
    try:
        created = requests.post(
            f"{base}/v1/minimax/videos/create",
            headers={"Authorization": f"Bearer {token}"},
            json={"prompt": "Called back", "replyUrl": receiver.url(), "replyRef": "r-1"},
            timeout=10,
        ).json()
        _wait_until_final(base, token, created["videoId"])
        (received,) = receiver.wait_for(1, timeout=90)
        # Every sweep after this one (the loop, the minute's dispatch) finds nothing owed.
        later = requests.post(
            f"{base}/v1/minimax/videos/create",
            headers={"Authorization": f"Bearer {token}"},
            json={"prompt": "A later video, to run another dispatch"},
            timeout=10,
        ).json()
        _wait_until_final(base, token, later["videoId"])
    finally:
        receiver.stop()
    assert len(receiver.received) == 1
    body = received.json()
    assert (body["videoId"], body["replyRef"], body["status"]) == (created["videoId"], "r-1", 2)
    secret = webhook_services.team_webhook_secret(team=cast.acme)
    assert webhook_signing.verify(secret, headers=received.headers, body=received.body)
