"""The attack list, /verify side: forged and misused JWT access tokens get
401 invalid_token (SPEC §5, §8.6; RFC 8725, RFC 6750 §3.1); scopes taken
away and revocations take effect at the next /verify (SPEC §8.7, §4)."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import (SCOPES, Browser, Daemon, assert_invalid_token, assert_oauth_error, pkce_pair, poll,
                      query_of)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parts(token):
    h, p, s = token.split(".")
    return json.loads(unb64(h)), json.loads(unb64(p)), s


def assemble(header, payload, signature=""):
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{signature}"


def hs256(header, payload, key):
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    return signing_input + "." + b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


@pytest.fixture
def access_token(daemon, client, obtain):
    token = obtain(client)["access_token"]
    assert daemon.verify(token).status_code == 200  # and now it sits in the verifier's cache
    return token


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused(daemon, access_token, alg):
    header, payload, signature = parts(access_token)
    header["alg"] = alg
    assert_invalid_token(daemon.verify(assemble(header, payload)))
    assert_invalid_token(daemon.verify(assemble(header, payload, signature)))


def test_hs256_signed_with_the_public_key_is_refused(daemon, access_token):
    """Algorithm confusion (RFC 8725 §2.1): the Ed25519 public key used as an HMAC secret."""
    header, payload, _ = parts(access_token)
    jwk = next(k for k in daemon_jwks(daemon) if k["kid"] == header["kid"])
    raw = unb64(jwk["x"])
    pem = serialization.load_der_public_key(
        bytes.fromhex("302a300506032b6570032100") + raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header["alg"] = "HS256"
    for key in (raw, jwk["x"].encode(), pem, json.dumps(jwk).encode()):
        assert_invalid_token(daemon.verify(hs256(header, payload, key)))


def daemon_jwks(daemon):
    return requests.get(daemon.url("/.well-known/jwks.json"), timeout=10).json()["keys"]


TAMPERINGS = {
    "scope": lambda p: {"scope": "notes:read notes:write admin"},
    "sub": lambda p: {"sub": "u_000000000000000000000000"},
    "exp": lambda p: {"exp": p["exp"] + 86400},
    "aud": lambda p: {"aud": "https://other.example"},
}


@pytest.mark.parametrize("change", sorted(TAMPERINGS))
def test_tampered_payload_with_the_original_signature_is_refused(daemon, access_token, change):
    header_segment, _, signature = access_token.split(".")
    _, payload, _ = parts(access_token)
    payload.update(TAMPERINGS[change](payload))
    forged = f"{header_segment}.{b64(json.dumps(payload, separators=(',', ':')).encode())}.{signature}"
    assert_invalid_token(daemon.verify(forged))


def test_unknown_kid_and_foreign_keys_are_refused(daemon, access_token):
    header, payload, _ = parts(access_token)
    foreign = Ed25519PrivateKey.generate()
    forged_unknown_kid = jwt.encode(payload, foreign, algorithm="EdDSA",
                                    headers={"kid": "no-such-kid", "typ": "at+jwt"})
    assert_invalid_token(daemon.verify(forged_unknown_kid))

    forged_real_kid = jwt.encode(payload, foreign, algorithm="EdDSA", headers={"kid": header["kid"], "typ": "at+jwt"})
    assert_invalid_token(daemon.verify(forged_real_kid))

    # An embedded jwk / jku header is never followed (SPEC §5).
    public = foreign.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(public)}
    for extra in ({"jwk": jwk}, {"jku": daemon.url("/.well-known/jwks.json")}):
        forged = jwt.encode(payload, foreign, algorithm="EdDSA", headers={"typ": "at+jwt", **extra})
        assert_invalid_token(daemon.verify(forged))

    no_kid = jwt.encode(payload, foreign, algorithm="EdDSA", headers={"typ": "at+jwt"})
    assert_invalid_token(daemon.verify(no_kid))


def test_expired_token_is_refused_even_when_cached(daemon, access_token):
    daemon.advance(899)
    assert daemon.verify(access_token).status_code == 200
    daemon.advance(961)  # 900 s lifetime + 60 s leeway
    assert_invalid_token(daemon.verify(access_token))


def test_token_for_another_audience_is_refused(daemon, access_token):
    assert daemon.verify(access_token, resource=daemon.issuer).status_code == 200
    assert_invalid_token(daemon.verify(access_token, resource="https://other.example"))


def test_token_from_another_issuer_is_refused(tmp_path):
    """Same signing key and audience, another `iss`: only the issuer differs."""
    resource = "https://api.example.com"
    d = Daemon(tmp_path, {"scopes": SCOPES, "resources": [{"uri": resource}]})
    d.add_user("alice")
    d.start()
    try:
        client = d.add_client("notes-gpt")
        verifier, challenge = pkce_pair()
        code = query_of(Browser(d).authorize(d.authorize_url(client, challenge=challenge)))["code"]
        r = d.token({"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri,
                     "code_verifier": verifier}, auth=client.basic)
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        _, claims, _ = parts(token)
        assert claims["aud"] == resource and claims["iss"] == d.issuer
        original = d.issuer

        d.restart(issuer="https://auth.other.example")
        assert_invalid_token(d.verify(token))

        d.restart(issuer=original)  # control: the token itself was fine
        assert d.verify(token).status_code == 200
    finally:
        d.stop()


def test_scope_taken_from_the_role_is_gone_at_the_next_verify(daemon, access_token):
    """SPEC §8.7: not at the next refresh; the CLI's change reaches the daemon within a second."""
    assert daemon.verify(access_token, scope="notes:read").status_code == 200
    daemon.cli("role", "add", "user", "--scope", "other")
    started = time.monotonic()
    assert poll(lambda: daemon.verify(access_token, scope="notes:read").status_code == 403, timeout=1.5), \
        "notes:read still granted 1.5 s after the role lost it"
    took = time.monotonic() - started

    r = daemon.verify(access_token, scope="notes:read")
    assert r.status_code == 403
    assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
    r = daemon.verify(access_token)
    assert r.status_code == 200, r.status_code
    assert "notes:read" not in r.headers["X-Auth-Scope"].split()
    assert took < 1.5


def test_token_revoke_user_kills_her_tokens_within_a_second(daemon, client, obtain):
    tokens = obtain(client)
    assert daemon.verify(tokens["access_token"]).status_code == 200
    daemon.cli("token", "revoke", "--user", "alice")
    assert poll(lambda: daemon.verify(tokens["access_token"]).status_code == 401, timeout=1.5)
    assert_invalid_token(daemon.verify(tokens["access_token"]))
    r = daemon.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=client.basic)
    assert_oauth_error(r, 400, "invalid_grant")


def test_token_revoke_jti_kills_that_token_within_a_second(daemon, client, obtain):
    token = obtain(client)["access_token"]
    _, claims, _ = parts(token)
    assert daemon.verify(token).status_code == 200
    daemon.cli("token", "revoke", "--jti", claims["jti"])
    assert poll(lambda: daemon.verify(token).status_code == 401, timeout=1.5)
    assert_invalid_token(daemon.verify(token))


def test_verify_challenges_follow_rfc_6750(daemon, access_token):
    r = requests.get(daemon.url("/verify"), timeout=10)
    assert r.status_code == 401
    challenge = r.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and "error=" not in challenge  # §3.1: no credentials, no error

    assert_invalid_token(daemon.verify("not-a-token"))
    # Never a token in the query string (SPEC §3).
    r = requests.get(daemon.url("/verify"), params={"access_token": access_token}, timeout=10)
    assert r.status_code == 401
