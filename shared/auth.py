"""Bearer JWT verification, roles, and scoping to an administrative unit's subtree.

Officers sign in at the province's identity provider; a service only verifies the token it is
handed. The claims that matter here are ``sub``, ``roles``, ``unit`` (the officer's unit code)
and ``unit_path`` (unit codes from the province down, joined by dots, e.g. ``40.412.17557``),
which decides whose dossiers an officer may see.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import jwt
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import forbidden, unauthorized
from shared.settings import ServiceSettings

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

log = structlog.get_logger(__name__)


class Role(StrEnum):
    applicant = "applicant"
    receptionist = "receptionist"
    specialist = "specialist"
    approver = "approver"
    finance = "finance"
    supervisor = "supervisor"
    ops = "ops"
    integration = "integration"


ROLES: dict[Role, str] = {
    Role.applicant: "người nộp hồ sơ",
    Role.receptionist: "cán bộ tiếp nhận",
    Role.specialist: "chuyên viên xử lý",
    Role.approver: "lãnh đạo phê duyệt",
    Role.finance: "cán bộ tài chính",
    Role.supervisor: "giám sát",
    Role.ops: "vận hành",
    Role.integration: "hệ thống tích hợp (LGSP/NGSP, bưu điện)",
}
ROLE_LABELS_VI = ROLES

# The roles whose authority is an administrative unit's subtree. An applicant's authority is
# their own person (the verified ``sub``), so unit claims on a citizen's token count for nothing:
# a portal that copies the citizen's residence into ``unit_path`` must not open that subtree.
UNIT_SCOPED_ROLES = frozenset(Role) - {Role.applicant}


@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[str]
    unit: str | None = None
    unit_path: str | None = None
    name: str | None = None
    # The agency code (``agency`` claim) the identity provider places an officer in; workflow
    # adds the memberships ops keep, so an officer may belong to more than one agency.
    agency: str | None = None
    # The pseudonym of an applicant's ID number (``applicant_ref``), for services that know
    # applicants only by it.
    applicant_ref: str | None = None

    def has_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    def covers(self, unit_path: str) -> bool:
        """True when ``unit_path`` is the principal's unit or lies below it; ops covers all, an
        applicant (no unit-scoped role) nothing."""
        if Role.ops in self.roles:
            return True
        if not self.unit_path or not self.has_role(*UNIT_SCOPED_ROLES):
            return False
        return unit_path == self.unit_path or unit_path.startswith(self.unit_path + ".")


# A token whose header names an algorithm of another key family must fail as a bad token; PyJWT
# would raise TypeError for it, so each key is paired with the algorithms it can verify.
_ALGORITHM_PREFIXES: tuple[tuple[type, tuple[str, ...]], ...] = (
    (rsa.RSAPublicKey, ("RS", "PS")),
    (ec.EllipticCurvePublicKey, ("ES",)),
    (ed25519.Ed25519PublicKey, ("EdDSA",)),
)


def _algorithms_for(key: object, configured: Iterable[str]) -> list[str]:
    for key_type, prefixes in _ALGORITHM_PREFIXES:
        if isinstance(key, key_type):
            return [a for a in configured if a.startswith(prefixes)]
    return []


# Tokens whose verification is remembered; a desk's officers and the systems calling in hold a
# few hundred live tokens at most, so this bounds memory without losing hits.
VERIFIED_TOKENS_CACHED = 4096


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    expires_at: float
    not_before: float | None


class Authenticator:
    """Verifies bearer tokens, remembering the ones that verified.

    Why remembering is safe: a JWT is immutable, and whether its signature, issuer, audience and
    required claims check out is a function of its exact bytes and of the key; with a key fixed
    for the process's life (a configured public key), the same string verifies the same way
    every time, so the principal derived from it can be reused. Only the time-bound claims change
    their answer as time passes, so ``exp`` and ``nbf`` are checked again on every hit, without
    leeway, as PyJWT checks them (an expired token is dropped and verified afresh, which refuses
    it). The key is the whole token string: a token differing in any byte, a tampered signature
    included, is a different key and goes through full verification. Keys fetched from a JWKS
    can be rotated or withdrawn, so tokens checked against one are never remembered. A token that
    failed is never remembered either.
    """

    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings
        self._verified: OrderedDict[str, _Verified] = OrderedDict()
        # Sync dependencies may verify from the threadpool; the cache is shared with the loop.
        self._verified_lock = threading.Lock()
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None
        pem = settings.jwt_public_key
        if not pem and settings.jwt_public_key_file:
            pem = Path(settings.jwt_public_key_file).read_text()
        # Parsed once: loading a PEM on every request costs more than verifying the signature.
        self._key = serialization.load_pem_public_key(pem.encode()) if pem else None
        self._key_algorithms = (
            _algorithms_for(self._key, settings.jwt_algorithms) if self._key is not None else []
        )
        if self._jwks is None and self._key is None:
            log.warning("no JWT key or JWKS URL configured; every bearer token will be refused")

    def verify(self, token: str) -> Principal:
        """The token's principal, or a 401 problem for any token that is not valid now."""
        if not token:
            raise unauthorized("a bearer token is required")
        with self._verified_lock:
            remembered = self._verified.get(token)
            if remembered is not None:
                now = time.time()
                # PyJWT's own tests, with no leeway: expired once ``exp <= now``, not yet valid
                # while ``nbf > now``.
                if remembered.expires_at > now and (
                    remembered.not_before is None or remembered.not_before <= now
                ):
                    self._verified.move_to_end(token)
                    return remembered.principal
                del self._verified[token]
        principal, claims = self._verify_fully(token)
        if self._jwks is None:
            self._remember(token, principal, claims)
        return principal

    async def verify_on_loop(self, token: str) -> Principal:
        """:meth:`verify` for a coroutine. Against a fixed key it runs inline (microseconds from
        the cache, a signature check otherwise); against a JWKS it runs in the threadpool, since
        PyJWT fetches a key set it lacks or holds expired with blocking I/O, which would stall
        every request, the relay and the consumer's heartbeats while the provider answers."""
        if self._jwks is None:
            return self.verify(token)
        return await run_in_threadpool(self.verify, token)

    def _remember(self, token: str, principal: Principal, claims: dict[str, Any]) -> None:
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, int | float) or not isinstance(nbf, int | float | None):
            return
        with self._verified_lock:
            self._verified[token] = _Verified(
                principal, float(int(exp)), None if nbf is None else float(int(nbf))
            )
            self._verified.move_to_end(token)
            while len(self._verified) > VERIFIED_TOKENS_CACHED:
                self._verified.popitem(last=False)

    def _verify_fully(self, token: str) -> tuple[Principal, dict[str, Any]]:
        try:
            if self._jwks is not None:
                signing_key = self._jwks.get_signing_key_from_jwt(token)
                key: Any = signing_key.key
                algorithms = [
                    a for a in self._settings.jwt_algorithms if a == signing_key.algorithm_name
                ]
            elif self._key is not None:
                key, algorithms = self._key, self._key_algorithms
            else:
                raise unauthorized("no token verification key is configured")
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                issuer=self._settings.jwt_issuer,
                audience=self._settings.jwt_audience,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": bool(self._settings.jwt_audience),
                },
            )
        except jwt.PyJWTError as exc:
            raise unauthorized(f"invalid token: {exc}") from exc
        except (TypeError, ValueError) as exc:
            # Key and token that do not fit each other; the token is the caller's problem.
            raise unauthorized("invalid token: unusable key or algorithm") from exc
        principal = _principal(claims)
        if not principal.has_role(*UNIT_SCOPED_ROLES):
            # Dropped here as well as ignored by ``covers``/``unit_scope``, so no code that reads
            # the principal's unit (an action log's unit, a cash drawer's) takes it from a citizen.
            principal = dataclasses.replace(principal, unit=None, unit_path=None)
        if Role.applicant in principal.roles:
            key = self._settings.applicant_ref_key.get_secret_value()
            principal = dataclasses.replace(
                principal, applicant_ref=applicant_ref(principal.sub, key)
            )
        return principal, claims


def _principal(claims: dict[str, Any]) -> Principal:
    roles = claims.get("roles") or []
    if isinstance(roles, str):
        roles = roles.split()
    if not isinstance(roles, list | tuple) or not all(isinstance(r, str) for r in roles):
        raise unauthorized("invalid token: roles must be a list of strings")
    optional: dict[str, str | None] = {}
    for claim in ("unit", "unit_path", "name", "agency"):
        value = claims.get(claim)
        if value is not None and not isinstance(value, str | int):
            raise unauthorized(f"invalid token: {claim} must be a string")
        optional[claim] = None if value is None else str(value)
    return Principal(sub=str(claims["sub"]), roles=frozenset(roles), **optional)


_bearer = HTTPBearer(
    auto_error=False,
    description="JWT (RS256) có các claim sub, roles, unit (mã đơn vị), unit_path (đường dẫn đơn vị)",
)


# For a dependency that gathers the caller with other things in one step; it must depend on
# this scheme, so the route's OpenAPI operation still names the bearer requirement.
bearer_scheme = _bearer
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def principal_of(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """The caller the bearer credentials name, verified by ``app.state.authenticator``."""
    if credentials is None:
        raise unauthorized("a bearer token is required")
    authenticator: Authenticator = request.app.state.authenticator
    return await authenticator.verify_on_loop(credentials.credentials)


async def current_principal(request: Request, credentials: Bearer) -> Principal:
    """The caller, from ``Authorization: Bearer …``, verified by ``app.state.authenticator``."""
    return await principal_of(request, credentials)


def ensure_roles(principal: Principal, *roles: str) -> None:
    """A 403 problem unless the caller holds one of ``roles``: the check a service makes."""
    if not principal.has_role(*roles):
        raise forbidden(f"requires one of the roles: {', '.join(roles)}")


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency giving the caller when they hold one of ``roles``, else a 403 problem."""
    unknown = set(roles) - set(Role)
    if unknown:
        # A misspelt role would lock everyone out of a route without any other sign.
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    # Async, as every dependency on the request path: a sync one runs in the threadpool, a
    # thread hop per request for a check that takes microseconds.
    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        ensure_roles(principal, *roles)
        return principal

    return dependency


def applicant_ref(id_number: str | None, key: str) -> str | None:
    """A stable pseudonym of an applicant's ID number, for services that must recognise the
    applicant (an applicant's token carries the number as ``sub``) but never hold the number.
    Keyed (HMAC-SHA256): ID numbers are few enough to be guessed back from a plain hash."""
    if not id_number:
        return None
    return hmac.new(
        key.encode(), f"motcua-applicant:{id_number}".encode(), hashlib.sha256
    ).hexdigest()


def unit_scope(column: Any, principal: Principal) -> ColumnElement[bool]:
    """Restrict a column holding a unit path to the principal's subtree (ops: everything; a
    principal with no unit-scoped role, such as an applicant: nothing)."""
    # Imported here so domain code may use Principal without pulling in SQLAlchemy.
    from sqlalchemy import false, or_, true

    if principal.has_role(Role.ops):
        return true()
    if not principal.unit_path or not principal.has_role(*UNIT_SCOPED_ROLES):
        return false()
    return or_(
        column == principal.unit_path,
        column.startswith(principal.unit_path + ".", autoescape=True),
    )


def ensure_dev_keypair(directory: Path) -> tuple[Path, Path]:
    """A development RSA key pair, made once; production uses the identity provider's keys.

    Several service processes may start at once: the private key is created with an atomic
    create-if-absent, and the public key is always derived from whichever private key won.
    """
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / "jwt-private.pem", directory / "jwt-public.pem"
    if not private.exists():
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
        try:
            os.link(tmp, private)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    private_key = serialization.load_pem_private_key(private.read_bytes(), password=None)
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if not public.exists() or public.read_bytes() != public_pem:
        tmp = directory / f".jwt-public.{os.getpid()}.tmp"
        tmp.write_bytes(public_pem)
        tmp.replace(public)
    return private, public


def ensure_dev_secret(path: Path) -> str:
    """A random development secret kept in ``path``, made once (atomically, as the key pair)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def mint_token(
    private_key_pem: bytes | str,
    sub: str,
    roles: Iterable[str],
    unit: str | None = None,
    unit_path: str | None = None,
    name: str | None = None,
    ttl_s: int = 12 * 3600,
    agency: str | None = None,
    issuer: str | None = None,
    audience: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """An RS256 token as the identity provider would issue it, for development and tests."""
    now = dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {
        "sub": sub,
        "roles": list(roles),
        "iat": now,
        # A little slack, so a token used at once by another process with a clock a moment
        # behind is not "not yet valid".
        "nbf": now - dt.timedelta(seconds=5),
        "exp": now + dt.timedelta(seconds=ttl_s),
    }
    for claim, value in (
        ("unit", unit),
        ("unit_path", unit_path),
        ("agency", agency),
        ("name", name),
        ("iss", issuer),
        ("aud", audience),
    ):
        if value is not None:
            claims[claim] = value
    claims.update(extra or {})
    return jwt.encode(claims, private_key_pem, algorithm="RS256")
