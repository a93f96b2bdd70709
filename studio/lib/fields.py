"""Field-level encryption for provider credentials.

Keys come from settings.FIELD_ENCRYPTION_KEYS, newest first, and are deliberately separate from
SECRET_KEY: django-q2 signs task payloads with SECRET_KEY, so rotating one must not break the other.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.strip().encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


class EncryptedTextField(models.TextField):
    """Stores text as a Fernet token; reads it back in clear. Empty stays empty."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return ""
        return fernet().encrypt(value.encode()).decode()

    def from_db_value(self, value, expression, connection):
        if not value:
            return ""
        try:
            return fernet().decrypt(value.encode()).decode()
        except InvalidToken:
            # A key was removed from FIELD_ENCRYPTION_KEYS: fail loudly rather than hand an
            # unreadable token to a provider as if it were a key.
            raise ValueError(
                "A stored credential cannot be decrypted with FIELD_ENCRYPTION_KEYS; "
                "restore the key it was written with."
            ) from None
