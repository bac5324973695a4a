"""Public dossier codes: unit code, receipt date, then a tail nobody can guess
(e.g. ``00070-261122-K7QD-M2X9``).

The code is half of the public lookup's credential, so the tail must not be a counter: with
``…-0042`` on one slip, ``…-0041`` and ``…-0043`` were the neighbours' dossiers, and ten wrong
guesses of their four digits could be spent on each. The tail is 24 random bits beside the low
16 bits of the unit's daily sequence (so two codes of one unit and day never collide unless a unit
receives more than 65 536 dossiers in a day *and* the random bits agree), written in Crockford's
base 32: no I, L, O or U to misread on paper. Codes issued before keep working: a code is only
ever compared whole.
"""

from __future__ import annotations

import datetime as dt
import secrets

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 24
_SEQUENCE_BITS = 16


def _base32(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def dossier_tail(sequence: int, random_bits: int | None = None) -> str:
    """Eight characters (``K7QD-M2X9``) mixing fresh randomness with the sequence."""
    noise = secrets.randbits(_RANDOM_BITS) if random_bits is None else random_bits
    value = (noise << _SEQUENCE_BITS) | (sequence & ((1 << _SEQUENCE_BITS) - 1))
    # The random bits lead, so consecutive sequences do not share a visible prefix.
    text = _base32(value, 8)
    return f"{text[:4]}-{text[4:]}"


def dossier_code(unit_code: str, day: dt.date, sequence: int) -> str:
    return f"{unit_code}-{day:%y%m%d}-{dossier_tail(sequence)}"
