"""`ampflow`: the npm scripts' verbs, run through the project's Dagster instance so every run shows in the UI.

app.py is the command group and the one place errors become exit codes (exit_codes.py);
each verb is a module of commands/; runner.py runs a job in process and prints it.
"""

from ampflow_dagster.cli.app import main, run

__all__ = ["main", "run"]
