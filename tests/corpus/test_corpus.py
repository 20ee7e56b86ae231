"""The corpus of real cases: every folder under tests/corpus/ holds objects converted from material
people posted while debugging real clusters (GitHub issues and pull requests quoting `kubectl
describe`, `get events`, status YAML/JSON or controller logs; `source:` in its case.yaml) and the
diagnosis those objects call for. Each case runs offline (`-f DIR`, through the plugin's real entry
point) and live (the stand-in API server, through kubectl's plugin dispatch).

What is asserted, the same for every case (never keyed to a case's name):
* every `expect:` entry is a finding with that reason on that object (and container/cause if given);
* no `not_expected:` reason is reported at all;
* `healthy: true` cases exit 0 with no finding at warning or above;
* a pod that is not Running with every container ready (nor Succeeded) never gives exit 0, in the
  case's own run and in a `-A` scan by each of why, oomcheck and probecheck.

A case the analyzers get wrong today is listed in KNOWN_GAPS (PROPERTY_GAPS for the cross-plugin
property), as a strict xfail: the case stays as the source shows it; the analyzer gets fixed and the
entry removed.
"""

import copy
import io
import json
import os
import re
import shutil
from datetime import datetime, timezone

import pytest
import yaml

from kdebug_core.main import run
from kdebug_core.sources.files import load

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = sorted(d for d in os.listdir(HERE)
               if os.path.isfile(os.path.join(HERE, d, "case.yaml")))

COMMANDS = {"why": "why", "oomcheck": "oomcheck", "probecheck": "probecheck",
            "endpoints-check": "endpoints-check", "endpoints_check": "endpoints-check"}
PLUGIN_NAMES = {"why": "why", "oomcheck": "oomcheck", "probecheck": "probecheck",
                "endpoints-check": "endpoints-check", "endpoints_check": "endpoints-check"}
KIND_OF = {"pod": "Pod", "po": "Pod", "pods": "Pod", "deploy": "Deployment", "deployment": "Deployment",
           "rs": "ReplicaSet", "replicaset": "ReplicaSet", "sts": "StatefulSet",
           "statefulset": "StatefulSet", "ds": "DaemonSet", "daemonset": "DaemonSet", "job": "Job",
           "cronjob": "CronJob", "cj": "CronJob", "svc": "Service", "service": "Service",
           "ingress": "Ingress", "ing": "Ingress", "node": "Node", "no": "Node"}

# case id (or "CASE@offline" / "CASE@live") -> what the analyzers get wrong on it today. Strict
# xfail: fixing the analyzer makes the test pass, which fails the run until the entry is removed.
KNOWN_GAPS = {
}


def _case(case_id):
    with open(os.path.join(HERE, case_id, "case.yaml")) as fh:
        return yaml.safe_load(fh)


# Not an analyzer fault: what one run cannot express of a case (strict xfail all the same, so that a
# change in the harness or the analyzers that lifts the limit is noticed).
HARNESS_LIMITS = {
    "113-containercreating-no-events-aks-cilium@live":
        "the source gives no time after the pod's start (no events); the live copy ends its "
        "timestamps at now, so the pod is 0 s old there and 'starting' is a fair verdict, while "
        "offline the age is unknown and the pod must not pass",
    "132-init-waiting-for-mysql-nc-loop@live":
        "the same: no time after the start in the source, so live the pod is brand new",
}


def _params(mode):
    out = []
    for case_id in CASES:
        marks = []
        # a gap applies to both runs, or only to one when keyed "CASE@offline" / "CASE@live"
        gap = (KNOWN_GAPS.get(case_id) or KNOWN_GAPS.get(f"{case_id}@{mode}")
               or HARNESS_LIMITS.get(f"{case_id}@{mode}"))
        if gap:
            marks.append(pytest.mark.xfail(reason=gap, strict=True))
        if mode == "live" and _holds_cronjobs(case_id):
            # The live copy moves every time by (now - the case's newest time), which is not a
            # whole number of hours: a CronJob's runs land off its schedule's minutes and the
            # verdict would depend on the minute the test runs. Cron cases are judged offline,
            # where "now" is the case's own newest time.
            marks.append(pytest.mark.skip(reason="CronJob schedules cannot be replayed live at a "
                                                 "shifted time"))
        out.append(pytest.param(case_id, id=f"{case_id}-{mode}", marks=marks))
    return out


def _holds_cronjobs(case_id):
    return any(o.get("kind") == "CronJob" for o in _objects(os.path.join(HERE, case_id)))


# ---------------------------------------------------------------------------------------------
# what the case holds

def _objects(case_dir):
    return list(load([case_dir]).objects.values())


def _target(case, objects):
    """(target args, namespace) for the run: `-A` when the case names no target."""
    target = case.get("target")
    if not target:
        return ["-A"], None
    kind_word, _, name = target.partition("/")
    kind = KIND_OF[kind_word.lower()]
    ns = case.get("namespace")
    if not ns and kind != "Node":
        found = [o for o in objects if o.get("kind") == kind and o["metadata"].get("name") == name]
        assert found, f"target {target} is not among the case's objects"
        ns = found[0]["metadata"].get("namespace") or "default"
    return [target], ns


def pod_is_healthy(pod):
    status = pod.get("status") or {}
    phase = status.get("phase")
    if phase == "Succeeded":
        return True
    if phase != "Running":
        return False
    statuses = status.get("containerStatuses") or []
    if not statuses or not all(cs.get("ready") is True for cs in statuses):
        return False
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    for gate in (pod.get("spec") or {}).get("readinessGates") or []:
        if conditions.get(gate.get("conditionType")) != "True":
            return False
    return conditions.get("Ready", "True") == "True"


def _owned_by(obj, kind, name, by_uid_or_name):
    """Whether obj is owned (directly, or through a ReplicaSet/Job) by kind/name."""
    seen = 0
    while obj is not None and seen < 4:
        refs = (obj.get("metadata") or {}).get("ownerReferences") or []
        if any(r.get("kind") == kind and r.get("name") == name for r in refs):
            return True
        obj = next((by_uid_or_name.get((r.get("kind"), r.get("name"))) for r in refs), None)
        seen += 1
    return False


def _pods_in_scope(case, objects, target_args, ns):
    pods = [o for o in objects if o.get("kind") == "Pod"]
    if target_args == ["-A"]:
        return pods
    kind_word, _, name = target_args[0].partition("/")
    kind = KIND_OF[kind_word.lower()]
    pods = [p for p in pods if p["metadata"].get("namespace", "default") == ns]
    if kind == "Pod":
        return [p for p in pods if p["metadata"]["name"] == name]
    if kind == "Node":
        return [p for p in pods if (p.get("spec") or {}).get("nodeName") == name]
    if kind == "Service":
        svc = next(o for o in objects if o.get("kind") == "Service" and o["metadata"]["name"] == name)
        selector = (svc.get("spec") or {}).get("selector") or {}
        if not selector:
            return []
        return [p for p in pods if all((p["metadata"].get("labels") or {}).get(k) == v
                                       for k, v in selector.items())]
    if kind == "Ingress":
        return []
    index = {(o.get("kind"), o["metadata"].get("name")): o for o in objects}
    return [p for p in pods if _owned_by(p, kind, name, index)]


# ---------------------------------------------------------------------------------------------
# the assertions

def _describe(findings):
    return [(f["reason"], f["severity"], f["object"]["kind"], f["object"]["name"], f.get("container"),
             f.get("cause")) for f in findings]


def check_report(case, objects, target_args, ns, code, stdout, stderr):
    assert code in (0, 1), f"exit {code}: {stderr[-2000:]}"
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    report = json.loads(stdout)
    findings = report["findings"]
    got = _describe(findings)
    for exp in case.get("expect") or []:
        # `object` is KIND/NAME, or a list of them when the finding may sit on either (a claim's
        # pending state reported on the claim or on the pod that mounts it)
        objs = exp["object"] if isinstance(exp["object"], list) else [exp["object"]]
        wanted = {tuple(o.split("/", 1)) for o in objs}
        # `reason` may also be a list when the catalogue leaves the choice open (PodNotReady or the
        # PodNotHealthy catch-all for a pod whose Ready condition and readiness gates disagree)
        reasons = exp["reason"] if isinstance(exp["reason"], list) else [exp["reason"]]
        hits = [f for f in findings
                if f["reason"] in reasons
                and (f["object"]["kind"], f["object"]["name"]) in wanted
                and (not exp.get("container") or f.get("container") == exp["container"])]
        assert hits, f"expected {exp['reason']} on {exp['object']}" \
                     f"{' container ' + exp['container'] if exp.get('container') else ''}; got {got}"
        if exp.get("cause"):
            assert any(f.get("cause") == exp["cause"] for f in hits), \
                f"cause of {exp['reason']} on {exp['object']}: {[f.get('cause') for f in hits]}"
        # `cause_not`: causes that would misread the source (e.g. "Unknown" where the runtime's
        # message says plainly what is wrong), without prescribing the analyzers' word for it
        if exp.get("cause_not"):
            assert any(f.get("cause") not in exp["cause_not"] for f in hits), \
                f"cause of {exp['reason']} on {exp['object']} should not be one of " \
                f"{exp['cause_not']}: {[f.get('cause') for f in hits]}"
    # `quiet`: objects (KIND/NAME) the source shows working; nothing at warning or above on them
    for obj in case.get("quiet") or []:
        kind, name = obj.split("/", 1)
        loud = [g for g in got if g[2] == kind and g[3] == name and g[1] in ("warning", "error")]
        assert not loud, f"{obj} works in the source, yet: {loud}"
    wrong = set(case.get("not_expected") or [])
    assert not [g for g in got if g[0] in wrong], f"reasons that are wrong for this case: {got}"
    if case.get("healthy"):
        assert code == 0, f"a healthy case should exit 0; got {got}"
        assert not [f for f in findings if f["severity"] in ("warning", "error")], got
    if case.get("expect"):
        assert code == 1, f"problems were expected, exit {code}"
    plugin = PLUGIN_NAMES[case["plugin"]]
    if plugin != "endpoints-check" or target_args != ["-A"]:
        broken = [p["metadata"]["name"] for p in _pods_in_scope(case, objects, target_args, ns)
                  if not pod_is_healthy(p)]
        if broken:
            assert code != 0, f"pods not Running+Ready nor Succeeded were called healthy: {broken}"


def test_corpus_is_big_enough():
    assert len(CASES) >= 60, len(CASES)
    healthy = [c for c in CASES if _case(c).get("healthy")]
    assert len(healthy) >= 10, healthy


@pytest.mark.parametrize("case_id", CASES)
def test_case_is_well_formed(case_id):
    case = _case(case_id)
    assert case.get("source"), "every case names its source"
    assert case.get("title") and case.get("note")
    assert case["plugin"] in PLUGIN_NAMES
    assert case.get("expect") or case.get("healthy"), "a case expects findings or is healthy"
    objects = _objects(os.path.join(HERE, case_id))
    assert objects, "no Kubernetes objects in the case folder"
    if case.get("healthy"):
        target_args, ns = _target(case, objects)
        pods = _pods_in_scope(case, objects, target_args, ns)
        assert all(pod_is_healthy(p) for p in pods), "a healthy case with an unhealthy pod"


@pytest.mark.parametrize("case_id", _params("offline"))
def test_case_offline(case_id):
    case = _case(case_id)
    case_dir = os.path.join(HERE, case_id)
    objects = _objects(case_dir)
    target_args, ns = _target(case, objects)
    argv = ["-f", case_dir, *target_args] + (["-n", ns] if ns else []) + ["-o", "json"]
    out, err = io.StringIO(), io.StringIO()
    code = run(PLUGIN_NAMES[case["plugin"]], argv, stdin=io.StringIO(""), stdout=out, stderr=err)
    check_report(case, objects, target_args, ns, code, out.getvalue(), err.getvalue())


# ---------------------------------------------------------------------------------------------
# live: the same objects served by the stand-in API server, timestamps moved so that the dump's
# newest moment is now (a case read years after it was posted still looks as fresh as it was).

_TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$")


def _newest(value, acc):
    if isinstance(value, dict):
        for v in value.values():
            _newest(v, acc)
    elif isinstance(value, list):
        for v in value:
            _newest(v, acc)
    elif isinstance(value, str) and _TS.match(value):
        acc.append(datetime.strptime(_TS.match(value).group(1), "%Y-%m-%dT%H:%M:%S")
                   .replace(tzinfo=timezone.utc))


def _shift(value, delta):
    if isinstance(value, dict):
        return {k: _shift(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, delta) for v in value]
    if isinstance(value, str):
        m = _TS.match(value)
        if m:
            t = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
            return (t + delta).strftime("%Y-%m-%dT%H:%M:%S") + (m.group(2) or "") + "Z"
    return value


def _served_kinds():
    from tests.standin.apiserver import StandInAPIServer
    return set(StandInAPIServer(objects=[])._by_kind)


def _live_copy(case_dir, dest):
    # A kind the stand-in server does not serve (a ReplicationController owning pods) is left out of
    # the live copy; the offline run still reads it.
    served = _served_kinds()
    objects = [o for o in _objects(case_dir) if o.get("kind") in served]
    stamps = []
    _newest(objects, stamps)
    if stamps:
        delta = datetime.now(timezone.utc).replace(microsecond=0) - max(stamps)
        objects = [_shift(copy.deepcopy(o), delta) for o in objects]
    os.makedirs(dest)
    with open(os.path.join(dest, "objects.json"), "w") as fh:
        json.dump({"apiVersion": "v1", "kind": "List", "items": objects}, fh)
    for name in os.listdir(case_dir):
        if name.endswith((".txt", ".log")):
            shutil.copy(os.path.join(case_dir, name), dest)
    return dest


@pytest.mark.parametrize("case_id", _params("live"))
def test_case_live(cluster, kubectl, tmp_path, case_id):
    case = _case(case_id)
    case_dir = os.path.join(HERE, case_id)
    objects = _objects(case_dir)
    target_args, ns = _target(case, objects)
    api = cluster(_live_copy(case_dir, str(tmp_path / "case")), namespace=ns or "default")
    result = kubectl(api, COMMANDS[case["plugin"]], *target_args, "-o", "json")
    check_report(case, objects, target_args, ns, result.returncode, result.stdout, result.stderr)
    assert api.gets_only()


# ---------------------------------------------------------------------------------------------
# the property over the whole corpus (issue 9, "Done when"): whatever the plugin, a scan that meets a
# pod which is not Running+Ready (nor Succeeded) never answers "healthy" (exit 0). SPEC: "Any other
# pod gets at least one finding (its cause, or PodNotHealthy)", in every plugin.

POD_PLUGINS = ("why", "oomcheck", "probecheck")

# plugin -> (what it gets wrong, the cases where it does today). Strict xfail, as KNOWN_GAPS.
PROPERTY_GAPS = {
    # plugin: (what it gets wrong, {case ids}) — empty: no pod plugin passes a broken pod.
}


def _property_params():
    out = []
    for case_id in CASES:
        for name in POD_PLUGINS:
            marks = []
            gap = PROPERTY_GAPS.get(name)
            if gap and case_id in gap[1]:
                marks.append(pytest.mark.xfail(reason=gap[0], strict=True))
            out.append(pytest.param(case_id, name, id=f"{case_id}-{name}", marks=marks))
    return out


@pytest.mark.parametrize("case_id,plugin_name", _property_params())
def test_no_pod_plugin_passes_an_unhealthy_pod(case_id, plugin_name):
    case_dir = os.path.join(HERE, case_id)
    objects = _objects(case_dir)
    broken = [p["metadata"]["name"] for p in objects if p.get("kind") == "Pod" and not pod_is_healthy(p)]
    if not broken:
        pytest.skip("every pod of this case is Running+Ready or Succeeded")
    out, err = io.StringIO(), io.StringIO()
    code = run(plugin_name, ["-f", case_dir, "-A", "-o", "json"], stdin=io.StringIO(""), stdout=out,
               stderr=err)
    assert "Traceback" not in err.getvalue() and "internal error" not in err.getvalue(), err.getvalue()
    assert code != 0, f"{plugin_name} -A passed pods that are not healthy {broken}: " \
                      f"{_describe(json.loads(out.getvalue())['findings'])}"
