"""Stack names as Amplify itself computes them: `BackendIdentifierConversions.toStackName` run with Node.

The tests and the fake ampx (tests/fakes/npx.py) name stacks with this, never with ampflow's own
port of the rule, so a difference between the two fails a test instead of hiding.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

SCRIPT = """
const { createRequire } = require('module');
const path = require('path');
const platformCore = createRequire(path.join(process.argv[1], 'package.json'))('@aws-amplify/platform-core');
const identifiers = JSON.parse(require('fs').readFileSync(0, 'utf8'));
console.log(JSON.stringify(identifiers.map((id) => platformCore.BackendIdentifierConversions.toStackName(id))));
"""


def amplify_stack_names(app_root: Path, identifiers: list[tuple[str, str, str]]) -> list[str]:
    """The root stack names Amplify's platform-core, as installed for the app at `app_root`, gives each
    (namespace, name, type)."""
    request = [{"namespace": namespace, "name": name, "type": kind} for namespace, name, kind in identifiers]
    finished = subprocess.run(["node", "-e", SCRIPT, str(app_root)], input=json.dumps(request),
                              capture_output=True, text=True, check=True)
    return json.loads(finished.stdout)


def amplify_stack_name(app_root: Path, namespace: str, name: str, kind: str) -> str:
    return amplify_stack_names(app_root, [(namespace, name, kind)])[0]
