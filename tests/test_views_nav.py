"""The header marks the page its view names (`nav` in the context), whatever the path."""

import re

import pytest
from django.urls import reverse

from tests.conftest import client_for

CURRENT = re.compile(r'<a [^>]*aria-current="page"[^>]*>(.*?)</a>', re.S)


def _current(response) -> list[str]:
    return [
        " ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in CURRENT.findall(response.text)
    ]


@pytest.mark.parametrize(
    ("name", "item"),
    [
        ("gallery", "Gallery"),
        ("team", "Team"),
        ("accounts", "Accounts"),
        ("account_new", "Accounts"),
        ("webhooks", "Webhooks"),  # under /team/, yet not the team page
        ("api_tokens", "API"),
        ("profile", "A alice"),
    ],
)
def test_the_view_names_the_current_nav_item(cast, name, item):
    response = client_for(cast.alice).get(reverse(name))
    assert _current(response) == [item]


def test_leaving_a_team_is_part_of_the_profile(cast):
    response = client_for(cast.bob).get(reverse("team_leave", args=[cast.acme.pk]))
    assert _current(response) == ["B bob"]


def test_a_page_that_names_no_item_marks_none(cast):
    response = client_for(cast.alice).get(reverse("password_change"))
    assert _current(response) == []
