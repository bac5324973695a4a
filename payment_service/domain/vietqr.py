"""VietQR payloads: the EMVCo merchant-presented QR that NAPAS 247 bank apps scan to prefill a
transfer (bank, account, amount and purpose).

A payload is a flat string of TLV objects (2-digit ID, 2-digit length, value), tags 38 and 62
holding TLV objects of their own, closed by tag 63: a CRC-16/CCITT-FALSE over everything before
it, "6304" included. A QR carries no callback: the payment is learnt later from the bank's credit
notice, so the purpose (62/08) carries our payment reference and the credit can be matched to it
(see ``credit_matching``).

Free text is folded to ASCII before it goes in. Bank apps differ in how they count lengths and
render diacritics, and ASCII keeps length, CRC and display the same everywhere.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal, cast

import segno

Service = Literal["QRIBFTTA", "QRIBFTTC"]
TRANSFER_TO_ACCOUNT: Final[Service] = "QRIBFTTA"
TRANSFER_TO_CARD: Final[Service] = "QRIBFTTC"
_SERVICES: Final[frozenset[str]] = frozenset({TRANSFER_TO_ACCOUNT, TRANSFER_TO_CARD})

NAPAS_GUID: Final = "A000000727"
CURRENCY_VND: Final = "704"  # ISO 4217 numeric
COUNTRY_VN: Final = "VN"
STATIC: Final = "11"  # reusable: the payer types the amount
DYNAMIC: Final = "12"  # one payment: the amount is in the QR

MAX_ACCOUNT_LEN: Final = 19
MAX_AMOUNT_LEN: Final = 13
MAX_PURPOSE_LEN: Final = 25
MAX_MERCHANT_NAME_LEN: Final = 25
MAX_MERCHANT_CITY_LEN: Final = 15

_BIN = re.compile(r"[0-9]{6}")
_ACCOUNT = re.compile(r"[A-Za-z0-9]+")
_DIGITS = re.compile(r"[0-9]+")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_NOT_KEPT = re.compile(r"[^A-Za-z0-9 ]")
_SPACES = re.compile(r" {2,}")

# Letters NFD does not split into base + combining mark: đ is a letter of its own, not d + stroke.
_NO_DECOMPOSITION = str.maketrans({"đ": "d", "Đ": "D"})

_CRC_LEN_FIELD: Final = "6304"


class InvalidPayload(ValueError):
    """A string that is not a well-formed VietQR payload (bad CRC, broken TLV, wrong GUID …)."""


def crc16_ccitt_false(data: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor) of the UTF-8
    bytes of ``data``, as 4 uppercase hex digits, the form tag 63 carries."""
    crc = 0xFFFF
    for byte in data.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return f"{crc:04X}"


def fold_ascii(text: str, max_len: int | None = None) -> str:
    """``text`` without Vietnamese diacritics, reduced to letters, digits and single spaces.

    Any whitespace (a newline in a purpose typed on a form) counts as a space so words stay
    apart; every other character outside [A-Za-z0-9 ] is dropped. The result is stripped, and cut
    to ``max_len`` characters when given (then stripped again, so a cut never ends in a space).
    """
    if max_len is not None and max_len < 0:
        raise ValueError("max_len cannot be negative")
    decomposed = unicodedata.normalize("NFD", text.translate(_NO_DECOMPOSITION))
    base = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    spaced = "".join(" " if ch.isspace() else ch for ch in base)
    folded = _SPACES.sub(" ", _NOT_KEPT.sub("", spaced)).strip()
    if max_len is not None:
        folded = folded[:max_len].rstrip()
    return folded


def _folded_field(name: str, value: str, max_len: int) -> str:
    folded = fold_ascii(value)
    if not folded:
        raise ValueError(f"{name} {value!r} has no letters or digits left after folding to ASCII")
    if len(folded) > max_len:
        # Refused rather than cut: the purpose carries the payment reference, and a cut reference
        # could never be matched. A caller who wants a cut says so with fold_ascii(text, max_len).
        raise ValueError(
            f"{name} is {len(folded)} characters after folding to ASCII, at most {max_len} allowed"
        )
    return folded


@dataclass(frozen=True)
class VietQR:
    """What a VietQR says. Built only valid: free text is stored folded to ASCII, exactly as it
    goes into the payload, so ``decode(encode(qr)) == qr``."""

    bank_bin: str  # the beneficiary bank's 6-digit BIN (acquirer id), e.g. "970415"
    account: str  # account number, or card number when service is QRIBFTTC
    amount_vnd: int | None = None  # None: a static QR, the payer types the amount
    purpose: str | None = None  # 62/08, where the payment reference goes
    service: Service = TRANSFER_TO_ACCOUNT
    merchant_name: str | None = None
    merchant_city: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.bank_bin, str) or not _BIN.fullmatch(self.bank_bin):
            raise ValueError(f"bank BIN must be exactly 6 digits, got {self.bank_bin!r}")
        if not isinstance(self.account, str) or not self.account:
            raise ValueError("account number is empty")
        if len(self.account) > MAX_ACCOUNT_LEN:
            raise ValueError(
                f"account number is {len(self.account)} characters, at most {MAX_ACCOUNT_LEN}"
            )
        if not _ACCOUNT.fullmatch(self.account):
            raise ValueError(
                f"account number must be ASCII letters and digits only, got {self.account!r}"
            )
        if self.amount_vnd is not None:
            # bool is an int in Python; True VND is a bug, not an amount.
            if isinstance(self.amount_vnd, bool) or not isinstance(self.amount_vnd, int):
                raise ValueError(
                    f"amount must be a whole number of VND, got {type(self.amount_vnd).__name__}"
                )
            if self.amount_vnd <= 0:
                raise ValueError(f"amount must be positive, got {self.amount_vnd}")
            if len(str(self.amount_vnd)) > MAX_AMOUNT_LEN:
                raise ValueError(f"amount {self.amount_vnd} is longer than {MAX_AMOUNT_LEN} digits")
        if self.service not in _SERVICES:
            raise ValueError(
                f"service must be {TRANSFER_TO_ACCOUNT} (account) or {TRANSFER_TO_CARD} (card), "
                f"got {self.service!r}"
            )
        for name, max_len in (
            ("purpose", MAX_PURPOSE_LEN),
            ("merchant_name", MAX_MERCHANT_NAME_LEN),
            ("merchant_city", MAX_MERCHANT_CITY_LEN),
        ):
            value = getattr(self, name)
            if value is not None:
                # Frozen, so the folded form is written through object.__setattr__.
                object.__setattr__(self, name, _folded_field(name, value, max_len))

    @property
    def is_static(self) -> bool:
        return self.amount_vnd is None


def _tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"tag {tag} value is {len(value)} characters, a TLV holds at most 99")
    return f"{tag}{len(value):02d}{value}"


def encode(qr: VietQR) -> str:
    """The payload of ``qr``, tags in the order NAPAS examples use (00, 01, 38, 53, 54, 58,
    59, 60, 62, 63); optional tags appear only when they have a value."""
    beneficiary = _tlv("00", qr.bank_bin) + _tlv("01", qr.account)
    merchant_account = _tlv("00", NAPAS_GUID) + _tlv("01", beneficiary) + _tlv("02", qr.service)
    parts = [
        _tlv("00", "01"),
        _tlv("01", STATIC if qr.is_static else DYNAMIC),
        _tlv("38", merchant_account),
        _tlv("53", CURRENCY_VND),
    ]
    if qr.amount_vnd is not None:
        parts.append(_tlv("54", str(qr.amount_vnd)))
    parts.append(_tlv("58", COUNTRY_VN))
    if qr.merchant_name is not None:
        parts.append(_tlv("59", qr.merchant_name))
    if qr.merchant_city is not None:
        parts.append(_tlv("60", qr.merchant_city))
    if qr.purpose is not None:
        parts.append(_tlv("62", _tlv("08", qr.purpose)))
    body = "".join(parts) + _CRC_LEN_FIELD
    return body + crc16_ccitt_false(body)


def _parse_tlv(data: str, where: str) -> list[tuple[str, str]]:
    """The (tag, value) objects of ``data`` in order; refuses a truncated or malformed object."""
    objects: list[tuple[str, str]] = []
    pos = 0
    while pos < len(data):
        header = data[pos : pos + 4]
        if len(header) < 4:
            raise InvalidPayload(f"{where}: truncated TLV header at position {pos}")
        tag, length = header[:2], header[2:]
        if not _DIGITS.fullmatch(tag) or not _DIGITS.fullmatch(length):
            raise InvalidPayload(f"{where}: malformed TLV header {header!r} at position {pos}")
        start, end = pos + 4, pos + 4 + int(length)
        if end > len(data):
            raise InvalidPayload(f"{where}: tag {tag} claims {int(length)} characters, truncated")
        objects.append((tag, data[start:end]))
        pos = end
    return objects


def _unique(objects: list[tuple[str, str]], where: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for tag, value in objects:
        if tag in found:
            raise InvalidPayload(f"{where}: tag {tag} appears twice")
        found[tag] = value
    return found


def _required(found: dict[str, str], tag: str, where: str) -> str:
    if tag not in found:
        raise InvalidPayload(f"{where}: tag {tag} is missing")
    return found[tag]


def decode(payload: str) -> VietQR:
    """The :class:`VietQR` a payload describes.

    The CRC is checked first, so a payload altered anywhere fails before its content is read.
    Tag 00 must come first and 63 last; the others may come in any order (some generators put
    53 and 58 before 38), nested tags too. Tags this model does not carry (52, 62/05 …) are
    skipped. Raises :class:`InvalidPayload`.
    """
    objects = _parse_tlv(payload, "payload")
    if not objects or objects[0][0] != "00":
        raise InvalidPayload("payload: tag 00 (payload format indicator) must come first")
    if objects[0][1] != "01":
        raise InvalidPayload(f"payload: unknown payload format indicator {objects[0][1]!r}")
    last_tag, crc = objects[-1]
    if last_tag != "63":
        raise InvalidPayload("payload: tag 63 (CRC) must come last")
    if not _HEX4.fullmatch(crc):
        raise InvalidPayload(f"payload: CRC {crc!r} is not 4 hex digits")
    expected_crc = crc16_ccitt_false(payload[:-4])
    if crc.upper() != expected_crc:
        raise InvalidPayload(f"payload: CRC is {crc}, the content gives {expected_crc}")

    top = _unique(objects, "payload")
    merchant = _unique(_parse_tlv(_required(top, "38", "payload"), "tag 38"), "tag 38")
    guid = _required(merchant, "00", "tag 38")
    if guid.upper() != NAPAS_GUID:
        raise InvalidPayload(f"tag 38: GUID {guid!r} is not VietQR's {NAPAS_GUID}")
    beneficiary = _unique(_parse_tlv(_required(merchant, "01", "tag 38"), "tag 38/01"), "tag 38/01")
    bank_bin = _required(beneficiary, "00", "tag 38/01")
    account = _required(beneficiary, "01", "tag 38/01")
    service = _required(merchant, "02", "tag 38")

    currency = _required(top, "53", "payload")
    if currency != CURRENCY_VND:
        raise InvalidPayload(f"payload: currency {currency!r} is not VND ({CURRENCY_VND})")
    country = _required(top, "58", "payload")
    if country != COUNTRY_VN:
        raise InvalidPayload(f"payload: country {country!r} is not {COUNTRY_VN}")

    amount_vnd: int | None = None
    if "54" in top:
        if not _DIGITS.fullmatch(top["54"]):
            raise InvalidPayload(f"payload: amount {top['54']!r} is not a whole number of VND")
        amount_vnd = int(top["54"])
    initiation = top.get("01")
    if initiation is not None:
        if initiation not in (STATIC, DYNAMIC):
            raise InvalidPayload(f"payload: unknown point of initiation {initiation!r}")
        # The model derives 11/12 from the amount; a payload saying otherwise cannot round-trip.
        if (initiation == STATIC) != (amount_vnd is None):
            raise InvalidPayload(
                f"payload: point of initiation {initiation} disagrees with "
                f"{'no amount' if amount_vnd is None else 'an amount'}"
            )

    purpose: str | None = None
    if "62" in top:
        purpose = _unique(_parse_tlv(top["62"], "tag 62"), "tag 62").get("08")

    try:
        return VietQR(
            bank_bin=bank_bin,
            account=account,
            amount_vnd=amount_vnd,
            purpose=purpose,
            service=cast(Service, service),  # an unknown code is refused by VietQR itself
            merchant_name=top.get("59"),
            merchant_city=top.get("60"),
        )
    except ValueError as exc:
        raise InvalidPayload(f"payload: {exc}") from exc


def _render(payload: str, kind: str, scale: int) -> bytes:
    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    # Level M without boosting keeps the symbol as small as the spec's examples; a full QR (never
    # a Micro QR) because bank apps do not read Micro QR.
    code = segno.make(payload, error="m", boost_error=False, micro=False)
    out = io.BytesIO()
    code.save(out, kind=kind, scale=scale)
    return out.getvalue()


def qr_png(payload: str, scale: int = 8) -> bytes:
    """The payload as a PNG image, ``scale`` pixels per module, with the standard quiet zone."""
    return _render(payload, "png", scale)


def qr_svg(payload: str, scale: int = 8) -> bytes:
    """The payload as an SVG document (UTF-8 bytes), ``scale`` units per module."""
    return _render(payload, "svg", scale)
