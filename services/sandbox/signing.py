"""The signatures of the external protocols: VNPay 2.1.0 and the bank's notices.

Written from the published recipes (design notes, payment.md §1.3 and §1.6), not from our payment
service, so the two sides only agree if both follow the protocol.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote_plus

# Never part of what is hashed: the hash itself, and the type field 2.0.x needed.
_UNHASHED = frozenset({"vnp_SecureHash", "vnp_SecureHashType"})


def hmac_sha512(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha512).hexdigest()


def same_digest(expected: str, given: str | None) -> bool:
    """Case-insensitive (one known port upper-cases the hex) and in constant time."""
    if not given:
        return False
    return hmac.compare_digest(expected.lower().encode(), given.strip().lower().encode())


def vnp_hash_data(params: Mapping[str, str]) -> str:
    """The string a pay URL, return URL or IPN is signed over: non-empty ``vnp_*`` fields,
    keys sorted, values form-URL-encoded (space as ``+``), which is also the query string."""
    fields = sorted(
        (k, v) for k, v in params.items() if k.startswith("vnp_") and k not in _UNHASHED and v
    )
    return "&".join(f"{k}={quote_plus(v)}" for k, v in fields)


def vnp_sign(params: Mapping[str, str], secret: str) -> str:
    return hmac_sha512(secret, vnp_hash_data(params))


def vnp_verify(params: Mapping[str, str], secret: str) -> bool:
    return same_digest(vnp_sign(params, secret), params.get("vnp_SecureHash"))


def vnp_signed_query(params: Mapping[str, str], secret: str) -> str:
    """The query string to send: the hashed fields, then ``vnp_SecureHash`` last."""
    data = vnp_hash_data(params)
    return f"{data}&vnp_SecureHash={hmac_sha512(secret, data)}"


def pipe_text(value: Any) -> str:
    # JSON clients may send numbers for numeric fields; the hash is over their decimal text.
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def pipe_checksum(secret: str, values: Iterable[Any]) -> str:
    """The merchant API's checksum: the fields' values in a fixed order joined by ``|``."""
    return hmac_sha512(secret, "|".join(pipe_text(v) for v in values))


def canonical_json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def json_checksum(secret: str, document: Mapping[str, Any]) -> str:
    """The statement's checksum: over its canonical JSON without ``vnp_SecureHash``."""
    return hmac_sha512(
        secret, canonical_json({k: v for k, v in document.items() if k != "vnp_SecureHash"})
    )


def bank_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``hex(HMAC-SHA256(secret, timestamp + "." + raw body))``, the bank's notice signature."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
