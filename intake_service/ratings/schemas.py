"""Bodies of satisfaction ratings (đánh giá mức độ hài lòng)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from intake_service.domain.ratings import MAX_SCORE, MIN_SCORE, scale_description
from intake_service.domain.verifier import VERIFIER_PATTERN
from shared.vocabulary import RatingChannel

Score = Field(ge=MIN_SCORE, le=MAX_SCORE, description="điểm: " + scale_description())
Comment = Field(None, max_length=2000, description="ý kiến góp ý")


class RatingCreate(BaseModel):
    """Đánh giá một hồ sơ qua một kênh."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "channel": "qr",
                    "score": 5,
                    "comment": "Cán bộ hướng dẫn tận tình",
                    "verifier": "2345",
                },
                {"channel": "online", "score": 4},
            ]
        },
    )

    channel: RatingChannel = Field(
        description="kênh đánh giá: online (người nộp, đăng nhập), qr (mã QR tại quầy, không đăng "
        "nhập, cần 4 số xác minh như tra cứu), survey (hệ thống khảo sát, vai trò integration)"
    )
    score: int = Score
    comment: str | None = Comment
    verifier: str | None = Field(
        None,
        pattern=VERIFIER_PATTERN,
        description="4 số cuối CCCD / mã số thuế hoặc số điện thoại người nộp (bắt buộc với qr)",
    )

    @model_validator(mode="after")
    def _verifier_for_qr(self) -> RatingCreate:
        if self.channel == RatingChannel.qr and self.verifier is None:
            raise ValueError("a QR rating needs the verifier (the last four digits)")
        return self


class RatingOut(BaseModel):
    dossier_code: str = Field(description="mã hồ sơ")
    channel: RatingChannel
    channel_label_vi: str
    score: int
    score_label_vi: str = Field(examples=["Rất hài lòng"])
    satisfied: bool = Field(description="hài lòng (điểm 4 hoặc 5)")
    comment: str | None
    rated_at: dt.datetime


class SurveyRatingItem(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    dossier_code: str = Field(min_length=1, max_length=40, description="mã hồ sơ")
    score: int = Score
    comment: str | None = Comment


class SurveyImport(BaseModel):
    """Một lô kết quả từ hệ thống khảo sát mức độ hài lòng."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {"dossier_code": "000.70.01.H01-250115-0001", "score": 5},
                        {
                            "dossier_code": "000.70.01.H01-250115-0002",
                            "score": 2,
                            "comment": "Phải chờ lâu tại quầy",
                        },
                    ]
                }
            ]
        },
    )

    items: list[SurveyRatingItem] = Field(min_length=1, max_length=500)


class ItemProblem(BaseModel):
    type: str
    status: int
    title: str
    title_vi: str
    detail: str | None = None
    detail_vi: str | None = None


class SurveyImportResult(BaseModel):
    index: int = Field(description="vị trí trong lô, từ 0")
    dossier_code: str
    outcome: Literal["accepted", "rejected"]
    rating: RatingOut | None = None
    problem: ItemProblem | None = None


class SurveyImportOut(BaseModel):
    accepted: int
    rejected: int
    results: list[SurveyImportResult]
