import base64

from studio.webhooks.signing import headers, new_secret, sign, verify

# The test vector from the Standard Webhooks spec and its reference libraries.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_it_signs_the_spec_test_vector():
    assert sign([SECRET], msg_id=MSG_ID, timestamp=TIMESTAMP, body=BODY) == SIGNATURE


def test_it_builds_the_three_headers():
    assert headers([SECRET], msg_id=MSG_ID, timestamp=TIMESTAMP, body=BODY) == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": SIGNATURE,
    }


def test_a_new_secret_has_32_random_bytes():
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert new_secret() != secret


def test_verify_accepts_the_spec_test_vector():
    sent = headers([SECRET], msg_id=MSG_ID, timestamp=TIMESTAMP, body=BODY)
    assert verify(SECRET, headers=sent, body=BODY, now=TIMESTAMP + 10)


def test_verify_accepts_headers_in_any_case():
    sent = {
        k.title(): v
        for k, v in headers([SECRET], msg_id=MSG_ID, timestamp=TIMESTAMP, body=BODY).items()
    }
    assert verify(SECRET, headers=sent, body=BODY, now=TIMESTAMP)


def test_verify_rejects_a_tampered_body():
    sent = headers([SECRET], msg_id=MSG_ID, timestamp=TIMESTAMP, body=BODY)
    assert not verify(SECRET, headers=sent, body=b'{"test": 2432232315}', now=TIMESTAMP)


def test_verify_rejects_a_changed_id():
    sent = headers([SECRET], msg_id=MSG_ID, timestamp=TIMESTAMP, body=BODY)
    assert not verify(SECRET, headers={**sent, "webhook-id": "msg_other"}, body=BODY, now=TIMESTAMP)


def test_verify_rejects_a_stale_or_future_timestamp():
    sent = headers([SECRET], msg_id=MSG_ID, timestamp=TIMESTAMP, body=BODY)
    assert verify(SECRET, headers=sent, body=BODY, now=TIMESTAMP + 300)
    assert not verify(SECRET, headers=sent, body=BODY, now=TIMESTAMP + 301)
    assert not verify(SECRET, headers=sent, body=BODY, now=TIMESTAMP - 301)


def test_verify_rejects_the_wrong_secret_and_missing_headers():
    sent = headers([SECRET], msg_id=MSG_ID, timestamp=TIMESTAMP, body=BODY)
    assert not verify(new_secret(), headers=sent, body=BODY, now=TIMESTAMP)
    assert not verify(SECRET, headers={}, body=BODY, now=TIMESTAMP)
    assert not verify(
        SECRET, headers={**sent, "webhook-timestamp": "soon"}, body=BODY, now=TIMESTAMP
    )


def test_after_rotation_either_secret_verifies():
    old, new = SECRET, new_secret()
    sent = headers([new, old], msg_id=MSG_ID, timestamp=TIMESTAMP, body=BODY)

    assert sent["webhook-signature"].count(" ") == 1
    assert sent["webhook-signature"].endswith(" " + SIGNATURE)
    assert verify(old, headers=sent, body=BODY, now=TIMESTAMP)
    assert verify(new, headers=sent, body=BODY, now=TIMESTAMP)
    assert not verify(new_secret(), headers=sent, body=BODY, now=TIMESTAMP)
