"""The embedded emulator's server: moto's, with passwords kept out of its recording.

moto's recorder writes every request to a file so the emulator's state survives a restart. Cognito
requests that carry a password (setting one, signing in) are not recorded (ampflow creates users
without a temporary password, so AdminCreateUser carries none): a password never lands
in a file. After a restart, seed users therefore exist without a password until seeded_users runs
again, which gives them one (from its variable, or a new generated one).
"""

from __future__ import annotations

import sys
from typing import Any

from moto import server
from moto.moto_api._internal.recorder.models import Recorder

PASSWORD_OPERATIONS = frozenset(
    f"AWSCognitoIdentityProviderService.{operation}"
    for operation in (
        "AdminSetUserPassword", "AdminInitiateAuth", "InitiateAuth", "RespondToAuthChallenge",
        "AdminRespondToAuthChallenge", "SignUp", "ChangePassword", "ConfirmForgotPassword",
    )
)
_record_request = Recorder._record_request


def _record_without_passwords(recorder: Recorder, request: Any, body: bytes | None = None) -> None:
    if request.headers.get("X-Amz-Target") not in PASSWORD_OPERATIONS:
        _record_request(recorder, request, body)


def main(argv: list[str] | None = None) -> None:
    Recorder._record_request = _record_without_passwords  # type: ignore[method-assign]
    server.main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
