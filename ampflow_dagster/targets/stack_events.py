"""Why a CloudFormation deployment failed: the *_FAILED events of a stack and its nested stacks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ampflow_dagster.aws_errors import row_for

SUCCEEDED = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}
# Reasons that only echo a failure elsewhere: shown after the failures that caused them.
CASCADES = (
    "Resource creation cancelled",
    "Resource update cancelled",
    "The following resource(s) failed",
    "Embedded stack",
    "Nested stack",
)
MAX_NESTED_STACKS = 50
# CloudFormation has no error code of its own for a missing stack, only this ValidationError message.
STACK_MISSING = re.compile(r"^Stack with id \S+ does not exist$")


@dataclass(frozen=True)
class FailedEvent:
    stack: str
    logical_id: str
    resource_type: str
    status: str
    reason: str
    timestamp: datetime

    @property
    def is_cascade(self) -> bool:
        return any(self.reason.startswith(prefix) for prefix in CASCADES)

    def describe(self) -> str:
        return f"{self.logical_id} ({self.resource_type}) {self.status}: {self.reason}"


def stack_status(cloudformation: Any, stack_name: str) -> tuple[str | None, dict[str, str]]:
    """(status, outputs) of a stack, or (None, {}) if CloudFormation says it does not exist.

    Only that answer means "no stack": throttling, a 5xx, a denied request and every other failure
    is raised, so nothing can take a stack it could not read for one that is not there.
    """
    try:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as error:
        if stack_missing(error):
            return None, {}
        raise  # the caller names the environment it was reading for (aws_errors.aws_failures)
    outputs = {output["OutputKey"]: output.get("OutputValue", "") for output in stack.get("Outputs", [])}
    return stack["StackStatus"], outputs


def stack_missing(error: ClientError) -> bool:
    """CloudFormation's answer for a stack that does not exist: a ValidationError "Stack with id X does not exist"."""
    aws = error.response.get("Error", {})
    return aws.get("Code") == "ValidationError" and bool(STACK_MISSING.search(aws.get("Message", "")))


def failed_events(cloudformation: Any, stack_name: str) -> list[FailedEvent]:
    """Failures of the stack's latest operation and of every nested stack it started, root causes first."""
    found: list[FailedEvent] = []
    pending, seen = [stack_name], set()
    while pending and len(seen) < MAX_NESTED_STACKS:
        stack = pending.pop(0)
        if stack in seen:
            continue
        seen.add(stack)
        for event in _events(cloudformation, stack):
            status = event.get("ResourceStatus", "")
            physical = event.get("PhysicalResourceId")
            is_nested = (
                event.get("ResourceType") == "AWS::CloudFormation::Stack"
                and physical not in (None, "", stack, event.get("StackId"))
            )
            if is_nested and physical not in seen and physical not in pending:
                pending.append(physical)
            if status.endswith("_FAILED"):
                found.append(
                    FailedEvent(
                        stack=_short_name(stack),
                        logical_id=event.get("LogicalResourceId", "?"),
                        resource_type=event.get("ResourceType", "?"),
                        status=status,
                        reason=event.get("ResourceStatusReason", "no reason given"),
                        timestamp=event["Timestamp"],
                    )
                )
    return sorted(found, key=lambda event: (event.is_cascade, event.timestamp))


def _events(cloudformation: Any, stack: str) -> list[dict[str, Any]]:
    """Events of the stack's latest operation (they come newest first; stop at the operation's start)."""
    events: list[dict[str, Any]] = []
    token = None
    while True:
        try:
            page = cloudformation.describe_stack_events(StackName=stack, **({"NextToken": token} if token else {}))
        except ClientError as error:
            if row_for(error).code == "ResourceNotFound":  # a nested stack deleted by the rollback
                return events
            raise
        for event in page.get("StackEvents", []):
            events.append(event)
            is_start = event.get("ResourceType") == "AWS::CloudFormation::Stack" and event.get("ResourceStatus") in (
                "CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS",
            ) and event.get("PhysicalResourceId") == event.get("StackId") and "User Initiated" in event.get("ResourceStatusReason", "")
            if is_start:
                return events
        token = page.get("NextToken")
        if not token:
            return events


def _short_name(stack: str) -> str:
    """A stack ARN's name part, for people to read."""
    return stack.split("/")[1] if stack.startswith("arn:") and "/" in stack else stack
