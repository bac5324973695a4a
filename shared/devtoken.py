"""Print a development bearer token signed with the local key pair.

    python -m shared.devtoken --roles receptionist,specialist --unit 17557 \\
        --unit-path 40.412.17557 --sub cb.tiepnhan --keys-dir .data/keys

The key pair is created when missing; services started with ``JWT_PUBLIC_KEY_FILE``
pointing at ``jwt-public.pem`` in the same folder accept the token.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from shared.auth import ROLES, Role, ensure_dev_keypair, mint_token

DEFAULT_KEYS_DIR = Path(".data/keys")


def _roles(value: str) -> list[str]:
    roles = [r.strip() for r in value.split(",") if r.strip()]
    unknown = [r for r in roles if r not in set(Role)]
    if unknown or not roles:
        known = ", ".join(f"{role} ({label})" for role, label in ROLES.items())
        raise argparse.ArgumentTypeError(
            f"unknown role(s) {', '.join(unknown) or '(none given)'}; known: {known}"
        )
    return roles


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m shared.devtoken",
        description="Print a development JWT (RS256) for calling the services.",
    )
    parser.add_argument(
        "--roles",
        type=_roles,
        required=True,
        help="comma-separated roles: " + ", ".join(Role),
    )
    parser.add_argument("--sub", default="dev.user", help="subject (user name)")
    parser.add_argument("--unit", help="unit code of the officer, e.g. 17557")
    parser.add_argument(
        "--unit-path", help="unit codes from the province down, joined by dots, e.g. 40.412.17557"
    )
    parser.add_argument("--name", help="display name, e.g. 'Nguyễn Văn An'")
    parser.add_argument(
        "--agency", help="agency code the officer belongs to, e.g. motcua-00070 (agency claim)"
    )
    parser.add_argument(
        "--ttl", type=int, default=12 * 3600, help="lifetime in seconds (default 12 h)"
    )
    parser.add_argument("--issuer", help="iss claim, when the services check it")
    parser.add_argument("--audience", help="aud claim, when the services check it")
    parser.add_argument(
        "--keys-dir",
        type=Path,
        default=DEFAULT_KEYS_DIR,
        help=f"folder of jwt-private.pem / jwt-public.pem (default {DEFAULT_KEYS_DIR})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    private, _public = ensure_dev_keypair(args.keys_dir)
    token = mint_token(
        private.read_bytes(),
        sub=args.sub,
        roles=args.roles,
        unit=args.unit,
        unit_path=args.unit_path,
        name=args.name,
        agency=args.agency,
        ttl_s=args.ttl,
        issuer=args.issuer,
        audience=args.audience,
    )
    sys.stdout.write(token + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
