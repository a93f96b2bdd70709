"""The Content-Security-Policy: what it allows, and templates that need nothing more.

tests/test_browser_csp.py visits every page in Chromium under it."""

import json
import os
import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from tests.conftest import ROOT, client_for


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in parts}


def test_every_page_is_served_with_the_enforced_policy(cast):
    response = client_for(cast.bob).get("/")
    assert "Content-Security-Policy-Report-Only" not in response.headers
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "blob:"]
    assert policy["media-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


# What the policy forbids, found in the markup before any browser runs it: inline scripts,
# handlers (onclick=...), style attributes, javascript: URLs, and htmx features that eval.
FORBIDDEN = {
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I),
    "inline handler": re.compile(r"(?<![\w-])on[a-z]+\s*=", re.I),
    "style attribute": re.compile(r"(?<![\w-])style\s*=", re.I),
    "style element": re.compile(r"<style[\s>]", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "hx-on (eval)": re.compile(r"\shx-on", re.I),
    "hx-trigger filter (eval)": re.compile(r"hx-trigger=\"[^\"]*\[", re.I),
    "js: in hx-vals (eval)": re.compile(r"hx-(vals|vars)='?\"?js:", re.I),
}


def test_no_template_has_inline_code_or_styles():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {what}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        for what, pattern in FORBIDDEN.items()
        if pattern.search(line)
    ]
    assert found == []


STORAGE_URL = """
import json
from django.conf import settings
from django.core.files.storage import default_storage
policy = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
print(json.dumps({"url": default_storage.url("videos/7/result.mp4"),
                  "img": policy["img-src"], "media": policy["media-src"]}))
"""


def _allows(sources: list[str], url: str) -> bool:
    """CSP host-source matching, for the scheme://host[:port] and scheme://*.host forms."""
    parts = urlsplit(url)
    for source in sources:
        allowed = urlsplit(source)
        if allowed.scheme != parts.scheme or not allowed.netloc:
            continue
        if allowed.netloc == parts.netloc:
            return True
        if allowed.netloc.startswith("*.") and parts.netloc.endswith(allowed.netloc[1:]):
            return True
    return False


@pytest.mark.parametrize(
    "storage",
    [
        pytest.param({"S3_BUCKET": "studio-media"}, id="AWS"),
        pytest.param({"S3_BUCKET": "studio-media", "S3_REGION": "eu-central-1"}, id="AWS region"),
        pytest.param({"S3_BUCKET": "media.example.com", "S3_REGION": "eu-west-1"}, id="dotted"),
        pytest.param(
            {"S3_BUCKET": "studio", "S3_ENDPOINT_URL": "https://minio.example.com:9000"},
            id="MinIO",
        ),
        pytest.param(
            {"S3_BUCKET": "studio", "S3_ENDPOINT_URL": "https://acc.r2.cloudflarestorage.com"},
            id="R2",
        ),
        pytest.param(
            {
                "S3_BUCKET": "studio-media",
                "S3_ENDPOINT_URL": "https://s3.eu-central-1.amazonaws.com",
                "S3_REGION": "eu-central-1",
            },
            id="AWS endpoint (.env.example)",
        ),
    ],
)
def test_the_policy_allows_the_signed_links_the_storage_makes(storage):
    """The gallery's posters and videos redirect to signed storage links; the browser checks
    the redirect against img-src and media-src. Signing is local: no request leaves."""
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", STORAGE_URL],
        cwd=ROOT,
        env={
            **os.environ,
            "S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
            "S3_SECRET_ACCESS_KEY": "x",
            **storage,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert "X-Amz-Signature=" in answer["url"] or "Signature=" in answer["url"]
    assert _allows(answer["img"], answer["url"]), (answer["url"], answer["img"])
    assert _allows(answer["media"], answer["url"]), (answer["url"], answer["media"])
    # Only that storage: another bucket stays out.
    assert not _allows(answer["media"], "https://attacker-bucket.s3.amazonaws.com/x.mp4")
