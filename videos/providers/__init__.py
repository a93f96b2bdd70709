"""Providers, one module per upstream; the service layer finds one only through `get_provider`."""

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
        from django.conf import settings

        from videos.providers.local import LocalRenderer

        return LocalRenderer(min_seconds=settings.LOCAL_RENDER_MIN_SECONDS)
    if account.kind == "minimax":
        from videos.providers.minimax import MiniMaxProvider

        return MiniMaxProvider(account)
    if account.kind == "useapi":
        from videos.providers.useapi import UseapiProvider

        return UseapiProvider(account)
    raise ProviderError(f"No provider for accounts of kind {account.kind!r}.", permanent=True)
