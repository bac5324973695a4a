"""Who may do what with money, as data: checked in the service layer, rendered in the docs.

Officers act within their unit's subtree (the token's ``unit_path``); an applicant only on
their own dossiers (their verified ID number, matched through ``applicant_ref``).
"""

from __future__ import annotations

from enum import StrEnum

from shared.auth import Role


class Act(StrEnum):
    view = "view"
    pay_online = "pay_online"
    record_cash = "record_cash"
    void = "void"
    close_cash_desk = "close_cash_desk"
    refund = "refund"
    manage_receipts = "manage_receipts"
    resolve_exception = "resolve_exception"
    reconcile = "reconcile"


OFFICERS = frozenset({Role.receptionist, Role.finance, Role.supervisor, Role.ops})

ALLOWED: dict[Act, frozenset[str]] = {
    Act.view: OFFICERS | {Role.applicant},
    # An officer may start an online payment at the desk for a citizen who asks for help.
    Act.pay_online: frozenset({Role.applicant, Role.receptionist, Role.finance}),
    Act.record_cash: frozenset({Role.receptionist, Role.finance}),
    Act.void: frozenset({Role.finance, Role.supervisor}),
    Act.close_cash_desk: frozenset({Role.receptionist, Role.finance}),
    Act.refund: frozenset({Role.finance}),
    Act.manage_receipts: frozenset({Role.finance, Role.ops}),
    # Ops too: a credit no agency can be placed for is visible to ops alone.
    Act.resolve_exception: frozenset({Role.finance, Role.ops}),
    Act.reconcile: frozenset({Role.finance, Role.ops}),
}

DESCRIPTIONS_VI: dict[Act, str] = {
    Act.view: "xem yêu cầu thanh toán, giao dịch, biên lai",
    Act.pay_online: "thanh toán trực tuyến (cổng thanh toán, VietQR)",
    Act.record_cash: "thu tiền mặt tại quầy, ghi nhận nộp hộ",
    Act.void: "hủy giao dịch thu nhầm (người thứ hai)",
    Act.close_cash_desk: "chốt quỹ tiền mặt trong ngày",
    Act.refund: "hoàn tiền",
    Act.manage_receipts: "đăng ký dải số biên lai, hủy biên lai",
    Act.resolve_exception: "xử lý giao dịch ngoại lệ",
    Act.reconcile: "đối soát với cổng thanh toán, ngân hàng",
}


def roles_for(act: Act) -> frozenset[str]:
    return ALLOWED[act]


def markdown_table() -> str:
    rows = ["| act | roles |", "|---|---|"]
    for act, roles in ALLOWED.items():
        rows.append(f"| {act} ({DESCRIPTIONS_VI[act]}) | {', '.join(sorted(roles))} |")
    return "\n".join(rows)
