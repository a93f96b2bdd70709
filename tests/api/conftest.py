"""The API tests' cast: bob (member) and alice (admin) as API clients with their own tokens in
Acme, and Acme's local renderer account."""

import pytest

from tests.api.test_api import api_for
from videos.models import ProviderAccount


@pytest.fixture
def bob(cast):
    return api_for(cast.bob, cast.acme)


@pytest.fixture
def alice(cast):
    return api_for(cast.alice, cast.acme)


@pytest.fixture
def local(cast) -> ProviderAccount:
    return ProviderAccount.objects.get(team=cast.acme, kind=ProviderAccount.Kind.LOCAL)
