"""The same checks as the scenario tests, against a real cluster (kind in CI: real-cluster.yml).

The workflow applies every `scenarios/*/manifest.yaml`, waits for the failures to show, and runs
this module with KDEBUG_REAL_CLUSTER=1. Pod names are random on a real cluster, so expectations
are matched by owner (the Deployment) instead of by pod name. Without that variable (every normal
test run) the module is skipped as a whole: there is no cluster to talk to.
"""

import json
import os
import subprocess

import pytest

from tests.e2e.oracle import expected_for, scenario_dirs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIOS = os.path.join(ROOT, "scenarios")

pytestmark = pytest.mark.skipif(not os.environ.get("KDEBUG_REAL_CLUSTER"),
                                reason="needs a real cluster with scenarios/ applied "
                                       "(set KDEBUG_REAL_CLUSTER=1; see .github/workflows/real-cluster.yml)")

# Scenarios a kind cluster reproduces by `kubectl apply` alone (evictions and node OOMs need node
# pressure that a CI runner cannot be relied on to produce).
NOT_ON_KIND = {"08-evicted-memory-pressure"}


def run(*args):
    proc = subprocess.run(["kubectl", *args], capture_output=True, text=True, timeout=120)
    return proc


def by_owner(findings, expected):
    for exp in expected:
        owner = exp.get("owner") or {}
        matches = [f for f in findings if f["reason"] == exp["reason"]
                   and (f.get("owner") or {}).get("name") == owner.get("name", exp["object"]["name"])]
        assert matches, f"{exp['reason']} for {owner or exp['object']} not found: " \
                        f"{[(f['reason'], (f.get('owner') or {}).get('name')) for f in findings]}"
        for fragment in exp.get("suggests") or []:
            assert any(fragment in s for s in matches[0]["suggestions"]), (fragment, matches[0])


@pytest.mark.parametrize("plugin", ["why", "endpoints-check", "oomcheck", "probecheck"])
def test_scenarios_on_a_real_cluster(plugin):
    proc = run(plugin, "-A", "-o", "json")
    assert proc.returncode in (0, 1), proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    for name in scenario_dirs(SCENARIOS, plugin):
        if name not in NOT_ON_KIND:
            by_owner(findings, expected_for(os.path.join(SCENARIOS, name), plugin))
