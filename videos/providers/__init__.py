"""Providers, one module per upstream; the service layer finds one only through `get_provider`.

The provider modules import `base`, `http` and `catalog`, never this package's __init__, so
importing them here at the top makes no cycle."""

from studio import conf
from videos.providers.base import (
    AccountConfig,
    AccountPaused,
    AccountRejected,
    InDoubt,
    Job,
    LocalProvider,
    Progress,
    ProgressFn,
    ProviderError,
    RateLimited,
    RemoteProvider,
    Result,
)
from videos.providers.local import LocalRenderer
from videos.providers.minimax import MiniMaxProvider
from videos.providers.useapi import UseapiProvider

__all__ = [
    "AccountConfig",
    "AccountPaused",
    "AccountRejected",
    "InDoubt",
    "Job",
    "LocalProvider",
    "Progress",
    "ProgressFn",
    "ProviderError",
    "RateLimited",
    "RemoteProvider",
    "Result",
    "get_provider",
]


def get_provider(account: AccountConfig) -> LocalProvider | RemoteProvider:
    if account.kind == "local":
        return LocalRenderer(min_seconds=conf.LOCAL_RENDER_MIN_SECONDS)
    if account.kind == "minimax":
        return MiniMaxProvider(account)
    if account.kind == "useapi":
        return UseapiProvider(account)
    raise ProviderError(f"No provider for accounts of kind {account.kind!r}.", permanent=True)
