"""Signed result documents: render the result of a case, sign it with the agency's key (PAdES),
and verify a signed copy. A development CA stands in for a real one on the embedded stack."""

from workflow_service.signing.dev_pki import Credential, DevelopmentPki, InvalidAgencyCode
from workflow_service.signing.result_pdf import ResultDocument, render_result_pdf, result_document
from workflow_service.signing.signer import (
    RESULT_SIGNATURE_FIELD,
    AgencySigner,
    SignerMaterialInvalid,
    SigningFailed,
    async_sign_pdf,
    sign_pdf,
)
from workflow_service.signing.verify import (
    OFFLINE,
    Failure,
    RevocationPolicy,
    Verification,
    async_verify_pdf,
    verify_pdf,
)

__all__ = [
    "OFFLINE",
    "RESULT_SIGNATURE_FIELD",
    "AgencySigner",
    "Credential",
    "DevelopmentPki",
    "Failure",
    "InvalidAgencyCode",
    "ResultDocument",
    "RevocationPolicy",
    "SignerMaterialInvalid",
    "SigningFailed",
    "Verification",
    "async_sign_pdf",
    "async_verify_pdf",
    "render_result_pdf",
    "result_document",
    "sign_pdf",
    "verify_pdf",
]
