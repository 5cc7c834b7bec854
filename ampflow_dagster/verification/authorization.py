"""The data API's authorization modes as Amplify synthesized them, and what an `iam` default means for app clients."""

from __future__ import annotations

from dataclasses import dataclass

from ampflow_dagster.synthesis.desired_state import DesiredBackend

# defineData's defaultAuthorizationMode 'iam' and 'identityPool' both synthesize to AppSync's AWS_IAM.
IAM = "AWS_IAM"
# Amplify's client-side names for AppSync's authorization types (what `authMode` takes).
CLIENT_MODE = {
    "API_KEY": "apiKey",
    "AMAZON_COGNITO_USER_POOLS": "userPool",
    "AWS_IAM": "iam",
    "OPENID_CONNECT": "oidc",
    "AWS_LAMBDA": "lambda",
}
IAM_DEFAULT_ADVICE = (
    "With `iam` as the default, every client call that does not name an `authMode` is signed with AWS IAM "
    "credentials: an app's users need a Cognito identity pool role, and calls from anyone without one are refused. "
    "Amplify's guide keeps IAM for server-side access (functions, the console's data manager, admin and "
    "machine-to-machine callers with their own IAM policies; every Gen 2 API enables it anyway) and for guest access "
    "with allow.guest(). For app clients, make the default the mode the models' rules use: in amplify/data/resource.ts "
    "set defineData({ authorizationModes: { defaultAuthorizationMode: 'userPool' } }) for signed-in users, or 'apiKey' "
    "(with apiKeyAuthorizationMode) for public data. If `iam` is intended, pass `authMode` explicitly on each call "
    "(or to generateClient) in the app."
)


@dataclass(frozen=True)
class AuthorizationModes:
    default: str  # AppSync's name: API_KEY, AMAZON_COGNITO_USER_POOLS, AWS_IAM, OPENID_CONNECT, AWS_LAMBDA
    additional: tuple[str, ...]

    @property
    def client_default(self) -> str:
        """The default as the app's `authMode` names it."""
        return CLIENT_MODE.get(self.default, self.default or "none")

    @property
    def default_is_iam(self) -> bool:
        return self.default == IAM


def authorization_modes(desired: DesiredBackend) -> AuthorizationModes:
    return AuthorizationModes(desired.default_authorization_type, tuple(desired.additional_authorization_types))
