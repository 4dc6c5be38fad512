#!/usr/bin/env python3
"""An independent verifier of Gatehouse credentials, written from FORMAT.md alone.

Usage: independent_verify.py VECTORS.json
Checks every vector: valid ones must verify and decode to the listed fields, invalid ones must
be rejected. Uses PyNaCl (libsodium) for Ed25519 and the `base45` package for RFC 9285.
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import datetime
import json
import sys

import base45
import nacl.exceptions
import nacl.signing

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
EPOCH = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
KINDS = {1: "visitor", 2: "worker", 3: "staff", 4: "goods_release"}
ZONES = ["entrance", "floor", "service_elevator", "passenger_elevator", "carpark"]


class Rejected(Exception):
    pass


def minute(m):
    return (EPOCH + datetime.timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ")


def i8(b):
    return b - 256 if b > 127 else b


def verify(text, keys):
    if not text or len(text) > 122:
        raise Rejected("length")
    if any(c not in ALPHABET for c in text):
        raise Rejected("alphabet")
    try:
        raw = base45.b45decode(text)
    except Exception:
        raise Rejected("base45")
    if not raw or raw[0] >> 4 != 1:
        raise Rejected("version")
    if len(raw) != 81:
        raise Rejected("length for version 1")
    key_id = raw[0] & 0x0F
    if key_id not in keys:
        raise Rejected("unknown key")
    try:
        nacl.signing.VerifyKey(keys[key_id]).verify(raw[:17], raw[17:])
    except nacl.exceptions.BadSignatureError:
        raise Rejected("signature")
    kind = KINDS.get(raw[1] >> 4)
    schedule = raw[1] & 0x0F
    card_id = int.from_bytes(raw[2:6], "big")
    not_before = int.from_bytes(raw[6:10], "big")
    valid_for = int.from_bytes(raw[10:13], "big")
    lo, hi = i8(raw[14]), i8(raw[15])
    if kind is None or valid_for == 0 or lo > hi:
        raise Rejected("malformed")
    return {
        "key_id": key_id,
        "kind": kind,
        "card_id": card_id,
        "not_before": minute(not_before),
        "not_after": minute(not_before + valid_for),
        "schedule": schedule or None,
        "building": "every" if raw[13] == 255 else raw[13],
        "floor_lo": lo,
        "floor_hi": hi,
        "zones": [z for bit, z in enumerate(ZONES) if raw[16] & (1 << bit)],
    }


def main(path):
    with open(path, encoding="utf-8") as f:
        vectors = json.load(f)
    passed = failed = 0
    for v in vectors:
        keys = {v["key_id"]: bytes.fromhex(v["public_key_hex"])}
        try:
            fields = verify(v["text"], keys)
            ok = v["valid"] and fields == v["fields"]
            why = "" if ok else f"decoded {fields}, expected {v.get('fields')}"
        except Rejected as e:
            ok = not v["valid"]
            why = "" if ok else f"rejected ({e}) but should verify"
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {v['name']}: {why}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
