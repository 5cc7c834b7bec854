"""An environment's seed users: `seed_data/<env>/users.jsonl`, validated against the app's user pool.

One JSON object a line:
`{"username": "alice", "email": "alice@example.com", "attributes": {"given_name": "Alice", "custom:plan": "pro"},
"groups": ["ADMINS"], "password_env": "ALICE_PASSWORD"}`. Only `username` is required, unless the
pool signs users in with their email (then `email` is) or needs other attributes. `username` is how
seed items name the user (`{"user": "alice"}`) and where the password variable's name comes from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ampflow_dagster.environments import Environment
from ampflow_dagster.errors import SeedError
from ampflow_dagster.fingerprint import DigestCache
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.seed_files import SEED_SUFFIXES, USERS_DATASET, fingerprint_of, read_records, seed_files
from ampflow_dagster.seeding.validation import EMAIL
from ampflow_dagster.synthesis.desired_state import UserPoolSpec

USER_FIELDS = ("username", "email", "attributes", "groups", "password_env")
USERNAME = re.compile(r"^[^\s]{1,128}$")  # Cognito: up to 128 characters, no whitespace
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PASSWORD_VARIABLE_PREFIX = "AMPFLOW_SEED_PASSWORD_"
NOT_SETTABLE = ("sub", "email_verified", "phone_number_verified", "updated_at")  # Cognito or ampflow sets them
PHONE_NUMBER = re.compile(r"^\+[0-9]{4,15}$")  # Cognito's E.164 form


@dataclass(frozen=True)
class SeedUser:
    username: str
    where: str  # file:line
    email: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    groups: tuple[str, ...] = ()
    password_env: str | None = None

    def sign_in_name(self, pool: UserPoolSpec) -> str:
        """What Cognito knows the user by: their email or phone number when the pool signs in with it, else the username."""
        if "email" in pool.username_attributes and self.email:
            return self.email
        if "phone_number" in pool.username_attributes and self.attributes.get("phone_number"):
            return self.attributes["phone_number"]
        return self.username

    def cognito_attributes(self) -> dict[str, str]:
        """The attributes the user must have: the file's, with the email (verified, so sign-in and recovery work)."""
        attributes = dict(self.attributes)
        if self.email:
            attributes["email"] = self.email
            attributes["email_verified"] = "true"
        if "phone_number" in attributes:
            attributes["phone_number_verified"] = "true"
        return attributes

    @property
    def password_variable(self) -> str:
        """The variable read for the password when `password_env` is not given or not set."""
        return PASSWORD_VARIABLE_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", self.username).upper()


@dataclass(frozen=True)
class SeedUsers:
    """An environment's validated users file."""

    environment: Environment
    files: list[Path]
    users: list[SeedUser]

    def fingerprint(self, cache: DigestCache | None = None) -> str:
        return fingerprint_of(self.files, cache)

    def by_username(self) -> dict[str, SeedUser]:
        return {user.username: user for user in self.users}


def users_files(project: Project, environment: str) -> list[Path]:
    return seed_files(project, environment, USERS_DATASET)


def has_users(project: Project) -> bool:
    """Whether some environment has a users file."""
    return project.seed_dir.is_dir() and any(
        path.is_file() for suffix in SEED_SUFFIXES for path in project.seed_dir.glob(f"*/{USERS_DATASET}{suffix}")
    )


def load_seed_users(project: Project, environment: Environment, pool: UserPoolSpec | None) -> SeedUsers:
    """Every user of the environment's users file; one SeedError with every problem, before anything is written."""
    files = users_files(project, environment.name)
    users, problems = check_users(files, pool)
    if files and pool is None:
        problems.insert(0, f"{files[0]}: the backend declares no user pool (no defineAuth in amplify/backend.ts)")
    if problems:
        raise SeedError(
            f"{len(problems)} problem(s) in the users of environment '{environment.name}'; nothing was written:\n"
            + "\n".join(f"  {problem}" for problem in problems),
            f"Fix {', '.join(str(path) for path in files)} at the lines above (fields: {', '.join(USER_FIELDS)}; "
            "groups and custom attributes are those defineAuth declares in amplify/auth/resource.ts), then seed again.",
        )
    return SeedUsers(environment, files, users)


@dataclass(frozen=True)
class KnownUsers:
    """The usernames an environment's users file declares (`names` None without a file): what seed items may name."""

    file: str
    names: frozenset[str] | None


def known_users(project: Project, environment: str) -> KnownUsers:
    files = users_files(project, environment)
    file = str(files[0] if files else project.seed_folder(environment) / f"{USERS_DATASET}.jsonl")
    if not files:
        return KnownUsers(file, None)
    return KnownUsers(file, frozenset(values["username"] for _, values in _records(files, []) if isinstance(values.get("username"), str)))


def check_users(files: list[Path], pool: UserPoolSpec | None) -> tuple[list[SeedUser], list[str]]:
    """The users of `files` and every problem with them (file:line: field: what is wrong, what to do)."""
    problems: list[str] = []
    users: list[SeedUser] = []
    first_seen: dict[str, str] = {}  # username (case-folded unless the pool is case-sensitive) -> where
    signing_in: dict[str, str] = {}  # sign-in name (email or phone) -> username
    for where, values in _records(files, problems):
        found = [f"{where}: {problem}" for problem in user_problems(values, pool)]
        problems.extend(found)
        if found:
            continue
        user = _user(where, values)
        key = user.username if pool is None or pool.case_sensitive_usernames else user.username.lower()
        if key in first_seen:
            problems.append(f"{where}: username '{user.username}' is already a user of this file (first at {first_seen[key]}); give each user once")
            continue
        first_seen[key] = where
        sign_in = user.sign_in_name(pool).lower() if pool is not None and pool.username_attributes else None
        if sign_in is not None and sign_in in signing_in:
            problems.append(f"{where}: '{user.username}' signs in as {user.sign_in_name(pool)}, as '{signing_in[sign_in]}' does; give each user its own")
            continue
        if sign_in is not None:
            signing_in[sign_in] = user.username
        users.append(user)
    return users, problems


def user_problems(values: dict[str, Any], pool: UserPoolSpec | None) -> list[str]:
    """What is wrong with one line of a users file."""
    problems = [f"field '{name}' is not a field of a user (fields: {', '.join(USER_FIELDS)})" for name in values if name not in USER_FIELDS]
    username = values.get("username")
    if not isinstance(username, str) or not USERNAME.match(username):
        problems.append(f"field 'username' is {'missing' if username is None else 'not a name: ' + _shown(username)}; "
                        "give a name without spaces (up to 128 characters), e.g. \"alice\"")
    email = values.get("email")
    if email is not None and not (isinstance(email, str) and EMAIL.match(email)):
        problems.append(f"field 'email': {_shown(email)} is not an email address (e.g. \"alice@example.com\")")
    problems += _password_env_problems(values.get("password_env"))
    problems += _attribute_problems(values.get("attributes", {}), pool)
    problems += _group_problems(values.get("groups", []), pool)
    if pool is not None:
        problems += _missing_for_pool(values, pool)
    return problems


def _password_env_problems(value: Any) -> list[str]:
    if value is None or (isinstance(value, str) and VARIABLE_NAME.match(value)):
        return []
    return [f"field 'password_env': {_shown(value)} is not an environment variable name; name the variable that holds "
            "the password (e.g. \"ALICE_PASSWORD\"), never the password itself"]


def _attribute_problems(attributes: Any, pool: UserPoolSpec | None) -> list[str]:
    if not isinstance(attributes, dict):
        return [f"field 'attributes': expected an object of attribute names and values, got {_shown(attributes)}"]
    problems = []
    allowed = pool.attribute_names() if pool is not None else ()
    for name, value in attributes.items():
        if name == "email":
            problems.append("field 'attributes.email': give the email in the user's 'email' field")
        elif name in NOT_SETTABLE:
            problems.append(f"field 'attributes.{name}': {name} is set by Cognito or ampflow; leave it out")
        elif pool is not None and name not in allowed:
            custom = [a for a in allowed if a.startswith("custom:")]
            hint = f"; did you mean 'custom:{name}'?" if f"custom:{name}" in allowed else ""
            problems.append(f"field 'attributes.{name}': not an attribute of the user pool (custom attributes: "
                            f"{', '.join(custom) or 'none'}; standard ones such as given_name, phone_number){hint}")
        elif not isinstance(value, str):
            problems.append(f"field 'attributes.{name}': Cognito attributes are text; got {_shown(value)} (write it as a string)")
        elif name == "phone_number" and not PHONE_NUMBER.match(value):
            problems.append(f"field 'attributes.phone_number': {_shown(value)} is not in E.164 form (e.g. \"+12065550100\")")
    return problems


def _group_problems(groups: Any, pool: UserPoolSpec | None) -> list[str]:
    if not isinstance(groups, list) or not all(isinstance(group, str) for group in groups):
        return [f"field 'groups': expected a list of group names, got {_shown(groups)}"]
    if pool is None:
        return []
    unknown = [group for group in groups if group not in pool.group_names]
    if not unknown:
        return []
    declared = ", ".join(pool.group_names) or "none"
    return [f"field 'groups': {', '.join(repr(group) for group in unknown)} {'is' if len(unknown) == 1 else 'are'} not declared "
            f"by defineAuth (groups: {declared}); add it to defineAuth({{ groups: [...] }}) or remove it here"]


def _missing_for_pool(values: dict[str, Any], pool: UserPoolSpec) -> list[str]:
    """Attributes the pool needs: the sign-in attribute, and those defineAuth marks required."""
    given = {**(values.get("attributes") if isinstance(values.get("attributes"), dict) else {})}
    if values.get("email") is not None:
        given["email"] = values["email"]
    problems = []
    if pool.username_attributes and not any(given.get(name) for name in pool.username_attributes):
        wanted = " or ".join("'email'" if name == "email" else f"'attributes.{name}'" for name in pool.username_attributes)
        problems.append(f"the user pool signs users in with their {' or '.join(pool.username_attributes)}: give {wanted}")
    for name in pool.required_attributes:
        if name not in given and name not in pool.username_attributes:
            problems.append(f"field 'attributes.{name}' is required by the user pool (defineAuth userAttributes); give it")
    return problems


def _user(where: str, values: dict[str, Any]) -> SeedUser:
    return SeedUser(
        username=values["username"],
        where=where,
        email=values.get("email"),
        attributes=dict(values.get("attributes", {})),
        groups=tuple(dict.fromkeys(values.get("groups", []))),
        password_env=values.get("password_env"),
    )


def _records(files: list[Path], problems: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(file:line, object) of each record; a line that is not a JSON object is a problem, and reading goes on."""
    for path in files:
        if path.suffix != ".jsonl":
            try:
                yield from ((record.where, record.values) for record in read_records(path))
            except SeedError as error:
                problems.append(error.message)
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                values = json.loads(line)
            except json.JSONDecodeError as error:
                problems.append(f"{path}:{number}: not valid JSON ({error.msg} at column {error.colno}); each line is one user object")
                continue
            if not isinstance(values, dict):
                problems.append(f"{path}:{number}: expected a JSON object (a user), found {type(values).__name__}")
                continue
            yield f"{path}:{number}", values


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
