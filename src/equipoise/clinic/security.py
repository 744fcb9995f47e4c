"""Passwords, tokens and permissions.

Passwords are hashed with argon2id. Session, set-up and self-report tokens are random and only
their SHA-256 digests are stored, so a copy of the database opens no session. Permissions come
from the user's role, then the user's own grants; an explicit deny always beats an allow.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("admin", "clinician", "nurse", "researcher")

# Permissions, "area:verb". Researchers see de-identified data only (research:read) and the
# aggregated outcome dashboard (outcomes:read).
PERMISSIONS = (
    "patients:read", "patients:write",
    "plans:read", "plans:write",
    "infusions:read", "infusions:write", "infusions:sign",
    "medications:read", "medications:write",
    "therapy:read", "therapy:write",
    "questionnaires:read", "questionnaires:write", "links:create",
    "research:read", "outcomes:read",
    "users:admin", "clinic:admin", "audit:read",
)
_CLINICAL_READ = ("patients:read", "plans:read", "infusions:read", "medications:read",
                  "therapy:read", "questionnaires:read", "outcomes:read")
ROLE_GRANTS: dict[str, frozenset[str]] = {
    "admin": frozenset({"users:admin", "clinic:admin", "audit:read", *_CLINICAL_READ}),
    "clinician": frozenset({*_CLINICAL_READ, "patients:write", "plans:write",
                            "infusions:write", "infusions:sign", "medications:write",
                            "therapy:write", "questionnaires:write", "links:create"}),
    "nurse": frozenset({*_CLINICAL_READ, "infusions:write", "infusions:sign",
                        "questionnaires:write", "links:create"}),
    "researcher": frozenset({"research:read", "outcomes:read"}),
}

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


# A real hash to verify against when the user does not exist, so timing does not tell.
_DUMMY = _hasher.hash(secrets.token_hex(16))


def burn_time(password: str) -> None:
    verify_password(_DUMMY, password)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


# A write answers with the record it wrote, so it also needs the area's read permission:
# a user denied reading patients cannot read them through a write's answer.
NEEDS_READ = {"patients:write": "patients:read", "plans:write": "plans:read",
              "infusions:write": "infusions:read", "infusions:sign": "infusions:read",
              "medications:write": "medications:read", "therapy:write": "therapy:read",
              "questionnaires:write": "questionnaires:read",
              "links:create": "questionnaires:read"}


def allowed(role: str, grants: Iterable[tuple[str, str]], permission: str) -> bool:
    """Whether ``permission`` is granted: a deny (role or user) beats every allow."""
    allows = set(ROLE_GRANTS.get(role, ()))
    denies: set[str] = set()
    for perm, effect in grants:
        (denies if effect == "deny" else allows).add(perm)
    needed = {permission, NEEDS_READ.get(permission, permission)}
    return not needed & denies and needed <= allows


PASSWORD_MIN = 12


def password_problem(password: str, username: str) -> str | None:
    """Why ``password`` is not acceptable, or None (ASVS 2.1: length over composition)."""
    if len(password) < PASSWORD_MIN:
        return f"must be at least {PASSWORD_MIN} characters"
    if len(password) > 128:
        return "must be at most 128 characters"
    if username and username.lower() in password.lower():
        return "must not contain the user name"
    return None
