"""Creates racing each other over real HTTP, from threads released together by a barrier: the
limits hold however the requests interleave (on PostgreSQL, row locks; on SQLite, IMMEDIATE
transactions). Each thread is its own connection to a live server, as separate scripts are."""

import threading

import pytest
import requests

from studio.api import services as api_services
from videos.models import ProviderAccount, Video

THREADS = 8


def race(url: str, token: str, bodies: list[dict]) -> list[int]:
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = []

    def create(body: dict) -> None:
        barrier.wait()
        response = requests.post(
            f"{url}/v1/minimax/videos/create",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=create, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


@pytest.fixture
def token(cast, transactional_db, conf):
    conf.API_WRITE_RATE_LIMIT = 1000
    return api_services.api_token_create(user=cast.bob, team=cast.acme, name="race")[1]


def test_racing_strict_creates_never_take_more_than_the_free_slots(cast, live_server, token):
    cast.acme.api_strict = True
    cast.acme.save()
    ProviderAccount.objects.filter(team=cast.acme).update(max_jobs=2)
    bodies = [{"prompt": f"Racer {i}"} for i in range(THREADS)]
    assert race(live_server.url, token, bodies) == [200] * 2 + [429] * (THREADS - 2)
    assert Video.objects.filter(status=Video.Status.SUBMITTING).count() == 2
    assert Video.objects.count() == 2, "the refused creates left nothing behind"


def test_racing_creates_never_pass_the_queue_limit(cast, live_server, token, conf):
    conf.API_USER_QUEUE_LIMIT = 3
    bodies = [{"prompt": f"Racer {i}"} for i in range(THREADS)]
    assert race(live_server.url, token, bodies) == [200] * 3 + [429] * (THREADS - 3)
    assert Video.objects.count() == 3


def test_racing_requests_never_pass_the_rate_limit(cast, live_server, token, conf):
    conf.API_WRITE_RATE_LIMIT = 5
    conf.API_RATE_WINDOW_SECONDS = 3600  # no window ends during the race
    conf.API_USER_QUEUE_LIMIT = 100
    bodies = [{"prompt": f"Racer {i}"} for i in range(THREADS)]
    statuses = race(live_server.url, token, bodies)
    assert statuses.count(200) <= 5 and statuses.count(429) >= THREADS - 5
