"""videos.selectors: reads shared by the web UI and the API."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_video
from videos import selectors
from videos.models import Video

pytestmark = pytest.mark.django_db
S = Video.Status


def test_active_counts_counts_every_unfinished_status_and_the_authors_share_in_one_query(cast):
    for status, author in (
        (S.QUEUED, cast.bob),
        (S.QUEUED, cast.alice),
        (S.SUBMITTING, cast.bob),
        (S.PENDING, cast.alice),
        (S.PROCESSING, cast.bob),
        (S.COMPLETED, cast.bob),  # ended: not counted
        (S.FAILED, cast.alice),
    ):
        make_video(cast.acme, author, status=status)
    make_video(cast.other, cast.charlie, status=S.QUEUED)  # another team's
    with CaptureQueriesContext(connection) as queries:
        counted = selectors.active_counts(team_id=cast.acme.pk, author_id=cast.bob.pk)
    assert counted == (5, 3)
    assert len(queries) == 1
    assert selectors.active_counts(team_id=cast.acme.pk, author_id=cast.charlie.pk) == (5, 0)
    assert selectors.active_counts(team_id=cast.other.pk, author_id=cast.charlie.pk) == (1, 1)
