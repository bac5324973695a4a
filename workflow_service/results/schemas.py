"""Answers of the results API."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field


class VerificationOut(BaseModel):
    """Kết quả kiểm tra chữ ký số của một văn bản kết quả."""

    valid: bool = Field(description="hợp lệ: còn nguyên vẹn và do cơ quan được tin cậy ký")
    intact: bool = Field(description="toàn vẹn: không bị sửa đổi sau khi ký")
    trusted: bool = Field(description="chứng thư số của người ký do tổ chức tin cậy cấp")
    failure: str | None = Field(
        None,
        description=(
            "mã lý do không hợp lệ: not_pdf, unsigned, malformed_signature, tampered, "
            "modified_after_signing, revoked, untrusted"
        ),
    )
    reason: str | None = Field(None, description="lý do không hợp lệ (tiếng Anh)")
    reason_vi: str | None = Field(None, description="lý do không hợp lệ")
    signer_name: str | None = Field(None, description="tên cơ quan, người ký trên chứng thư số")
    signer_agency: str | None = Field(None, description="mã cơ quan ký (tổ chức trên chứng thư)")
    signed_at: dt.datetime | None = Field(None, description="thời điểm ký ghi trong chữ ký")
    signature_count: int = Field(description="số chữ ký trong văn bản")
    sha256: str = Field(description="mã băm SHA-256 của tệp được gửi lên")
    known_result: bool = Field(description="tệp trùng khớp một kết quả do hệ thống phát hành")
    case_id: uuid.UUID | None = Field(None, description="hồ sơ xử lý của kết quả, khi biết")
    dossier_code: str | None = Field(None, description="mã hồ sơ của kết quả, khi biết")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "valid": True,
                    "intact": True,
                    "trusted": True,
                    "failure": None,
                    "reason": None,
                    "reason_vi": None,
                    "signer_name": "Bộ phận Một cửa Phường Hoàn Kiếm",
                    "signer_agency": "motcua-00070",
                    "signed_at": "2026-03-12T10:00:00+07:00",
                    "signature_count": 1,
                    "sha256": "9f2c6a0e4b1d7c3e5a8f0b2d4c6e8a0b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f",
                    "known_result": True,
                    "case_id": "6f1c2b7e-3a4d-4e5f-8a9b-0c1d2e3f4a5b",
                    "dossier_code": "00070-260305-0001",
                },
                {
                    "valid": False,
                    "intact": False,
                    "trusted": True,
                    "failure": "tampered",
                    "reason": "The document was altered after signing: its hash does not "
                    "match the signature.",
                    "reason_vi": "Nội dung tài liệu đã bị thay đổi sau khi ký: mã băm không "
                    "khớp với chữ ký.",
                    "signer_name": "Bộ phận Một cửa Phường Hoàn Kiếm",
                    "signer_agency": "motcua-00070",
                    "signed_at": "2026-03-12T10:00:00+07:00",
                    "signature_count": 1,
                    "sha256": "0b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f9f2c6a0e4b1d7c3e5a8f0b2d4c6e8a",
                    "known_result": False,
                    "case_id": None,
                    "dossier_code": None,
                },
            ]
        }
    }
