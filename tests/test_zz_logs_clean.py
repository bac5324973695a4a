"""Every line the test session's stack logged (services, sandbox, access lines included) is
free of personal numbers and lookup credentials.

Named to run after every other test file of the session, so it reads what they made the
services log: the traceback of any error, every access line with its query string, every
event handled. It fails on a 12-digit ID number, a Vietnamese phone number, a lookup
verifier next to its name, and on any ID or phone number of a dossier the session created.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.stack import Stack

# Standing alone, as the mask in shared/observability.py judges them: not inside a hex id.
_ALONE = r"(?<![0-9A-Za-z]){}(?![0-9A-Za-z])"
PATTERNS = {
    "12-digit ID number": re.compile(_ALONE.format(r"\d{12}")),
    "phone number": re.compile(_ALONE.format(r"0[35789]\d{8}")),
    "+84 phone number": re.compile(r"\+84[\s.]?\d{9}(?!\d)"),
    "lookup verifier": re.compile(r"(?i)verifier[\"']?\s*[=:]\s*[\"']?\d{4}(?!\d)"),
}


def _session_lines(stack: Stack) -> list[tuple[Path, str]]:
    lines = []
    for path, offset in stack.log_files().items():
        if not path.exists():
            continue
        with path.open("rb") as f:
            f.seek(offset)
            for raw in f:
                lines.append((path, raw.decode("utf-8", "replace")))
    return lines


async def _personal_numbers(database_url: str) -> set[str]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "select applicant_id_number, applicant->>'phone', applicant->>'id_number'"
                    " from intake.dossiers"
                )
            )
            found = {value for row in rows for value in row if value}
    finally:
        await engine.dispose()
    return {n for n in found if len(re.sub(r"\D", "", n)) >= 9}


async def test_no_log_line_holds_an_id_number_a_phone_or_a_verifier(
    stack: Stack, database_url: str
) -> None:
    lines = _session_lines(stack)
    assert lines, "the stack wrote no log lines"
    assert any('"uvicorn.access"' in line for _, line in lines), "access lines are not logged"
    numbers = await _personal_numbers(database_url)
    offending = []
    for path, line in lines:
        hits = [name for name, pattern in PATTERNS.items() if pattern.search(line)]
        hits += ["a session dossier's number" for n in numbers if n in line]
        if hits:
            offending.append(f"{path.name}: {sorted(set(hits))}: {line[:300]}")
    assert not offending, f"{len(offending)} log lines hold personal data:\n" + "\n".join(
        offending[:20]
    )
