"""The gateway's pages, in Vietnamese as the customer sees them at VNPay."""

from __future__ import annotations

from html import escape

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f4f6f9;margin:0;padding:2rem;color:#1b2733}
main{max-width:34rem;margin:auto;background:#fff;border-radius:8px;padding:1.5rem 2rem;
box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;color:#005baa}
dt{font-weight:600;margin-top:.6rem}dd{margin:0}
.error{color:#b00020}
button{font-size:1rem;padding:.6rem 1.4rem;margin:1rem .5rem 0 0;border:0;border-radius:4px}
.pay{background:#005baa;color:#fff}.cancel{background:#ddd}
footer{margin-top:1.5rem;font-size:.8rem;color:#667}
"""

_FOOTER = "<footer>Môi trường thử nghiệm (sandbox): không có tiền thật nào được chuyển.</footer>"


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}{_FOOTER}</main></body></html>"
    )


def vnd(amount_x100: int) -> str:
    """10.000 VND as Vietnamese write it: dots between thousands."""
    return f"{amount_x100 // 100:,}".replace(",", ".") + " VND"


def pay_page(
    *,
    tmn_code: str,
    txn_ref: str,
    amount_x100: int,
    order_info: str,
    expire_date: str,
    status: str,
) -> str:
    rows = [
        ("Mã website (TmnCode)", tmn_code),
        ("Mã giao dịch của đơn vị (TxnRef)", txn_ref),
        ("Số tiền", vnd(amount_x100)),
        ("Nội dung thanh toán", order_info),
        ("Hạn thanh toán", _readable(expire_date)),
    ]
    details = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    if status == "presented":
        actions = (
            '<form method="post" action="/paymentv2/confirm">'
            f'<input type="hidden" name="tmn_code" value="{escape(tmn_code)}">'
            f'<input type="hidden" name="txn_ref" value="{escape(txn_ref)}">'
            '<button class="pay" name="action" value="pay">Thanh toán</button>'
            '<button class="cancel" name="action" value="cancel">Hủy giao dịch</button>'
            "</form>"
        )
    else:
        actions = '<p class="error">Giao dịch này đã được xử lý.</p>'
    return _page(
        "Cổng thanh toán VNPAY",
        f"<h1>Thanh toán qua cổng VNPAY</h1><dl>{details}</dl>{actions}",
    )


def error_page(code: str, message: str, details: list[str] | None = None) -> str:
    items = "".join(f"<li>{escape(d)}</li>" for d in details or [])
    return _page(
        "Thông báo lỗi — VNPAY",
        '<h1 class="error">Giao dịch không thành công</h1>'
        f"<p>Mã lỗi: <strong>{escape(code)}</strong></p><p>{escape(message)}</p>"
        + (f"<ul>{items}</ul>" if items else ""),
    )


def _readable(vnp_date: str) -> str:
    # yyyyMMddHHmmss → dd/MM/yyyy HH:mm:ss, the way the date reads on VNPay's page.
    if len(vnp_date) != 14:
        return vnp_date
    d = vnp_date
    return f"{d[6:8]}/{d[4:6]}/{d[0:4]} {d[8:10]}:{d[10:12]}:{d[12:14]} (GMT+7)"
