"""/healthz: what a load balancer reads, whatever Host it sends and over plain HTTP."""

import json

import pytest
from botocore.config import Config

from studio.settings import default_storage_from_env

pytestmark = pytest.mark.django_db


def test_healthz_says_ok_with_each_part_and_no_secret(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/json"
    assert answer["Cache-Control"] == "no-store"
    body = json.loads(answer.content)
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "storage"}
    assert all(part["ok"] and part["ms"] >= 0 for part in body["checks"].values())


def test_healthz_answers_a_probe_with_a_bare_ip_host_over_http_without_signing_in(client, settings):
    settings.ALLOWED_HOSTS = ["studio.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    answer = client.get("/healthz", HTTP_HOST="10.0.3.7:8000")
    assert answer.status_code == 200, "no 400 for the Host, no redirect to HTTPS"
    assert client.get("/", HTTP_HOST="10.0.3.7:8000").status_code == 400, "only /healthz"


def test_healthz_answers_head_and_leaves_other_methods_and_paths_to_the_studio(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code in (403, 404, 405)
    assert client.get("/healthz/").status_code == 404


def test_healthz_is_503_naming_the_part_that_is_down_but_not_why(client, settings, caplog):
    # A real S3 client against a port where nothing listens: the storage cannot be reached.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "studio",
                "endpoint_url": "http://127.0.0.1:9",
                "access_key": "AKIDSECRETSECRET",
                "secret_key": "do-not-show-this",
                "region_name": "us-east-1",
                "client_config": Config(retries={"max_attempts": 1}, connect_timeout=1),
            },
        },
    }
    answer = client.get("/healthz")
    assert answer.status_code == 503
    body = json.loads(answer.content)
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] and not body["checks"]["storage"]["ok"]
    assert b"127.0.0.1" not in answer.content and b"secret" not in answer.content.lower()
    assert "Health check: storage is not reachable" in caplog.text


def test_healthz_reaches_the_s3_bucket_when_storage_is_s3(client, s3):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert json.loads(answer.content)["checks"]["storage"]["ok"] is True
    s3.client.delete_bucket(Bucket=s3.bucket)
    assert client.get("/healthz").status_code == 503, "a bucket that is gone is an outage"


def test_healthz_on_local_disk_wants_a_media_root_it_can_write(client, settings, tmp_path):
    def media_root(path) -> None:
        settings.STORAGES = {**settings.STORAGES, "default": default_storage_from_env(path)}

    media_root(tmp_path / "not-made-yet" / "media")
    assert client.get("/healthz").status_code == 200, "a fresh install makes it at first upload"
    a_file = tmp_path / "media-is-a-file"
    a_file.write_text("not a folder")
    media_root(a_file)
    assert client.get("/healthz").status_code == 503
