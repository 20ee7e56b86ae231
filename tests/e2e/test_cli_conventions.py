"""kubectl's conventions, end to end through kubectl dispatch (issue 9 §3).

* `-n NS` together with `-A`: `-A` wins, as in `kubectl get pods -n x -A`; only a named target
  with `-A` is refused.
* A batch on standard input (`kubectl oomcheck -A -o name | kubectl why -`) goes on when a line
  names a pod that no longer exists: that line gets one clear stderr line, every other target its
  diagnosis.
"""

import json
import re

import pytest

from tests.e2e.conftest import scenario

GONE = "default/pod/crasher-859cdd79dd-gone1"


def without_ages(findings):
    """The findings of two runs a second apart are the same but for the ages they print (the
    captures' events are minutes old at first: "5m12s ago" becomes "5m13s ago")."""
    return json.loads(re.sub(r"\b(\d+[smhdy])+( ago)", r"AGE\2", json.dumps(findings)))


@pytest.mark.parametrize("plugin", ["why", "oomcheck", "probecheck"])
def test_all_namespaces_wins_over_namespace_as_in_kubectl(cluster, kubectl, plugin):
    api = cluster(scenario("01-image-pull-error"), scenario("02-crashloop-backoff"))
    with_n = kubectl(api, plugin, "-n", "kube-system", "-A", "-o", "json")
    plain = kubectl(api, plugin, "-A", "-o", "json")
    assert with_n.returncode == plain.returncode and with_n.returncode in (0, 1), with_n.stderr
    assert with_n.stderr == ""
    assert without_ages(with_n.json()["findings"]) == without_ages(plain.json()["findings"])
    if plugin == "why":
        assert {"ImagePullBackOff", "CrashLoopBackOff"} <= set(with_n.reasons())


def test_a_named_target_with_all_namespaces_is_still_refused(cluster, kubectl):
    api = cluster(scenario("02-crashloop-backoff"))
    result = kubectl(api, "why", "-n", "default", "-A", "pod/whatever")
    assert result.returncode == 2
    assert "cannot be retrieved by name across all namespaces" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_stdin_batch_goes_on_past_a_pod_that_no_longer_exists(cluster, kubectl):
    api = cluster(scenario("01-image-pull-error"), scenario("02-crashloop-backoff"))
    names = kubectl(api, "oomcheck", "-A", "-o", "name")
    lines = kubectl(api, "why", "-A", "-o", "name").stdout.splitlines()
    assert len(lines) >= 2
    batch = "\n".join(lines[:1] + [GONE] + lines[1:]) + "\n" + names.stdout
    piped = kubectl(api, "why", "-", "-o", "json", stdin=batch)
    # Every other target is diagnosed...
    assert {"ImagePullBackOff", "CrashLoopBackOff"} <= set(piped.reasons()), piped.stderr
    objects = {f"{f['object']['namespace']}/pod/{f['object']['name']}" for f in piped.json()["findings"]}
    assert set(lines) <= objects
    # ... the vanished one gets one clear line on stderr, and the exit code is not a success.
    err = [line for line in piped.stderr.splitlines() if line]
    assert len(err) == 1, piped.stderr
    assert err[0].startswith("error: ") and 'pod "crasher-859cdd79dd-gone1" not found in namespace default' in err[0]
    assert "from standard input" in err[0] and "Traceback" not in piped.stderr
    # The worst of the targets: the vanished line counts as a named unknown target would (2).
    assert piped.returncode == 2


def test_text_output_of_a_batch_with_a_vanished_pod_still_lists_the_others(cluster, kubectl):
    api = cluster(scenario("02-crashloop-backoff"))
    lines = kubectl(api, "why", "-A", "-o", "name").stdout.splitlines()
    piped = kubectl(api, "why", "-", stdin="\n".join([GONE] + lines) + "\n")
    assert piped.returncode == 2, piped.stderr
    assert "CrashLoopBackOff" in piped.stdout
    assert piped.stderr.count("\n") == 1 and "crasher-859cdd79dd-gone1" in piped.stderr
