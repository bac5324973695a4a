"""The page a slip's QR code opens: the dossier code is in the URL, the verifier never is.

A phone scanning the QR code can send neither a header nor a body, so the code alone opens a
small form; the citizen types the last four digits there and the page posts them to
``POST /v1/lookup`` as JSON. Nothing secret reaches a URL, so nothing secret reaches an access
log or a proxy's.
"""

from __future__ import annotations

import html
import json

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from intake_service.lookup.router import DossierCode
from shared.errors import PROBLEM_RESPONSES
from shared.http.commit import CommitRoute

router = APIRouter(
    prefix="/v1/lookup-page",
    tags=["lookup"],
    route_class=CommitRoute,
    responses=PROBLEM_RESPONSES,
)

_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Tra cứu hồ sơ {code_html}</title></head>
<body>
<h1>Tra cứu hồ sơ</h1>
<p>Mã hồ sơ: <strong>{code_html}</strong></p>
<form id="tra-cuu">
<label>4 số cuối số định danh / mã số thuế hoặc số điện thoại
<input name="verifier" inputmode="numeric" pattern="[0-9]{{4}}" maxlength="4" required
 autocomplete="off"></label>
<button type="submit">Tra cứu</button>
</form>
<pre id="ket-qua"></pre>
<script>
const code = {code_json};
document.getElementById("tra-cuu").addEventListener("submit", async (event) => {{
  event.preventDefault();
  const verifier = new FormData(event.target).get("verifier");
  const answer = await fetch("../lookup", {{
    method: "POST",
    headers: {{"Content-Type": "application/json"}},
    body: JSON.stringify({{code, verifier}}),
  }});
  const body = await answer.json();
  document.getElementById("ket-qua").textContent = answer.ok
    ? body.status_label_vi + "\\n" + JSON.stringify(body, null, 2)
    : (body.title_vi || body.title);
}});
</script>
</body></html>
"""


@router.get(
    "/{code}",
    response_class=HTMLResponse,
    summary="The lookup form a slip's QR code opens",
    description=(
        "Trang mở từ mã QR trên phiếu: chỉ có mã hồ sơ trên đường dẫn; người nộp nhập 4 số "
        "cuối vào biểu mẫu, trang gửi chúng đến `POST /v1/lookup` trong thân yêu cầu."
    ),
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
async def lookup_page(code: DossierCode) -> HTMLResponse:
    page = _PAGE.format(
        code_html=html.escape(code),
        # Inside a script element: JSON, with "<" escaped so no code can close the element.
        code_json=json.dumps(code).replace("<", "\\u003c"),
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
