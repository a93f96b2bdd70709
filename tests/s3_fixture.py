"""A real S3 server on loopback (moto's, over HTTP) and the studio configured for it through
its own S3_* settings (studio.settings.default_storage_from_env): each test gets a bucket of
its own; processes a test starts (workers, a second host) inherit the S3_* environment."""

import logging
from collections.abc import Iterator
from types import SimpleNamespace
from uuid import uuid4

import boto3
import pytest
from moto.server import ThreadedMotoServer

from studio import settings as studio_settings

KEYS = {"S3_ACCESS_KEY_ID": "studio-test", "S3_SECRET_ACCESS_KEY": "studio-test-secret"}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    # Its request log would fill every failing test's output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_server, settings, monkeypatch) -> SimpleNamespace:
    bucket = f"studio-{uuid4().hex[:12]}"
    env = {
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": s3_server,
        "S3_REGION": "us-east-1",
        "S3_PREFIX": "studio",
        **KEYS,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id=KEYS["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=KEYS["S3_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=bucket)

    def use_settings() -> None:
        """(Re)builds the default storage from the S3_* environment, as the settings do."""
        settings.STORAGES = {
            **settings.STORAGES,
            "default": studio_settings.default_storage_from_env(settings.MEDIA_ROOT),
        }

    def keys() -> list[str]:
        listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
        return sorted(item["Key"] for item in listed)

    use_settings()
    return SimpleNamespace(
        url=s3_server,
        bucket=bucket,
        client=client,
        env=env,
        objects=keys,
        use_settings=use_settings,
    )
