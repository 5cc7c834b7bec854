"""Seed users' passwords: from the environment, or generated. A password is never written, logged or shown.

Where a password comes from, in order: the variable the user's `password_env` names, then
AMPFLOW_SEED_PASSWORD_<USERNAME> (upper case, other characters as `_`), else a generated one.
An existing user keeps the password they have unless `password_env` names a variable that is set.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any, Mapping

from ampflow_dagster.seeding.users import SeedUser

GENERATED_LENGTH = 24
SYMBOLS = "^$*.[]{}()?!@#%&/,><:;|_~=+-"  # Cognito's special characters, less quotes, backslash and space
RULES = (
    ("RequireLowercase", string.ascii_lowercase, "lower-case letter"),
    ("RequireUppercase", string.ascii_uppercase, "upper-case letter"),
    ("RequireNumbers", string.digits, "digit"),
    ("RequireSymbols", SYMBOLS + "\"'\\` ", "symbol"),
)


@dataclass(frozen=True)
class PasswordChoice:
    """A password and the variable it came from (None: generated). `repr` never shows the value."""

    value: str
    variable: str | None

    def __repr__(self) -> str:
        return f"PasswordChoice(variable={self.variable!r})"

    @property
    def generated(self) -> bool:
        return self.variable is None


def given_password(user: SeedUser, environ: Mapping[str, str], *, existing: bool) -> PasswordChoice | None:
    """The password the environment gives `user`, if any; an existing user's only from its `password_env`."""
    if user.password_env and environ.get(user.password_env):
        return PasswordChoice(environ[user.password_env], user.password_env)
    if not existing and environ.get(user.password_variable):
        return PasswordChoice(environ[user.password_variable], user.password_variable)
    return None


def generated_password(policy: Mapping[str, Any]) -> PasswordChoice:
    """A random password that meets `policy`: one of each character class, the rest from all of them."""
    length = max(GENERATED_LENGTH, int(policy.get("MinimumLength", 8)))
    classes = [string.ascii_lowercase, string.ascii_uppercase, string.digits, SYMBOLS]
    characters = [secrets.choice(chosen) for chosen in classes]
    alphabet = "".join(classes)
    characters += [secrets.choice(alphabet) for _ in range(length - len(characters))]
    secrets.SystemRandom().shuffle(characters)
    return PasswordChoice("".join(characters), None)


def password_problems(password: str, policy: Mapping[str, Any]) -> list[str]:
    """Which of the pool's rules `password` breaks, in words that never include it."""
    problems = []
    minimum = int(policy.get("MinimumLength", 8))
    if len(password) < minimum:
        problems.append(f"shorter than {minimum} characters")
    for rule, characters, wanted in RULES:
        if policy.get(rule) and not any(character in characters for character in password):
            problems.append(f"has no {wanted}")
    return problems


def policy_text(policy: Mapping[str, Any]) -> str:
    """The policy in words: "at least 8 characters, a lower-case letter, ..."."""
    return ", ".join([f"at least {policy.get('MinimumLength', 8)} characters"] + [f"one {wanted}" for rule, _, wanted in RULES if policy.get(rule)])
