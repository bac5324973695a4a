"""Satisfaction ratings (đánh giá mức độ hài lòng) of a dossier.

The scale, the same on every channel:
1 rất không hài lòng, 2 không hài lòng, 3 bình thường, 4 hài lòng, 5 rất hài lòng.
A rating of 4 or 5 counts as satisfied, for the "share satisfied" measure of Decision 766.
Each dossier may be rated once per channel: at or after online submission, by the QR code at the
desk, and through the province's satisfaction-survey system. The channels are
:class:`shared.vocabulary.RatingChannel`.
"""

from __future__ import annotations

MIN_SCORE = 1
MAX_SCORE = 5
SATISFIED_FROM = 4

SCORE_LABELS_VI = {
    1: "Rất không hài lòng",
    2: "Không hài lòng",
    3: "Bình thường",
    4: "Hài lòng",
    5: "Rất hài lòng",
}


def is_satisfied(score: int) -> bool:
    return score >= SATISFIED_FROM


def scale_description() -> str:
    """The scale as one line for the API docs."""
    return "; ".join(f"{s} {label.lower()}" for s, label in SCORE_LABELS_VI.items())
