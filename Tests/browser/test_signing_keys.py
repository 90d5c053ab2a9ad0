"""Signing playback offline, as a backend would with PyJWT: a signing key created through the API,
JWTs signed with its private key and no call to the API per viewer, checked by a live `serve`: a
signed asset's playlist and a segment play with aud "v", its thumbnail with aud "t"; expired is
401; another asset, another audience, an unknown or revoked key, alg none or HS256 are 403."""
import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

import jwt
from cryptography.hazmat.primitives import serialization

from conftest import call, upload_clip, wait_until_ready
from test_openapi import check


def fetch(url):
    """GET `url`: (status, body bytes, error code or None)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read(), None
    except urllib.error.HTTPError as error:
        body = error.read()
        return error.code, body, json.loads(body)["error"]["code"] if body else None


def sign(key, sub, aud, exp_in=600, kid=None, **extra):
    return jwt.encode({"sub": sub, "aud": aud, "exp": int(time.time()) + exp_in, **extra},
                      key["private_key"], algorithm="RS256", headers={"kid": kid or key["id"]})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_offline_signed_jwts_play_a_signed_asset(server):
    status, key = call("POST", server + "/v1/signing-keys")
    assert status == 201, key
    check(key, "CreatedSigningKey")
    assert key["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    private = serialization.load_pem_private_key(key["private_key"].encode(), password=None)
    assert private.key_size == 2048
    status, listed = call("GET", server + "/v1/signing-keys")
    assert status == 200 and {"id": key["id"], "created_at": key["created_at"]} in listed["signing_keys"]
    check(listed, "SigningKeyList")

    created, _ = upload_clip(server, filename="signed-offline.mp4", playback_policy="signed")
    asset_id = created["id"]
    wait_until_ready(server, asset_id)
    media = f"{server}/media/{asset_id}/t"

    # aud "v": the master playlist, a rung playlist and one of its segments, relative URIs as they are.
    video = sign(key, asset_id, "v")
    status, master, _ = fetch(f"{media}/{video}/master.m3u8")
    assert status == 200 and master.startswith(b"#EXTM3U")
    rung = next(line for line in master.decode().splitlines() if line and not line.startswith("#"))
    status, playlist, _ = fetch(f"{media}/{video}/{rung}")
    assert status == 200
    segment = next(line for line in playlist.decode().splitlines() if line.endswith(".ts"))
    folder = rung.rsplit("/", 1)[0]
    status, data, _ = fetch(f"{media}/{video}/{folder}/{segment}")
    assert status == 200 and data[:1] == b"\x47"  # an MPEG-TS sync byte

    # aud "t": the thumbnail, and only it.
    thumbnail = sign(key, asset_id, "t")
    status, jpeg, _ = fetch(f"{media}/{thumbnail}/thumbnail.jpg")
    assert status == 200 and jpeg[:2] == b"\xff\xd8"
    assert fetch(f"{media}/{thumbnail}/master.m3u8")[::2] == (403, "ERR_PLAYBACK_TOKEN_REQUIRED")
    assert fetch(f"{media}/{video}/thumbnail.jpg")[::2] == (403, "ERR_PLAYBACK_TOKEN_REQUIRED")

    # Expired: 401. Every other fault: 403.
    assert fetch(f"{media}/{sign(key, asset_id, 'v', exp_in=-5)}/master.m3u8")[::2] == (401, "ERR_TOKEN_EXPIRED")
    status, other = call("POST", server + "/v1/assets", {"filename": "other.mp4", "playback_policy": "signed"})
    assert status == 201
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = {"sub": asset_id, "aud": "v", "exp": int(time.time()) + 600}
    unsigned = b64(json.dumps({"alg": "none", "kid": key["id"]}).encode()) + "." + b64(json.dumps(claims).encode()) + "."
    hs_input = b64(json.dumps({"alg": "HS256", "kid": key["id"], "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    hs256 = hs_input + "." + b64(hmac.new(public_pem, hs_input.encode(), hashlib.sha256).digest())
    for bad in [
        sign(key, other["id"], "v"),                      # another asset
        sign(key, asset_id, "s"),                         # another audience
        sign(key, asset_id, "v", kid="0" * 8 + "-0000-4000-8000-" + "0" * 12),  # an unknown key
        sign(key, asset_id, "v", exp_in=8 * 24 * 3600),   # valid for longer than 7 days
        unsigned,                                         # alg none
        hs256,                                            # HS256 with the public key as the secret
    ]:
        assert fetch(f"{media}/{bad}/master.m3u8")[::2] == (403, "ERR_PLAYBACK_TOKEN_REQUIRED"), bad

    # The server's own playback tokens keep working beside the JWTs.
    status, minted = call("POST", f"{server}/v1/assets/{asset_id}/playback-tokens", {"ttl_seconds": 120})
    assert status == 201 and fetch(minted["playlist_url"])[0] == 200

    # Revoked: refused at once on this serve; a second revoke is 404.
    assert call("DELETE", f"{server}/v1/signing-keys/{key['id']}")[0] == 204
    assert fetch(f"{media}/{video}/master.m3u8")[::2] == (403, "ERR_PLAYBACK_TOKEN_REQUIRED")
    assert call("DELETE", f"{server}/v1/signing-keys/{key['id']}")[0] == 404
