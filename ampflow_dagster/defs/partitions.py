"""Environments are partitions: one per [environments.<name>] in ampflow.toml."""

from __future__ import annotations

import dagster as dg

from ampflow_dagster.environments import load_config
from ampflow_dagster.project import discover_project

PROJECT = discover_project()
CONFIG = load_config(PROJECT)

environment_partitions = dg.StaticPartitionsDefinition(list(CONFIG.environments))
