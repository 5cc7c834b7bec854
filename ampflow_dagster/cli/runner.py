"""Run a job in this process on the project's instance and print its progress as the event log grows."""

from __future__ import annotations

import re
import threading
import uuid
from typing import Any

import click

from ampflow_dagster.cli.session import Session

QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}  # ampflow prints its own progress
SHOWN_METADATA = (
    "deployment", "reason", "other_stacks", "tables_created", "tables_updated", "tables_replaced", "tables_recreated", "table_count",
    "total_items", "items_written", "items_unchanged", "items_removed", "items_unlabeled", "outputs_file",
)
FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<function>\S+)')


class RunFailed(Exception):
    """A run started and did not succeed; what failed has been printed."""


def run_job(session: Session, job_name: str, partition: str | None = None, run_config: dict | None = None,
            assets: list[str] | None = None) -> None:
    """Run a job in this process, printing progress; raises RunFailed, after saying why, when it fails."""
    import dagster as dg

    job = session.definitions().resolve_job_def(job_name)
    instance = session.instance()
    run_id = str(uuid.uuid4())
    shown_partition = partition or job.tags.get("dagster/partition")
    where = f" [{shown_partition}]" if shown_partition else ""
    click.secho(f"==> {job_name}{where} (run {run_id[:8]}, visible in the Dagster UI)", bold=True)
    printer = ProgressPrinter(instance, run_id)
    printer.start()
    try:
        result = job.execute_in_process(
            instance=instance, run_id=run_id, partition_key=partition, raise_on_error=False,
            run_config={**(run_config or {}), **QUIET_CONSOLE},
            asset_selection=[dg.AssetKey(name) for name in assets] if assets else None,
        )
    finally:
        printer.stop()
    if result.success and not printer.failed_checks:
        click.secho(f"==> {job_name}{where} succeeded", fg="green", bold=True)
        return
    if result.success:
        click.secho(f"==> {job_name}{where} ran, but {len(printer.failed_checks)} check(s) failed", fg="red", bold=True, err=True)
    else:
        click.secho(f"==> {job_name}{where} failed", fg="red", bold=True, err=True)
    for message in printer.failures + printer.failed_checks or ["the run failed; see the run in the Dagster UI"]:
        click.echo(message, err=True)
    raise RunFailed(job_name)


def step_failure_text(data: Any, run_id: str) -> str:
    """What a failed step says: ampflow's error with its code, or an unexpected error's cause and where its trace is."""
    failure = data.user_failure_data
    if failure is not None and failure.description:
        code = getattr(failure.metadata.get("code"), "value", None)
        return f"[{code}] {failure.description.strip()}" if code else failure.description.strip()
    error = data.error
    if error is None:
        return "failed"
    while error.cause is not None:  # Dagster wraps the step's own exception: its cause is what happened
        error = error.cause
    frames = [match for frame in error.stack if (match := FRAME.search(frame))]
    at = f" (at {frames[-1]['file']}:{frames[-1]['line']}, in {frames[-1]['function']})" if frames else ""
    return (f"unexpected error {error.message.strip()}{at}.\n  The full trace is in the run's event log: "
            f"`ampflow ui`, then Runs → {run_id[:8]}, and the step's failure event.")


class ProgressPrinter:
    """Prints step starts, results and failures of a run as they reach the event log."""

    def __init__(self, instance: Any, run_id: str) -> None:
        self.instance, self.run_id = instance, run_id
        self.failures: list[str] = []
        self.failed_checks: list[str] = []  # ERROR-severity checks that did not pass
        self._seen = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        self._print_new()

    def _loop(self) -> None:
        while not self._done.wait(0.25):
            self._print_new()

    def _print_new(self) -> None:
        try:
            records = self.instance.all_logs(self.run_id)
        except Exception:  # the run is not stored yet
            return
        for record in records[self._seen :]:
            self._print(record)
        self._seen = len(records)

    def _print(self, record: Any) -> None:
        event = record.dagster_event
        if event is None:
            if record.level >= 20 and record.step_key:  # the steps' own log lines
                click.echo(f"    {record.step_key}: {record.user_message}")
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            click.echo(f"  - {event.step_key} ...")
        elif kind == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            shown = {k: getattr(v, "value", v) for k, v in materialization.metadata.items() if k in SHOWN_METADATA}
            click.echo(f"  + {materialization.asset_key.to_user_string()}: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
        elif kind == "ASSET_CHECK_EVALUATION":
            self._print_check(event.event_specific_data)
        elif kind == "STEP_SUCCESS":
            click.secho(f"  ✓ {event.step_key}", fg="green")
        elif kind == "STEP_FAILURE":
            self.failures.append(f"{event.step_key}: {step_failure_text(event.step_failure_data, self.run_id)}")
            click.secho(f"  ✗ {event.step_key}", fg="red")

    def _print_check(self, evaluation: Any) -> None:
        """A check that did not pass is printed with what it says; one that passed, in a line."""
        import dagster as dg

        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        if evaluation.passed:
            click.echo(f"    check {name} passed")
            return
        warning = evaluation.severity == dg.AssetCheckSeverity.WARN
        label = "warning" if warning else "failed"
        click.secho(f"  ! check {name} {label}: {evaluation.description or 'no description'}",
                    fg="yellow" if warning else "red", err=not warning)
        if not warning:
            self.failed_checks.append(f"check {name}: {evaluation.description or 'failed'}")
