"""Topic names: one per publishing service and aggregate, versioned in the name."""

CATALOGUE = "intake.catalogue.v1"
DOSSIERS = "intake.dossiers.v1"
CASES = "workflow.cases.v1"
PAYMENTS = "payment.payments.v1"

ALL_TOPICS = (CATALOGUE, DOSSIERS, CASES, PAYMENTS)
# Compacted topics keep only the newest message per key (the current catalogue entry).
COMPACTED_TOPICS = frozenset({CATALOGUE})


def dead_letter_topic(group_id: str) -> str:
    return f"{group_id}.dlq"
