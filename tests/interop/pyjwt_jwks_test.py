#!/usr/bin/env python3
"""Our EdDSA and ES256 tokens verified the way a Python service verifies them
(docs/signing-keys.md): PyJWT's PyJWKClient fetches /.well-known/jwks.json from the running
service and jwt.decode checks the signature, issuer and audience (Debian's python3-jwt and
python3-cryptography).

Per algorithm: a token verifies and names its key; tampered tokens and wrong expectations are
refused; after a rotation (new key first, old key still listed) tokens of both keys verify; after
the old key is dropped its tokens find no key while the new one's still verify.
Usage: tests/interop/pyjwt_jwks_test.py [binary] (exit 0 = pass)
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

import jwt
from jwt import PyJWKClient

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "fault"))
import faultlib as fl  # noqa: E402

PASSWORD = "pyjwt-password-1"


def generate_key(binary, path, alg):
    r = subprocess.run([binary, "keys", "generate", "--alg", alg, "--out", path],
                       env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"keys generate failed: {r.stderr}")


def decode(svc, token, alg, **expect):
    """What another service does: a fresh PyJWKClient (no cache from an earlier step)."""
    client = PyJWKClient(f"http://127.0.0.1:{svc.port}/.well-known/jwks.json")
    key = client.get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=[alg],
                      audience=expect.get("audience", "user-service"),
                      issuer=expect.get("issuer", "user-service"))


def refused(fn, *errors):
    try:
        fn()
    except errors:
        return True
    except Exception as e:  # noqa: BLE001 - any other outcome is a failed check
        print(f"  unexpected {type(e).__name__}: {e}", flush=True)
        return False
    return False


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def run_algorithm(checks, binary, alg):
    folder = tempfile.mkdtemp(prefix=f"user-service-pyjwt-{alg}-")
    svc = None
    try:
        old_key, new_key = os.path.join(folder, "old.pem"), os.path.join(folder, "new.pem")
        generate_key(binary, old_key, alg)
        generate_key(binary, new_key, alg)
        env = {"DATABASE_URL": f"sqlite:///{folder}/users.db", "JWT_ALGORITHM": alg,
               "JWT_SECRET": "", "JWT_SIGNING_KEYS": old_key}

        svc = fl.Service(binary, env)
        email = f"pyjwt-{alg.lower()}-{os.getpid()}@example.com"
        status, _, body = fl.register(svc.port, email, PASSWORD)
        checks.check(status == 201, f"{alg}: registration 201 (got {status})")
        user_id = json.loads(body)["id"]
        old_token = fl.token_for(svc.port, email, PASSWORD)

        claims = decode(svc, old_token, alg)
        checks.check(claims["sub"] == user_id, f"{alg}: PyJWT verifies sub")
        header = jwt.get_unverified_header(old_token)
        checks.check(header["alg"] == alg and len(header["kid"]) == 43,
                     f"{alg}: header names alg and kid ({header})")

        h, p, s = old_token.split(".")
        forged = b64(json.dumps(dict(claims, sub="someone-else")).encode())
        checks.check(refused(lambda: decode(svc, f"{h}.{forged}.{s}", alg),
                             jwt.InvalidSignatureError),
                     f"{alg}: another payload under our signature is refused")
        sig = bytearray(base64.urlsafe_b64decode(s + "=="))
        sig[7] ^= 1
        checks.check(refused(lambda: decode(svc, f"{h}.{p}.{b64(bytes(sig))}", alg),
                             jwt.InvalidSignatureError),
                     f"{alg}: a flipped signature bit is refused")
        checks.check(refused(lambda: decode(svc, old_token, alg, audience="other-service"),
                             jwt.InvalidAudienceError),
                     f"{alg}: another audience is refused")
        checks.check(refused(lambda: decode(svc, old_token, alg, issuer="someone-else"),
                             jwt.InvalidIssuerError),
                     f"{alg}: another issuer is refused")

        # Rotation: the new key signs, the old one is still published.
        checks.check(svc.stop() == 0, f"{alg}: clean stop")
        svc = fl.Service(binary, dict(env, JWT_SIGNING_KEYS=f"{new_key},{old_key}"))
        new_token = fl.token_for(svc.port, email, PASSWORD)
        checks.check(jwt.get_unverified_header(new_token)["kid"] != header["kid"],
                     f"{alg}: the new key signs")
        checks.check(decode(svc, new_token, alg)["sub"] == user_id,
                     f"{alg}: a token of the new key verifies")
        checks.check(decode(svc, old_token, alg)["sub"] == user_id,
                     f"{alg}: a token of the old key still verifies while it is published")

        # The old key dropped: its tokens find no key, the new key's still verify.
        checks.check(svc.stop() == 0, f"{alg}: clean stop")
        svc = fl.Service(binary, dict(env, JWT_SIGNING_KEYS=new_key))
        checks.check(refused(lambda: decode(svc, old_token, alg), jwt.PyJWKClientError),
                     f"{alg}: a token of the dropped key finds no key")
        checks.check(decode(svc, new_token, alg)["sub"] == user_id,
                     f"{alg}: a token of the remaining key verifies")
        status = fl.call(svc.port, "GET", "/api/v1/users/me",
                         headers={"Authorization": f"Bearer {old_token}"})[0]
        checks.check(status == 401, f"{alg}: the service refuses it too (got {status})")
        checks.service_ends_cleanly(svc, alg)
        svc = None
        print(f"{alg}: PyJWT {jwt.__version__} verified kids {header['kid']} and "
              f"{jwt.get_unverified_header(new_token)['kid']}", flush=True)
    finally:
        if svc is not None:
            svc.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main():
    binary = fl.binary_from_argv()
    checks = fl.Checks("interop.pyjwt_jwks")
    for alg in ("EdDSA", "ES256"):
        run_algorithm(checks, binary, alg)
    return checks.report()


if __name__ == "__main__":
    sys.exit(main())
