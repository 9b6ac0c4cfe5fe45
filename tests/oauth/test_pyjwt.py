"""PyJWT verifies plugauth's access tokens offline through the JWKS, the way a
plugin that does not call /verify would (SPEC §1, §5; RFC 9068)."""

import jwt
import pytest
import requests


def test_pyjwt_verifies_the_access_token_through_jwks(daemon, client, obtain):
    token = obtain(client)["access_token"]

    jwks = requests.get(daemon.url("/.well-known/jwks.json"), timeout=10)
    assert jwks.status_code == 200
    keys = jwks.json()["keys"]
    assert keys and all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and "d" not in k for k in keys)

    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA"
    assert header["typ"] == "at+jwt"  # RFC 9068 §2.1
    assert header["kid"] in {k["kid"] for k in keys}

    signing_key = jwt.PyJWKClient(daemon.url("/.well-known/jwks.json")).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, signing_key.key, algorithms=["EdDSA"], issuer=daemon.issuer,
                        audience=daemon.issuer,
                        options={"require": ["exp", "iat", "sub", "jti", "iss", "aud"]})
    assert claims["client_id"] == client.client_id
    assert claims["scope"] == "notes:read"
    assert claims["exp"] - claims["iat"] == 900
    assert claims["sub"].startswith("u_")

    v = daemon.verify(token)
    assert v.headers["X-Auth-Subject"] == claims["sub"]
    assert v.headers["X-Auth-Token-Id"] == claims["jti"]


def test_pyjwt_rejects_the_token_for_another_audience_or_issuer(daemon, client, obtain):
    token = obtain(client)["access_token"]
    key = jwt.PyJWKClient(daemon.url("/.well-known/jwks.json")).get_signing_key_from_jwt(token).key
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key, algorithms=["EdDSA"], issuer=daemon.issuer, audience="https://other.example")
    with pytest.raises(jwt.InvalidIssuerError):
        jwt.decode(token, key, algorithms=["EdDSA"], issuer="https://other.example", audience=daemon.issuer)
