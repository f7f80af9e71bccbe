"""What an account's email and password must be: checked at sign-up and password change."""

from __future__ import annotations

import re

from hangar.errors import InvalidInput

MIN_PASSWORD = 10
MAX_PASSWORD = 256
MAX_EMAIL = 254
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = re.compile(rf"^[a-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$")
# The most used passwords of at least MIN_PASSWORD characters: refused outright.
COMMON = frozenset(
    {
        "1234567890",
        "0123456789",
        "0987654321",
        "1111111111",
        "qwertyuiop",
        "password12",
        "password123",
        "iloveyou12",
        "1q2w3e4r5t",
        "qwerty1234",
        "1qaz2wsx3edc",
        "passw0rd12",
        "abcdefghij",
        "aaaaaaaaaa",
        "letmein123",
        "welcome123",
        "administrator",
        "changeme123",
    }
)


def normal_email(email: str) -> str:
    """The email as stored: trimmed, lower case; InvalidInput if it is not an address."""
    normal = email.strip().lower()
    if len(normal) > MAX_EMAIL or not _EMAIL.match(normal):
        shown = normal if len(normal) <= 64 else normal[:64] + "…"
        raise InvalidInput(
            f"{shown!r} is not an email address",
            hint="use an address with a domain, like name@example.com",
        )
    return normal


def check_password(password: str, email: str) -> None:
    """InvalidInput (never echoing the password) unless it is long and not trivially guessed."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            "the password is too short", hint=f"use at least {MIN_PASSWORD} characters"
        )
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(
            "the password is too long", hint=f"use at most {MAX_PASSWORD} characters"
        )
    stripped = password.strip()
    weak = (
        len(stripped) < MIN_PASSWORD
        or len(set(password)) < 4
        or password.lower() in COMMON
        or password.lower() in (email, email.split("@")[0])
    )
    if weak:
        raise InvalidInput(
            "the password is too easy to guess",
            hint="use a passphrase of several words, not spaces, repeats or your email",
        )
