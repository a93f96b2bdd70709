"""Providers, one module per upstream; the service layer finds one only through `get_provider`."""

from videos.providers.base import Job, ProgressFn, Provider, ProviderError, Result

__all__ = ["Job", "ProgressFn", "Provider", "ProviderError", "Result", "get_provider"]


def get_provider(kind: str) -> Provider:
    if kind == "local":
        from django.conf import settings

        from videos.providers.local import LocalRenderer

        return LocalRenderer(min_seconds=settings.LOCAL_RENDER_MIN_SECONDS)
    raise ProviderError(f"No provider for accounts of kind {kind!r} yet.", permanent=True)
