"""The OpenAPI 3 document for /v1/ (written in full by the next commit)."""


def openapi_document(*, base: str) -> dict:
    return {"openapi": "3.0.3", "info": {"title": "Studio", "version": "1"}, "paths": {}}
