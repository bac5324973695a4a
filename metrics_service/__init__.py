"""Metrics (chỉ số): per-dossier facts, counters by unit × period × procedure × channel, ratios."""
