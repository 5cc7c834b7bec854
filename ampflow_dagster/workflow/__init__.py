"""The workflow's steps as plain functions: what each Dagster asset calls.

Deploy (deployment.py), seed users (users.py) and models (seeding.py), generate the
client (client.py), for one environment opened as a workspace (workspace.py); the
verification step is in ampflow_dagster/verification/. Nothing here knows Dagster:
what Dagster remembers (the fingerprint of the last successful deployment) is passed
in, and what a person should see comes back as plain results.
"""
