"""The real-cluster-only scenarios (tests/realcluster/scenarios/), judged offline on their captures.

`make capture` writes what the test cluster printed for each of them (cluster-state.json,
pod-logs.txt, capture.yaml): pull failures answered by a registry (missing tag, private
repository, rate limit), a Job over its backoffLimit, a rollout past its deadline, a claim on a
missing StorageClass, a ResourceQuota and Pod Security refusing pods, an emptyDir eviction. Here
every plugin named in a scenario's expected.yaml reads that capture with `-f`, as a user reads a
dump, and must give the same diagnosis the live cluster gave: matched by owner (pod names are the
capture's), then reason, cause, container, facts and commands.
"""

import os

import pytest
import yaml

from tests.realcluster.test_real_cluster import check

EXTRA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "realcluster", "scenarios")


def cases():
    out = []
    for name in sorted(os.listdir(EXTRA)):
        d = os.path.join(EXTRA, name)
        if os.path.isfile(os.path.join(d, "cluster-state.json")) and os.path.isfile(os.path.join(d, "expected.yaml")):
            with open(os.path.join(d, "expected.yaml")) as fh:
                for plugin, exp in (yaml.safe_load(fh) or {}).items():
                    out.append((name, plugin, exp or []))
    return out


def test_the_real_cluster_only_scenarios_are_captured():
    assert len({c[0] for c in cases()}) >= 9


@pytest.mark.parametrize("name,plugin_name,exp", cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_capture_read_offline_gives_the_live_diagnosis(plugin, name, plugin_name, exp):
    result = plugin("kubectl-" + plugin_name.replace("-", "_"), "-f", os.path.join(EXTRA, name), "-A", "-o", "json")
    assert result.returncode == (1 if exp else 0), result.stderr
    check(result.json()["findings"], exp, f"kubectl {plugin_name} -f {name}", name)
