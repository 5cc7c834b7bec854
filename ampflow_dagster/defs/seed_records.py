"""Where ampflow keeps its record of the items each seeded asset wrote, per environment: an IO manager of its own.

A seeded asset's value is that record (see seeding/ledger.py). On a laptop it lives in the
instance's storage folder (`dagster_home/storage/seeded_<model>/<environment>`); on a
team's instance, whose runs are ECS tasks with no lasting disk, in S3 when
AMPFLOW_SEED_RECORDS_BUCKET names a bucket (`ampflow/seed-records/seeded_<model>/<environment>`).
Those are the places Dagster's filesystem and S3 pickle IO managers use, so records they stored
still read. The seeded step and `clean` read and replace a record through the same IO manager,
by asset and environment, without building an IO context of their own.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
from botocore.exceptions import ClientError
from pydantic import PrivateAttr

from ampflow_dagster.errors import SeedError
from ampflow_dagster.seeding.ledger import SeedLedger

SEED_RECORDS = "seed_records"  # the IO manager key of every seeded asset
BUCKET_VARIABLE = "AMPFLOW_SEED_RECORDS_BUCKET"
S3_PREFIX = "ampflow/seed-records"


class SeedRecordsIOManager(dg.ConfigurableIOManager):
    """Pickled records under the instance's storage folder, or in `bucket` when one is set."""

    bucket: str | None = None
    _base_dir: Path | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if not self.bucket and context.instance is not None:
            self._base_dir = Path(context.instance.storage_directory())

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        self.write(context.asset_key.path[-1], context.partition_key, obj)

    def load_input(self, context: dg.InputContext) -> Any:
        return self.read(context.asset_key.path[-1], context.partition_key)

    def read(self, asset: str, environment: str) -> SeedLedger | None:
        """The record the last successful materialization of `asset` for `environment` left; None if there is none."""
        try:
            data = self._get(asset, environment)
        except Exception as error:  # noqa: BLE001 - storage unreachable: say so rather than guess ownership
            raise SeedError(
                f"ampflow's record of the {asset} items it wrote for '{environment}' could not be read: {error}",
                f"Check the Dagster instance's storage (or the bucket in {BUCKET_VARIABLE}) is reachable, then run again.",
                code="SeedRecordUnreadable",
            ) from error
        record = pickle.loads(data) if data is not None else None
        return record if isinstance(record, SeedLedger) else None

    def write(self, asset: str, environment: str, record: SeedLedger) -> None:
        """Replace the stored record of `asset` for `environment`."""
        data = pickle.dumps(record, pickle.HIGHEST_PROTOCOL)
        if self.bucket:
            boto3.client("s3").put_object(Bucket=self.bucket, Key=f"{S3_PREFIX}/{asset}/{environment}", Body=data)
            return
        path = self._path(asset, environment)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.writing")
        partial.write_bytes(data)
        partial.replace(path)  # a reader sees the old record or the new one, never half of one

    def forget(self, asset: str, environment: str) -> None:
        """The record of `asset` for `environment` removed: its items went with the environment's tables."""
        if self.bucket:
            boto3.client("s3").delete_object(Bucket=self.bucket, Key=f"{S3_PREFIX}/{asset}/{environment}")
            return
        self._path(asset, environment).unlink(missing_ok=True)

    def _get(self, asset: str, environment: str) -> bytes | None:
        if self.bucket:
            try:
                return boto3.client("s3").get_object(Bucket=self.bucket, Key=f"{S3_PREFIX}/{asset}/{environment}")["Body"].read()
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return None
                raise
        try:
            return self._path(asset, environment).read_bytes()
        except FileNotFoundError:
            return None

    def _path(self, asset: str, environment: str) -> Path:
        if self._base_dir is None:
            raise SeedError(
                "ampflow's seed records have no storage folder: the IO manager was not set up with a Dagster instance.",
                "Run the seeded assets through Dagster (a job, `ampflow seed`, or the UI), which sets it up.",
            )
        return self._base_dir / asset / environment


def seed_records_io_manager() -> SeedRecordsIOManager:
    """S3 when AMPFLOW_SEED_RECORDS_BUCKET is set, else the Dagster instance's storage folder."""
    return SeedRecordsIOManager(bucket=os.environ.get(BUCKET_VARIABLE) or None)
