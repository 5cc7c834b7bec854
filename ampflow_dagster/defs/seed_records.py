"""Where ampflow keeps its record of the items each seeded asset wrote, per environment: Dagster's own IO manager.

A seeded asset's value is that record (see seeding/ledger.py). On a laptop it lives in the
instance's storage folder (`dagster_home/storage/seeded_<model>/<environment>`); on a
team's instance, whose runs are ECS tasks with no lasting disk, in S3 when
AMPFLOW_SEED_RECORDS_BUCKET names a bucket.
"""

from __future__ import annotations

import os

import dagster as dg
from dagster._core.log_manager import DagsterLogManager
from dagster_aws.s3 import S3PickleIOManager, S3Resource

from ampflow_dagster.errors import SeedError
from ampflow_dagster.seeding.ledger import SeedLedger

SEED_RECORDS = "seed_records"  # the IO manager key of every seeded asset
BUCKET_VARIABLE = "AMPFLOW_SEED_RECORDS_BUCKET"
S3_PREFIX = "ampflow/seed-records"


def seed_records_io_manager() -> dg.ConfigurableIOManagerFactory:
    """S3 when AMPFLOW_SEED_RECORDS_BUCKET is set, else the Dagster instance's storage folder."""
    bucket = os.environ.get(BUCKET_VARIABLE)
    if bucket:
        return S3PickleIOManager(s3_resource=S3Resource(), s3_bucket=bucket, s3_prefix=S3_PREFIX)
    return dg.FilesystemIOManager()


def read_seed_record(
    io_manager: dg.IOManager, asset: str, environment: str, partitions: dg.PartitionsDefinition
) -> SeedLedger | None:
    """The record the last successful materialization of `asset` for `environment` left; None if there is none."""
    context = dg.build_input_context(asset_key=dg.AssetKey(asset), partition_key=environment, asset_partitions_def=partitions)
    context._log = _quiet_log()  # noqa: SLF001 - the built context logs to the console at DEBUG, over ampflow's own output
    try:
        record = io_manager.load_input(context)
    except FileNotFoundError:
        return None
    except Exception as error:  # noqa: BLE001 - storage unreachable: say so rather than guess ownership
        raise SeedError(
            f"ampflow's record of the {asset} items it wrote for '{environment}' could not be read: {error}",
            f"Check the Dagster instance's storage (or the bucket in {BUCKET_VARIABLE}) is reachable, then run again.",
            code="SeedRecordUnreadable",
        ) from error
    if isinstance(record, dict):  # how UPathIOManager returns a partition it loaded
        record = record.get(environment)
    return record if isinstance(record, SeedLedger) else None


def write_seed_record(
    io_manager: dg.IOManager, asset: str, environment: str, partitions: dg.PartitionsDefinition, record: SeedLedger
) -> None:
    """Replace the stored record of `asset` for `environment` (used by `clean`, which is not a materialization)."""
    context = dg.build_output_context(asset_key=dg.AssetKey(asset), partition_key=environment, asset_partitions_def=partitions)
    context._log = _quiet_log()  # noqa: SLF001 - as in read_seed_record
    io_manager.handle_output(context, record)


def _quiet_log() -> DagsterLogManager:
    """A log manager with no loggers: the step that reads or writes a record reports it itself, in its metadata."""
    return DagsterLogManager.create(loggers=[])
