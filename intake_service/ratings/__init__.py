"""Satisfaction ratings (đánh giá mức độ hài lòng) of a dossier."""
