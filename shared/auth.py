"""Bearer JWT verification, roles, and scoping to an administrative unit's subtree."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import ColumnElement, false, or_, true

from shared.errors import forbidden, unauthorized
from shared.settings import ServiceSettings


class Role(StrEnum):
    applicant = "applicant"
    receptionist = "receptionist"
    specialist = "specialist"
    approver = "approver"
    finance = "finance"
    supervisor = "supervisor"
    ops = "ops"
    integration = "integration"


ROLE_LABELS_VI = {
    Role.applicant: "người nộp hồ sơ",
    Role.receptionist: "cán bộ tiếp nhận",
    Role.specialist: "chuyên viên xử lý",
    Role.approver: "lãnh đạo phê duyệt",
    Role.finance: "cán bộ tài chính",
    Role.supervisor: "giám sát",
    Role.ops: "vận hành",
    Role.integration: "hệ thống tích hợp (LGSP/NGSP, bưu điện)",
}


@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[str]
    unit: str | None = None
    unit_path: str | None = None
    name: str | None = None

    def has_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    def covers(self, unit_path: str) -> bool:
        """True when ``unit_path`` is the principal's unit or lies below it; ops covers all."""
        if Role.ops in self.roles:
            return True
        if not self.unit_path:
            return False
        return unit_path == self.unit_path or unit_path.startswith(self.unit_path + ".")


class Authenticator:
    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None
        key = settings.jwt_public_key
        if not key and settings.jwt_public_key_file:
            key = Path(settings.jwt_public_key_file).read_text()
        self._key = key

    def verify(self, token: str) -> Principal:
        try:
            if self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
            elif self._key:
                key = self._key
            else:
                raise unauthorized("no token verification key is configured")
            claims = jwt.decode(
                token,
                key,
                algorithms=self._settings.jwt_algorithms,
                issuer=self._settings.jwt_issuer,
                audience=self._settings.jwt_audience,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": bool(self._settings.jwt_audience),
                },
            )
        except jwt.PyJWTError as exc:
            raise unauthorized(f"invalid token: {exc}") from exc
        roles = claims.get("roles") or []
        if isinstance(roles, str):
            roles = roles.split()
        return Principal(
            sub=str(claims["sub"]),
            roles=frozenset(str(r) for r in roles),
            unit=claims.get("unit"),
            unit_path=claims.get("unit_path"),
            name=claims.get("name"),
        )


_bearer = HTTPBearer(
    auto_error=False, description="JWT (RS256) có các claim sub, roles, unit, unit_path"
)


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("a bearer token is required")
    return request.app.state.authenticator.verify(credentials.credentials)


def require_roles(*roles: str) -> Callable[..., Principal]:
    def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.has_role(*roles):
            raise forbidden(f"requires one of the roles: {', '.join(roles)}")
        return principal

    return dependency


def unit_scope(column: Any, principal: Principal) -> ColumnElement[bool]:
    """Restrict a column holding a unit path to the principal's subtree."""
    if principal.has_role(Role.ops):
        return true()
    if not principal.unit_path:
        return false()
    return or_(
        column == principal.unit_path, column.startswith(principal.unit_path + ".", autoescape=True)
    )


def ensure_dev_keypair(directory: Path) -> tuple[Path, Path]:
    """A development RSA key pair, made once; production uses the identity provider's keys."""
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / "jwt-private.pem", directory / "jwt-public.pem"
    if not private.exists() or not public.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        tmp = directory / f".jwt-private.{os.getpid()}.tmp"
        tmp.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        tmp.chmod(0o600)
        public.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        tmp.replace(private)
    return private, public


def mint_token(
    private_key_pem: bytes | str,
    sub: str,
    roles: Iterable[str],
    unit: str | None = None,
    unit_path: str | None = None,
    name: str | None = None,
    ttl_s: int = 12 * 3600,
    issuer: str | None = None,
    audience: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    now = dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {
        "sub": sub,
        "roles": list(roles),
        "iat": now,
        "nbf": now - dt.timedelta(seconds=5),
        "exp": now + dt.timedelta(seconds=ttl_s),
    }
    for claim, value in (
        ("unit", unit),
        ("unit_path", unit_path),
        ("name", name),
        ("iss", issuer),
        ("aud", audience),
    ):
        if value is not None:
            claims[claim] = value
    claims.update(extra or {})
    return jwt.encode(claims, private_key_pem, algorithm="RS256")
