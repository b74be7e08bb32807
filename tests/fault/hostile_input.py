#!/usr/bin/env python3
"""Fault injection: hostile input over raw sockets.

Covers what tests/e2e/http_basics_test.cpp does not (it has: one 17 KiB header → 431, a body
over the limit with Content-Length and chunked → 413, a header line without a colon → 400,
Content-Length + Transfer-Encoding → 400): headers too large in total and a huge target,
bodies declared but never sent, huge chunk sizes, deeply nested JSON, very long strings,
invalid UTF-8 (in the body, form, path and headers), NUL bytes, duplicate headers, and request
smuggling (CL+TE both orders, two Content-Lengths, malformed Content-Length, unsupported or
non-final Transfer-Encoding, obs-fold, bad chunk sizes, HTTP/1.0 + chunked).

Each case checks: the status is one of the expected 4xx (never 5xx); the body is the JSON
error envelope (valid UTF-8) with the code that belongs to the status; where the framing is
ambiguous, the connection is closed after the one answer, and a request smuggled behind it
(GET /smuggled) is never answered. At the end: no crash, no unhandled_exception logged, and a
normal request still works.
Usage: tests/fault/hostile_input.py [binary] (exit 0 = pass)
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402

MAX_BODY = 65536
CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
         409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE",
         422: "VALIDATION_ERROR", 431: "HEADERS_TOO_LARGE"}
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


def post(path, body, content_type=b"application/json", extra=b""):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: " + content_type +
            b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


def chunked(path, chunk_part, extra=b""):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n" + extra + b"\r\n" + chunk_part)


def reg(name=b"ab", email=b"x@example.com", password=b"12345678"):
    return b'{"email":"' + email + b'","name":"' + name + b'","password":"' + password + b'"}'


def cases(token):
    auth = b"Authorization: Bearer " + token.encode() + b"\r\n"
    users = b"/api/v1/users/"
    # (name, bytes, expected statuses, must close, extra check on the body or None)
    yield from [
        # --- size limits not covered by the e2e suite ---
        ("3000 small headers (> 16 KiB in total)", b"GET /health/live HTTP/1.1\r\nHost: x\r\n" +
         b"".join(b"X-H%d: v\r\n" % i for i in range(3000)) + b"\r\n", {431}, True, None),
        ("20 KiB request target", b"GET /health/live?" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x"
         b"\r\n\r\n", {414, 431}, True, None),
        ("Content-Length 10^12 declared, body never sent", b"POST /api/v1/users/ HTTP/1.1\r\n"
         b"Host: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n{",
         {413}, True, None),
        ("body one byte over MAX_BODY_BYTES on the register route",
         post(users, b" " * (MAX_BODY + 1)), {413}, True, None),
        ("chunk size far over the limit (fffffff)", chunked(users, b"fffffff\r\n{}\r\n0\r\n\r\n"),
         {413}, True, None),
        ("many 1000-byte chunks over the limit", chunked(users, (b"3e8\r\n" + b" " * 1000 +
         b"\r\n") * 70 + b"0\r\n\r\n"), {413}, True, None),
        # --- JSON structure ---
        ("30 000 nested arrays", post(users, b"[" * 30000 + b"]" * 30000), {400, 422}, False, None),
        ("9 000 nested objects", post(users, b'{"a":' * 9000 + b"1" + b"}" * 9000), {400, 422},
         False, None),
        ("nesting inside a field", post(users, b'{"email":' + b"[" * 20000 + b"]" * 20000 +
         b',"name":"a","password":"12345678"}'), {400, 422}, False, None),
        ("6 000 unknown keys", post(users, b"{" + b",".join(b'"k%d":1' % i for i in range(6000)) +
         b"}"), {422}, False, None),
        ("50 000-digit number", post(users, b'{"email":1' + b"0" * 50000 + b',"name":"ab",'
         b'"password":"12345678"}'), {400, 422}, False, None),
        ("duplicate JSON keys", post(users, b'{"email":"d1@example.com","email":"d2@example.com"'
         b',"name":"ab","password":"12345678"}'), {400, 422}, False, None),
        # --- very long strings ---
        ("60 000-char email", post(users, reg(email=b"a" * 60000 + b"@example.com")), {422},
         False, lambda d: d["details"][0]["field"] == "email"),
        ("60 000-char name", post(users, reg(name=b"a" * 60000)), {422}, False,
         lambda d: (d["details"][0]["field"], d["details"][0]["code"]) == ("name", "too_long")),
        ("60 000-char password (never hashed)", post(users, reg(password=b"a" * 60000)), {422},
         False, lambda d: d["details"][0]["field"] == "password"),
        ("8 000-char user id in the path", b"GET /api/v1/users/" + b"a" * 8000 + b" HTTP/1.1\r\n"
         b"Host: x\r\n" + auth + b"\r\n", {404}, False,
         lambda d: d["message"] == "User with identifier '" + "a" * 100 + "' not found"),
        ("14 KiB bearer token", b"GET /api/v1/users/me HTTP/1.1\r\nHost: x\r\nAuthorization: "
         b"Bearer " + b"a." * 7000 + b"\r\n\r\n", {401}, False, None),
        # --- invalid UTF-8 ---
        ("0xFF inside a JSON string", post(users, reg(name=b"a\xffb")), {400}, False, None),
        ("overlong encoding C0 AF", post(users, reg(name=b"a\xc0\xafb")), {400}, False, None),
        ("UTF-8-encoded surrogate ED A0 80", post(users, reg(name=b"a\xed\xa0\x80b")), {400},
         False, None),
        ("truncated sequence E2 82", post(users, reg(name=b"a\xe2\x82")), {400}, False, None),
        ("escaped lone surrogate \\ud800", post(users, reg(name=b"\\ud800")), {400, 422}, False,
         None),
        ("0xFF after the JSON document", post(users, reg() + b"\xff"), {400}, False, None),
        ("invalid UTF-8 in a PATCH body", b"PATCH /api/v1/users/me HTTP/1.1\r\nHost: x\r\n" + auth +
         b"Content-Type: application/json\r\nContent-Length: 14\r\n\r\n" + b'{"name":"a\xffb"}',
         {400}, False, None),
        ("%FF in a form field", post(b"/api/v1/auth/token", b"username=%ff&password=x",
                                     b"application/x-www-form-urlencoded"), {400}, False, None),
        ("raw 0xFF in a form field", post(b"/api/v1/auth/token", b"username=\xff&password=x",
                                          b"application/x-www-form-urlencoded"), {400}, False, None),
        ("raw 0xFF 0xFE in the path", b"GET /api/v1/users/\xff\xfe HTTP/1.1\r\nHost: x\r\n" +
         auth + b"\r\n", {400, 404}, False, None),
        ("0xFF in the bearer token", b"GET /api/v1/users/me HTTP/1.1\r\nHost: x\r\nAuthorization:"
         b" Bearer \xff\xfe\r\n\r\n", {401}, False, None),
        # --- NUL bytes ---
        ("raw NUL in a JSON string", post(users, reg(name=b"a\x00b")), {400}, False, None),
        ("\\u0000 in name", post(users, reg(name=b"a\\u0000b")), {422}, False,
         lambda d: d["details"][0]["field"] == "name"),
        ("\\u0000 in email", post(users, reg(email=b"nu\\u0000l@example.com")), {422}, False,
         lambda d: d["details"][0]["field"] == "email"),
        ("%00 in the path: message kept whole", b"GET /api/v1/users/%00x HTTP/1.1\r\nHost: x\r\n" +
         auth + b"\r\n", {404}, False,
         lambda d: d["message"] == "User with identifier '\x00x' not found"),
        ("NUL in a header value", b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
         {400}, True, None),
        ("NUL in the target", b"GET /health/live\x00 HTTP/1.1\r\nHost: x\r\n\r\n", {400}, True,
         None),
        # --- duplicate and missing headers ---
        ("two Host headers", b"GET /health/live HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", {400},
         True, None),
        ("HTTP/1.1 without Host", b"GET /health/live HTTP/1.1\r\n\r\n", {400}, True, None),
        ("two Authorization headers, the valid one first", b"GET /api/v1/users/me HTTP/1.1\r\n"
         b"Host: x\r\n" + auth + b"Authorization: Bearer junk\r\n\r\n", {400}, True, None),
        ("two Authorization headers, the valid one second", b"GET /api/v1/users/me HTTP/1.1\r\n"
         b"Host: x\r\nAuthorization: Bearer junk\r\n" + auth + b"\r\n", {400}, True, None),
        ("two different Content-Types", post(users, reg(), extra=b"Content-Type: text/plain\r\n"),
         {400}, True, None),
        ("two equal Content-Lengths (RFC 9112 allows)", b"POST /api/v1/users/ HTTP/1.1\r\nHost: x"
         b"\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
         {400, 422}, None, None),
        # --- request smuggling: one answer, then the connection is closed ---
        ("CL + TE", b"POST /api/v1/users/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
         b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, {400}, True, None),
        ("TE + CL", b"POST /api/v1/users/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
         b"Content-Length: 5\r\n\r\n0\r\n\r\n" + SMUGGLED, {400}, True, None),
        ("two different Content-Lengths", b"POST /api/v1/users/ HTTP/1.1\r\nHost: x\r\n"
         b"Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}" + SMUGGLED, {400}, True, None),
        ("Content-Length list 2, 40", b"POST /api/v1/users/ HTTP/1.1\r\nHost: x\r\n"
         b"Content-Length: 2, 40\r\n\r\n{}" + SMUGGLED, {400}, True, None),
        ("Content-Length +2", b"POST /api/v1/users/ HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n"
         b"\r\n{}" + SMUGGLED, {400}, True, None),
        ("Content-Length -1", b"POST /api/v1/users/ HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n"
         b"\r\n" + SMUGGLED, {400}, True, None),
        ("Content-Length 0x2", b"POST /api/v1/users/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0x2\r\n"
         b"\r\n{}" + SMUGGLED, {400}, True, None),
        ("Content-Length over 2^64", b"POST /api/v1/users/ HTTP/1.1\r\nHost: x\r\nContent-Length: "
         b"99999999999999999999999\r\n\r\n{}" + SMUGGLED, {400, 413}, True, None),
        ("Transfer-Encoding: xchunked", b"POST /api/v1/users/ HTTP/1.1\r\nHost: x\r\n"
         b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + SMUGGLED, {400}, True, None),
        ("Transfer-Encoding: chunked, identity (chunked not last)", b"POST /api/v1/users/ HTTP/1.1"
         b"\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + SMUGGLED,
         {400}, True, None),
        ("Transfer-Encoding: identity", b"POST /api/v1/users/ HTTP/1.1\r\nHost: x\r\n"
         b"Transfer-Encoding: identity\r\n\r\n" + SMUGGLED, {400}, True, None),
        ("Transfer-Encoding: gzip, chunked", b"POST /api/v1/users/ HTTP/1.1\r\nHost: x\r\n"
         b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, {400}, True, None),
        ("two Transfer-Encoding headers", b"POST /api/v1/users/ HTTP/1.1\r\nHost: x\r\n"
         b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
         {400}, True, None),
        ("space before the colon: Transfer-Encoding : chunked", b"POST /api/v1/users/ HTTP/1.1\r\n"
         b"Host: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, {400}, True, None),
        ("HTTP/1.0 with Transfer-Encoding: chunked", b"POST /api/v1/users/ HTTP/1.0\r\n"
         b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, {400, 415, 422}, True, None),
        ("bare LF line endings", b"GET /health/live HTTP/1.1\nHost: x\n\n" + SMUGGLED, {400}, True,
         None),
        ("chunk size zz", chunked(users, b"zz\r\n{}\r\n0\r\n\r\n" + SMUGGLED), {400}, True, None),
        ("chunk size -1", chunked(users, b"-1\r\n{}\r\n0\r\n\r\n" + SMUGGLED), {400}, True, None),
        ("chunk size 0x2", chunked(users, b"0x2\r\n{}\r\n0\r\n\r\n" + SMUGGLED), {400}, True, None),
        ("chunk size over 2^64", chunked(users, b"ffffffffffffffffff\r\n{}\r\n0\r\n\r\n" + SMUGGLED),
         {400, 413}, True, None),
        ("chunk data longer than its size", chunked(users, b"2\r\n{}xx\r\n0\r\n\r\n" + SMUGGLED),
         {400}, True, None),
        ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + SMUGGLED, {400}, True, None),
        ("HTTP/1.2", b"GET /health/live HTTP/1.2\r\nHost: x\r\n\r\n" + SMUGGLED, {400}, True, None),
        ("control byte in the method", b"G\x01T / HTTP/1.1\r\nHost: x\r\n\r\n" + SMUGGLED, {400},
         True, None),
    ]
    # obs-fold: RFC 9112 §5.2 lets a server reject it (400) or unfold it; Beast unfolds, so
    # the folded Transfer-Encoding is read as chunked, consistently. Either way no smuggling:
    # at most the one answer, and the smuggled request is not answered.
    yield ("obs-fold in Transfer-Encoding", b"POST /api/v1/users/ HTTP/1.1\r\nHost: x\r\n"
           b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", {400, 415}, None, None)
    yield ("obs-fold in another header", b"GET /nope HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
           {400, 404}, None, None)


def main():
    checks = fl.Checks("hostile_input")
    svc = fl.Service(fl.binary_from_argv(), {"RATE_LIMIT_ENABLED": "false",
                                             "MAX_BODY_BYTES": str(MAX_BODY)})
    try:
        port = svc.port
        email = f"hostile-{os.getpid()}@example.com"
        checks.check(fl.register(port, email)[0] == 201, "registered")
        token = fl.token_for(port, email)
        by_status = {}
        closed_count = 0
        n = 0
        for name, data, expected, must_close, body_check in cases(token):
            n += 1
            out, closed = fl.raw_exchange(port, data, timeout=5, wait_close=bool(must_close))
            responses = fl.parse_responses(out)
            status = responses[0][0] if responses else None
            by_status[status] = by_status.get(status, 0) + 1
            closed_count += closed
            ok = checks.check(status in expected, f"{name}: status {status}, expected "
                                                  f"{sorted(expected)} (raw {out[:80]!r})")
            if responses:
                body = responses[0][2]
                try:
                    doc = json.loads(body.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    doc = None
                checks.check(doc is not None and doc.get("error") == CODES.get(status) and
                             doc.get("request_id"), f"{name}: error envelope ({body[:120]!r})")
                if doc is not None and body_check and ok:
                    checks.check(body_check(doc), f"{name}: body as expected ({body[:160]!r})")
            checks.check(not any(r[0] >= 500 for r in responses), f"{name}: no 5xx")
            if must_close:
                checks.check(closed, f"{name}: connection closed after the answer")
                checks.check(len(responses) == 1, f"{name}: exactly one answer, nothing smuggled "
                                                  f"(got {[r[0] for r in responses]})")
            if b"/smuggled" in data:
                checks.check(all(r[0] != 404 for r in responses[1:]),
                             f"{name}: the smuggled request was not answered")
            print(f"  {status} {'closed' if closed else 'open  '} {name}", flush=True)
        s, _, _ = fl.call(port, "GET", "/api/v1/users/me",
                          headers={"Authorization": "Bearer " + token})
        checks.check(s == 200, f"a normal request still works afterwards (got {s})")
        crashes = fl.crash_lines(svc)
        print(f"cases: {n}; by status: " + ", ".join(f"{k}: {v}" for k, v in
                                                     sorted(by_status.items(), key=str)) +
              f"; connections closed by the server: {closed_count}; 5xx: "
              f"{sum(v for k, v in by_status.items() if k and k >= 500)}; unhandled exceptions: "
              f"{len(crashes)}; crashes: {0 if svc.alive() else 1}")
        checks.service_ends_cleanly(svc)
        return checks.report()
    finally:
        svc.stop()


if __name__ == "__main__":
    sys.exit(main())
