"""Log lines never carry a citizen's ID number or phone number whole, and the pseudonym that
stands for an applicant cannot be turned back into the number."""

from __future__ import annotations

from shared.observability import mask_personal_numbers


def test_id_numbers_and_phones_in_any_field_are_masked() -> None:
    event = {
        "event": '127.0.0.1:5 - "GET /v1/applicants/001090012345/documents HTTP/1.1" 401',
        "note": "gọi 0912345678",
        "old_id": "123456789",
        "lookup": '"GET /v1/lookup/00070-261203-0001?verifier=2345&x=1 HTTP/1.1" 200',
    }
    masked = mask_personal_numbers(None, "info", dict(event))
    assert "001090012345" not in masked["event"] and "001******345" in masked["event"]
    assert masked["note"] == "gọi 091****678"
    assert masked["old_id"] == "123***789"
    assert "2345" not in masked["lookup"] and "verifier=***&x=1" in masked["lookup"]


def test_codes_amounts_and_instants_are_left_alone() -> None:
    text = "dossier 00070-261203-0001 paid 1250000 VND at 20261203090500, txn 14000123"
    assert mask_personal_numbers(None, "info", {"event": text})["event"] == text


def test_the_applicant_pseudonym_is_keyed_so_it_cannot_be_guessed_back() -> None:
    from shared.auth import applicant_ref

    one, other = applicant_ref("001090012345", "key-a"), applicant_ref("001090012345", "key-b")
    assert one and other and one != other
    assert applicant_ref("001090012345", "key-a") == one
    assert "001090012345" not in one and applicant_ref(None, "key-a") is None
