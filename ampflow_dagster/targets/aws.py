"""How ampflow builds AWS clients: the standard credential chain and botocore's retry modes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

DEFAULT_REGION = "us-east-1"
# The embedded emulator accepts any credentials; these are used only when none are configured.
EMULATOR_CREDENTIALS = {"aws_access_key_id": "ampflow-local", "aws_secret_access_key": "ampflow-local"}


@dataclass(frozen=True)
class AwsSettings:
    region_name: str | None = None
    profile_name: str | None = None
    endpoint_url: str | None = None
    max_attempts: int = 8
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_session_token: str | None = None

    def region(self) -> str:
        return self.region_name or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION

    def session(self, *, allow_emulator_credentials: bool = False) -> boto3.session.Session:
        session = boto3.session.Session(
            profile_name=self.profile_name,
            region_name=self.region(),
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
        )
        if allow_emulator_credentials and session.get_credentials() is None:
            session = boto3.session.Session(region_name=self.region(), **EMULATOR_CREDENTIALS)
        return session

    def client_config(self, pool_size: int = 32) -> Config:
        return Config(
            retries={"mode": "standard", "max_attempts": self.max_attempts},
            max_pool_connections=pool_size,
            connect_timeout=5,
            read_timeout=60,
        )

    def client(self, service: str, endpoint_url: str | None, *, allow_emulator_credentials: bool = False) -> Any:
        session = self.session(allow_emulator_credentials=allow_emulator_credentials)
        return session.client(service, endpoint_url=endpoint_url, config=self.client_config())
