"""One table from AWS's and ampx's failures to ampflow errors: a new failure mode is one row.

Every `except ClientError` / `except BotoCoreError` in ampflow, and every reading of ampx's
output after it failed, goes through `FAILURES`, so a credentials or permissions problem
is named as one wherever it happens, never misread as "not bootstrapped" or "not
deployed". A row says which ampflow error a failure becomes, its stable code, and what to
do, naming the environment and where its requests went (profile and region, or endpoint).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Callable, Iterator

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectionError as BotoConnectionError,
    CredentialRetrievalError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOTokenLoadError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)

from ampflow_dagster.errors import AmpflowError, AwsError, DeploymentError, SynthesisError


@dataclass(frozen=True)
class AwsPlace:
    """Where an environment's AWS requests go, for an error to name."""

    environment: str
    region: str
    profile: str | None = None
    endpoint: str | None = None  # a local endpoint (the embedded emulator, LocalStack, DynamoDB Local) instead of AWS

    def where(self) -> str:
        if self.endpoint:
            return f"endpoint {self.endpoint}"
        return f"profile '{self.profile or 'default'}', region {self.region}"


@dataclass(frozen=True)
class Context:
    """What a row's message and resolution may name."""

    environment: str
    where: str
    profile: str
    region: str
    doing: str  # what ampflow was doing, e.g. "Reading table Todo-abc-NONE"
    command: str  # the ampflow command that does it again, e.g. "ampflow deploy development"
    detail: str = ""  # what AWS or ampx said
    operation: str = "the request"  # the AWS operation (DescribeTable), or what ampx ran
    resource: str = "The resource"
    console: str = "the CloudFormation console"  # the stack there, where there is one
    account: str = "<account-id>"


@dataclass(frozen=True)
class FailureRow:
    code: str
    error: type[AmpflowError] | None  # None: the class of the step that failed (DeploymentError, SeedError, ...)
    resolution: str  # a template over Context's fields
    message: str = "{doing} for environment '{environment}' failed ({where}): {detail}"
    exceptions: tuple[type[BaseException], ...] = ()  # botocore's own exceptions (no response from AWS)
    aws_codes: tuple[str, ...] = ()  # ClientError codes
    aws_messages: tuple[str, ...] = ()  # ClientError messages (CloudFormation says "does not exist" in a ValidationError)
    ampx_names: tuple[str, ...] = ()  # the error names ampx prints as `[Name] message` (amplify-backend's own)

    def matches(self, error: BaseException) -> bool:
        if isinstance(error, ClientError):
            aws = error.response.get("Error", {})
            return aws.get("Code") in self.aws_codes or any(text in aws.get("Message", "") for text in self.aws_messages)
        return isinstance(error, self.exceptions)


RUN_AGAIN = "then run `{command}` again"
FAILURES: tuple[FailureRow, ...] = (
    FailureRow(
        "MissingCredentials", AwsError,
        "Configure credentials for profile '{profile}' (`aws configure --profile {profile}` or "
        "`aws sso login --profile {profile}`), or set `profile` and `region` for environment '{environment}' in "
        "ampflow.toml; " + RUN_AGAIN + ".",
        message="No usable AWS credentials for environment '{environment}' ({where}): {detail}",
        exceptions=(NoCredentialsError, PartialCredentialsError, ProfileNotFound, CredentialRetrievalError),
        ampx_names=("CredentialsError",),
    ),
    FailureRow(
        "MissingRegion", AwsError,
        "Set `region` for environment '{environment}' in ampflow.toml (or AWS_REGION, or the region of profile "
        "'{profile}'); " + RUN_AGAIN + ".",
        message="No AWS region for environment '{environment}' ({where}): {detail}",
        exceptions=(NoRegionError,),
    ),
    FailureRow(
        "InvalidCredentials", AwsError,
        "Refresh the credentials of profile '{profile}' (`aws sso login --profile {profile}`, or new keys with "
        "`aws configure --profile {profile}`); if AWS names the signature, check this machine's clock; " + RUN_AGAIN + ".",
        message="AWS refused the credentials of environment '{environment}' ({where}) while {doing_lower}: {detail}",
        exceptions=(UnauthorizedSSOTokenError, SSOTokenLoadError, TokenRetrievalError),
        aws_codes=("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
                   "InvalidSignatureException", "SignatureDoesNotMatch", "RequestExpired", "InvalidAccessKeyId",
                   "AuthFailure"),
        ampx_names=("ExpiredTokenError", "InvalidCredentialError", "RequestSignatureError", "SSMCredentialsError"),
    ),
    FailureRow(
        "AccessDenied", AwsError,
        "Grant the identity of profile '{profile}' permission for {operation} (Amplify's deployments need the "
        "AmplifyBackendDeployFullAccess policy), or set a `profile` that has it for environment '{environment}' in "
        "ampflow.toml; " + RUN_AGAIN + ".",
        message="Access denied for environment '{environment}' ({where}) while {doing_lower}: {detail}",
        aws_codes=("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException",
                   "AuthorizationError"),
        ampx_names=("AccessDeniedError", "AuthenticationError", "BootstrapDetectionError",
                    "InvalidOrCannotAssumeRoleError", "PermissionsError"),
    ),
    FailureRow(
        "EndpointUnreachable", AwsError,
        "Check the network, or, for a local endpoint, that it is running (unset AWS_ENDPOINT_URL and "
        "AWS_ENDPOINT_URL_DYNAMODB to let ampflow start its embedded emulator); " + RUN_AGAIN + ".",
        message="Nothing answered for environment '{environment}' ({where}) while {doing_lower}: {detail}",
        exceptions=(BotoConnectionError, ReadTimeoutError, ConnectionClosedError),
        ampx_names=("DomainNotFoundError",),
    ),
    FailureRow(
        "Throttled", AwsError,
        "AWS throttled {operation} past botocore's retries: wait a minute, " + RUN_AGAIN + " (what was done stays "
        "done); if it persists, raise `max_attempts` of the aws resource or the account's quota in {region}.",
        message="AWS throttled environment '{environment}' ({where}) while {doing_lower}: {detail}",
        aws_codes=("Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
                   "ProvisionedThroughputExceededException", "RequestLimitExceeded", "RequestThrottled",
                   "RequestThrottledException", "SlowDown"),
    ),
    FailureRow(
        "ResourceNotFound", None,
        "{resource} does not exist ({where}): deploy environment '{environment}' first (`ampflow deploy "
        "{environment}`), " + RUN_AGAIN + ".",
        aws_codes=("ResourceNotFoundException", "ResourceNotFound", "StackNotFound", "UserPoolNotFound"),
        aws_messages=("does not exist",),
        ampx_names=("StackDoesNotExistError", "BackendNotDeployedError", "AmplifyOutputsNotFoundError"),
    ),
    FailureRow(
        "ResourceBusy", None,
        "{resource} is still being created, updated or deleted ({where}): wait until it settles (for a stack, "
        "see {console}), " + RUN_AGAIN + ".",
        aws_codes=("ResourceInUseException", "OperationAbortedException", "ConcurrentModificationException"),
        aws_messages=("can not be updated", "is in UPDATE_IN_PROGRESS state", "is in CREATE_IN_PROGRESS state"),
        ampx_names=("DeploymentInProgressError", "DeleteFailedWhileDeploymentInProgressError"),
    ),
    FailureRow(
        "NotBootstrapped", DeploymentError,
        "Run `npx cdk bootstrap aws://{account}/{region}` once (as an account administrator), then run `{command}` again.",
        message="Region {region} is not CDK-bootstrapped for environment '{environment}' ({where}): {detail}",
        ampx_names=("BootstrapNotDetectedError", "BootstrapOutdatedError", "RegionNotBootstrappedError"),
    ),
    FailureRow(
        "SecretNotSet", DeploymentError,
        "Set the secret the backend reads for this sandbox or branch (`npx ampx sandbox secret set <name>`, or the "
        "Amplify console's secrets for a branch), " + RUN_AGAIN + ".",
        ampx_names=("SecretNotSetError", "SecretNotFoundError"),
    ),
    FailureRow(
        "BackendCodeError", SynthesisError,
        "Fix amplify/ where ampx's message above points (ampflow synthesizes it the same way: `ampflow plan "
        "{environment}` shows it without deploying), " + RUN_AGAIN + ".",
        ampx_names=("SyntaxError", "BackendBuildError", "ESBuildError", "FileConventionError", "MissingDefineBackendError",
                    "ModuleNotFoundError", "SchemaError", "AppSyncResolverSyntaxError", "CDKAssetBundleError",
                    "TypeScriptCompilerApiUnavailableError", "FunctionEnvVarFileNotGeneratedError"),
    ),
    FailureRow(
        "AmpxToolchain", DeploymentError,
        "Install the app's dependencies as its lockfile pins them (`npm ci`), with a Node version Amplify supports "
        "(18.19+, 20.6+ or 22+), " + RUN_AGAIN + ".",
        ampx_names=("CDKVersionMismatchError", "CDKNotFoundError", "NodeVersionNotSupportedError", "CommonNPMError",
                    "VersionMismatchError", "InvalidPackageJsonError"),
    ),
    FailureRow(
        "StackDeploymentFailed", DeploymentError,
        "Fix the cause CloudFormation names above (often a schema error in amplify/ or a missing permission), "
        + RUN_AGAIN + "; the stack's events are in the CloudFormation console: {console}",
        ampx_names=("CloudFormationDeploymentError", "CFNUpdateNotSupportedError", "CloudFormationDeletionError",
                    "CloudformationStackCircularDependencyError", "CloudformationResourceCircularDependencyError",
                    "CDKAssetPublishError", "PipelineDeploymentError"),
    ),
)
# What any other failure becomes: the step's own error, with AWS's or ampx's words.
FALLBACK = FailureRow(
    "AwsRequestFailed", None,
    "Fix what AWS's message names for {operation} at {where} (it names the resource or parameter it rejects), "
    + RUN_AGAIN + ".",
)
AMPX_FALLBACK = FailureRow(
    "AmpxFailed", DeploymentError,
    "Fix what ampx's message above names, " + RUN_AGAIN + "; ampx's full output is in the run's log.",
)
_BY_CODE = {row.code: row for row in (*FAILURES, FALLBACK, AMPX_FALLBACK)}


def row_for(error: BaseException) -> FailureRow:
    """The row an AWS failure (a ClientError or one of botocore's own errors) falls under."""
    return next((row for row in FAILURES if row.matches(error)), FALLBACK)


def row_named(code: str) -> FailureRow:
    return _BY_CODE[code]


def aws_code(error: BaseException) -> str:
    """AWS's error code for a ClientError, botocore's class name otherwise."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "Unknown"))
    return type(error).__name__


def build(row: FailureRow, context: Context, default: type[AmpflowError], *, message: str | None = None,
          details: dict[str, str] | None = None) -> AmpflowError:
    """`row`'s ampflow error, its message (unless given) and resolution filled in from `context`."""
    fields = {**asdict(context), "doing_lower": context.doing[:1].lower() + context.doing[1:]}
    cls = row.error or default
    text = message if message is not None else row.message.format_map(fields).rstrip(". ") + "."
    return cls(text, row.resolution.format_map(fields), details, code=row.code)


def aws_error(error: BaseException, place: AwsPlace, *, doing: str, command: str,
              default: type[AmpflowError] = DeploymentError, resource: str = "The resource", console: str = "") -> AmpflowError:
    """The ampflow error for an AWS failure; raise it `from error` so the cause is kept."""
    if isinstance(error, ClientError):
        message = error.response.get("Error", {}).get("Message", "") or str(error)
        detail = f"{aws_code(error)}: {message}".rstrip(". ")
        operation = error.operation_name or "the request"
    else:
        detail = f"{type(error).__name__}: {str(error).rstrip('. ')}"
        operation = "the request"
    context = Context(place.environment, place.where(), place.profile or "default", place.region, doing, command,
                      detail, operation, resource, console or "the CloudFormation console")
    mapped = build(row_for(error), context, default)
    mapped.__cause__ = error
    return mapped


@contextmanager
def aws_failures(place: AwsPlace | Callable[[], AwsPlace], *, doing: str, command: str,
                 default: type[AmpflowError] = DeploymentError) -> Iterator[None]:
    """Inside: any AWS failure becomes its ampflow error (see `FAILURES`), the original kept as its cause.

    `place` may be a function, asked only on failure: a local endpoint is known once a client was made.
    """
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        where = place() if callable(place) else place
        raise aws_error(error, where, doing=doing, command=command, default=default) from error


# ampx prints an error as `[Name] message`, its cause indented as `∟ Caused by: [Name] message`, then
# `Resolution: ...` (@aws-amplify/cli-core format.error); only names ending Error or Fault are errors.
AMPX_ERROR = re.compile(r"^\s*(?P<cause>∟ Caused by: )?\[(?P<name>[A-Za-z]+(?:Error|Fault|Exception))\] ?(?P<message>.*)$")
AMPX_RESOLUTION = re.compile(r"^\s*Resolution: (?P<resolution>.*)$")


@dataclass(frozen=True)
class AmpxError:
    """The error ampx printed, as it printed it."""

    name: str
    message: str
    resolution: str
    row: FailureRow

    def describe(self) -> str:
        said = f"[{self.name}] {self.message}".rstrip()
        return said + (f" (ampx's resolution: {self.resolution})" if self.resolution else "")


def ampx_error(output: str) -> AmpxError | None:
    """The error in ampx's output, if it printed one: the first it reports, or, if ampflow does not know that
    one, the first known cause beneath it."""
    found: list[tuple[str, str, bool]] = []
    resolution = ""
    for line in output.splitlines():
        if (match := AMPX_ERROR.match(line)) is not None:
            found.append((match["name"], match["message"].strip(), bool(match["cause"])))
        elif found and not resolution and (said := AMPX_RESOLUTION.match(line)) is not None:
            resolution = said["resolution"].strip()
    if not found:
        return None
    known = [(name, message) for name, message, _ in found if _ampx_row(name) is not None]
    name, message = known[0] if known else found[0][:2]
    return AmpxError(name, message, resolution, _ampx_row(name) or AMPX_FALLBACK)


def _ampx_row(name: str) -> FailureRow | None:
    return next((row for row in FAILURES if name in row.ampx_names), None)
