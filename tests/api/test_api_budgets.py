"""A token's two rate budgets: reads (every GET) and writes (everything else), each counted in
its own fixed window, so a batch script polling its videos never runs out of creates. The
defaults are sized for a batch of 200 prompts with images; every 429 says which budget or limit
refused it and when to come back, in JSON with Retry-After."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from studio.api import services as api_services
from studio.api.models import ApiToken
from tests.api.test_api import error_of
from tests.factories import image_bytes
from videos.models import ProviderAccount

# The batch the defaults are sized for (studio/conf.py): one token, 200 prompts with images, a
# team of 4 accounts.
PROMPTS = 200
ACCOUNTS = 4
# How often a script polls each of its videos. useapi.net's own scripts wait 30 s; this allows
# a script six times as eager.
POLL_SECONDS = 5


def retry_after_of(response) -> int:
    """The 429's Retry-After, checked against the wait its message names."""
    seconds = int(response["Retry-After"])
    assert f"Try again in {seconds} s." in response.json()["error"]
    return seconds


def test_reads_do_not_spend_the_write_budget(cast, bob, conf):
    conf.API_WRITE_RATE_LIMIT, conf.API_READ_RATE_LIMIT = 2, 50
    for path in ["videos/", "scheduler/", "scheduler/available", "files/"] * 10:
        assert bob.get(path).status_code == 200, path
    assert bob.post("files/", image_bytes(), content_type="image/png").status_code == 200
    assert bob.create(prompt="A kite over dunes").status_code == 200
    refused = bob.create(prompt="One too many")
    message = error_of(refused, 429)
    assert message.startswith("Too many writes") and "2 writes every 60 s" in message
    assert 1 <= retry_after_of(refused) <= 61
    assert bob.get("videos/").status_code == 200, "reads still go"


def test_writes_do_not_spend_the_read_budget(cast, bob, conf):
    conf.API_WRITE_RATE_LIMIT, conf.API_READ_RATE_LIMIT = 50, 2
    for i in range(10):
        assert bob.create(prompt=f"Lighthouse {i}").status_code == 200
    assert bob.get("videos/").status_code == 200
    assert bob.get("scheduler/available").status_code == 200
    refused = bob.get("videos/")
    message = error_of(refused, 429)
    assert message.startswith("Too many reads") and "2 reads every 60 s" in message
    assert "writes have a budget of their own" in message
    retry_after_of(refused)
    assert bob.create(prompt="Still fine").status_code == 200, "writes still go"


def test_each_budget_opens_again_in_the_next_window(cast, bob, conf):
    conf.API_READ_RATE_LIMIT = 1
    assert bob.get("videos/").status_code == 200
    assert bob.get("videos/").status_code == 429
    ApiToken.objects.update(read_window=0)  # as if the window had ended
    assert bob.get("videos/").status_code == 200


def test_the_default_budgets_fit_a_batch_of_200_prompts_with_images(conf):
    window = conf.API_RATE_WINDOW_SECONDS
    # In queue mode the whole batch goes in at once: every upload and every create in one
    # window, plus a create refused (429) and sent again each Retry-After while the queue is full.
    writes = PROMPTS * 2 + window // 10
    # One GET scheduler/available per prompt, each video polled all window long, and, while all
    # the accounts are busy, one GET scheduler/available a second per account to catch a slot.
    reads = PROMPTS + PROMPTS * (window // POLL_SECONDS) + ACCOUNTS * window
    assert writes <= conf.API_WRITE_RATE_LIMIT, (writes, conf.API_WRITE_RATE_LIMIT)
    assert reads <= conf.API_READ_RATE_LIMIT, (reads, conf.API_READ_RATE_LIMIT)


def test_a_burst_of_400_writes_and_2000_reads_under_the_defaults_is_never_refused(cast):
    """The budgets' own counting, at the batch's full size (the requests themselves are tested
    above with small budgets: counting is the same whatever the numbers)."""
    token, _ = api_services.api_token_create(user=cast.bob, team=cast.acme, name="batch")
    refused = []
    for prompt in range(PROMPTS):
        # upload, scheduler/available, create, then ten polls of the videos so far
        for read in (False, True, False, *[True] * 9):
            check = api_services.api_token_use(token=token, read=read)
            if not check.allowed:
                refused.append((prompt, check.budget))
    assert refused == []
    token.refresh_from_db()
    # Unless a window ended during the burst, the counts are the burst's.
    assert token.rate_count in range(1, 2 * PROMPTS + 1)
    assert token.read_count in range(1, 10 * PROMPTS + 1)


def test_every_429_is_json_with_retry_after_and_says_when_to_retry(cast, bob, conf):
    # The writes budget.
    conf.API_WRITE_RATE_LIMIT = 0
    response = bob.create(prompt="x")
    assert "writes" in error_of(response, 429) and retry_after_of(response) >= 1
    # The reads budget.
    conf.API_READ_RATE_LIMIT = 0
    response = bob.get("videos/")
    assert "reads" in error_of(response, 429) and retry_after_of(response) >= 1
    conf.API_WRITE_RATE_LIMIT = conf.API_READ_RATE_LIMIT = 1000
    # Queue mode, past the author's queue limit.
    conf.API_USER_QUEUE_LIMIT = 1
    assert bob.create(prompt="First").status_code == 200
    response = bob.create(prompt="Second")
    assert response.status_code == 429 and "your limit" in response.json()["error"]
    assert response.json()["code"] == 429 and retry_after_of(response) == 10
    # Strict mode, every slot busy.
    conf.API_USER_QUEUE_LIMIT = 50
    cast.acme.api_strict = True
    cast.acme.save(update_fields=["api_strict"])
    ProviderAccount.objects.filter(team=cast.acme).update(max_jobs=1)
    assert bob.create(prompt="Takes the slot").status_code == 200
    response = bob.create(prompt="Finds it busy")
    assert response.status_code == 429 and response.json()["runningVideos"]
    assert re.match(r"Every account of Acme is busy", response.json()["error"])
    assert retry_after_of(response) == 10


def test_a_refused_request_is_not_counted_so_the_window_count_stops_at_the_budget(cast, conf):
    conf.API_WRITE_RATE_LIMIT = 3
    token, _ = api_services.api_token_create(user=cast.bob, team=cast.acme, name="eager")
    checks = [api_services.api_token_use(token=token, read=False).allowed for _ in range(6)]
    assert checks == [True, True, True, False, False, False]
    token.refresh_from_db()
    assert token.rate_count == 3


def test_counting_an_allowed_request_is_one_statement(cast, conf):
    token, _ = api_services.api_token_create(user=cast.bob, team=cast.acme, name="script")
    api_services.api_token_use(token=token, read=True)  # opens the window
    with CaptureQueriesContext(connection) as queries:
        assert api_services.api_token_use(token=token, read=True).allowed
    assert len(queries) == 1 and queries[0]["sql"].startswith("UPDATE")
