"""The subjects a run judges, in one registry: pod, workload, service, ingress, node.

A subject is a kind of object a plugin can be asked about. For each: which target kinds name it,
which kinds a scan lists for it (once per namespace in scope, or once for the cluster with `-A`:
the request count depends on the number of kinds, never on the number of objects), and which
analyzers judge it (by plugin, in `analyzers/__init__.py`).

    subject   named by                                   scanned as                    judged by
    pod       NAME, pod/x; a workload/Service's pods     Pod                           POD_ANALYZERS
    workload  deploy/ rs/ sts/ ds/ job/ cronjob/ rc/     Deployment, ReplicaSet, ...   WORKLOAD_ANALYZERS
    service   svc/x (endpoints-check)                    Service                       SERVICE_ANALYZERS
    ingress   ingress/x (endpoints-check)                Ingress                       INGRESS_ANALYZERS
    node      node/x (oomcheck); -A scans (why)          Node                          NODE_ANALYZERS

A workload target is a subject of its own *and* stands for its pods, which are diagnosed too. An
Ingress target is judged, then the Services it sends traffic to. Chains between subjects (a rollout
→ its new pods, a Job → its failed pods) go through `diagnose_pods`, a function built here over the
engine's pod verdict and handed to the analyzers: analyzers never import the engine.
"""

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from . import analyzers, engine
from .cli import Options
from .findings import Finding, ObjectRef, Report
from .labels import matches, parse_selector
from .targets import WORKLOAD_KINDS, Target, lookup, not_found, owned_pods
from .view import ClusterView, meta

# Workload kinds listed by a scan (ReplicationController is judged when named, not listed).
SCANNED_WORKLOADS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob")


@dataclass(frozen=True)
class Subject:
    name: str
    target_kinds: Tuple[str, ...]   # target kinds that name an object of this subject
    scan_kinds: Tuple[str, ...]     # what a scan lists for it
    registry: str                   # the analyzers/__init__.py table that says who judges it


SUBJECTS: Dict[str, Subject] = {s.name: s for s in (
    Subject("pod", ("Pod",), ("Pod",), "POD_ANALYZERS"),
    Subject("workload", WORKLOAD_KINDS, SCANNED_WORKLOADS, "WORKLOAD_ANALYZERS"),
    Subject("service", ("Service",), ("Service",), "SERVICE_ANALYZERS"),
    Subject("ingress", ("Ingress",), ("Ingress",), "INGRESS_ANALYZERS"),
    Subject("node", ("Node",), ("Node",), "NODE_ANALYZERS"),
)}


def subject_of(kind: str) -> Optional[Subject]:
    return next((s for s in SUBJECTS.values() if kind in s.target_kinds), None)


def analyzers_for(subject: str, plugin: str) -> List[Callable]:
    return list(getattr(analyzers, SUBJECTS[subject].registry, {}).get(plugin, []))


# ---- running analyzers ------------------------------------------------------------------------


PodDiagnosis = engine.PodDiagnosis


def judge_workload(view: ClusterView, obj: dict, plugin: str, diagnose: Callable, targeted: bool):
    from .analyzers.workload.base import WorkloadContext
    ctx = WorkloadContext(view=view, obj=obj, plugin=plugin, diagnose_pods=diagnose, targeted=targeted)
    found, gaps = [], []
    for analyze in analyzers_for("workload", plugin):
        found += engine.guarded(view, analyze, f"{ctx.slash_name} -n {ctx.namespace}", gaps, ctx)
    return found, gaps


def judge_object(view: ClusterView, subject: str, obj: dict, plugin: str):
    found, gaps = [], []
    what = f"{subject} {meta(obj).get('namespace') + '/' if meta(obj).get('namespace') else ''}{meta(obj).get('name')}"
    for analyze in analyzers_for(subject, plugin):
        found += engine.guarded(view, analyze, what, gaps, view, obj, plugin)
    return found, gaps


# ---- selection ----------------------------------------------------------------------------------

def _label_filter(opts: Options, objs: List[dict]) -> List[dict]:
    if not opts.selector:
        return objs
    reqs = parse_selector(opts.selector)
    return [o for o in objs if matches(reqs, meta(o).get("labels"))]


def _controlled(obj: dict) -> Optional[dict]:
    refs = meta(obj).get("ownerReferences") or []
    return next((r for r in refs if r.get("controller")), None)


def select_workloads(view: ClusterView, opts: Options, targets: List[Target],
                     namespace: Optional[str]) -> List[Tuple[dict, bool]]:
    """(workload, named on the command line) pairs. A CronJob target brings its Jobs along; a scan
    judges the top-level controllers (a Deployment's ReplicaSets are judged through it)."""
    out, seen = [], set()

    def add(obj: dict, targeted: bool):
        key = (obj.get("kind"), meta(obj).get("namespace"), meta(obj).get("name"))
        if key not in seen:
            seen.add(key)
            out.append((obj, targeted))

    for t in targets:
        if t.kind not in WORKLOAD_KINDS:
            continue
        ns = t.namespace or namespace
        obj = lookup(view, t, ns, view.missing_targets)
        if obj is None:
            continue  # a stdin line whose object is gone: reported once, the batch goes on
        obj.setdefault("kind", t.kind)
        add(obj, True)
        if t.kind == "CronJob":
            for job in view.list("Job", ns):
                ref = _controlled(job)
                if ref and ref.get("kind") == "CronJob" and ref.get("name") == t.name:
                    add(job, False)
    if targets or not opts.all_namespaces and not opts.selector:
        return out
    for kind in SCANNED_WORKLOADS:
        for obj in _label_filter(opts, view.list(kind, namespace)):
            obj.setdefault("kind", kind)
            ref = _controlled(obj)
            if kind == "ReplicaSet" and ref and ref.get("kind") == "Deployment":
                continue
            add(obj, False)
    return out


# ---- the report ---------------------------------------------------------------------------------

def workload_summary(obj: dict) -> str:
    """`3/3 ready, revision 4` — the one-line state of a workload judged healthy."""
    st = obj.get("status") or {}
    kind = obj.get("kind")
    if kind == "DaemonSet":
        return f"{st.get('numberReady', 0)}/{st.get('desiredNumberScheduled', 0)} daemon pods ready"
    if kind == "Job":
        return f"{st.get('succeeded', 0)}/{(obj.get('spec') or {}).get('completions', 1)} completions"
    if kind == "CronJob":
        return f"schedule {(obj.get('spec') or {}).get('schedule')!r}, last run {st.get('lastScheduleTime') or 'never'}"
    desired = (obj.get("spec") or {}).get("replicas", 1)
    text = f"{st.get('readyReplicas', 0)}/{desired} ready"
    rev = (meta(obj).get("annotations") or {}).get("deployment.kubernetes.io/revision")
    return text + (f", revision {rev}" if rev else "")


def _add_verdict(report: Report, view: ClusterView, ref: ObjectRef, found: List[Finding],
                 gaps: List[str], detail: str, healthy: bool = True):
    report.findings.extend(found)
    if any(f.rank >= 1 for f in found):
        return
    missing = gaps + [engine._missing_text(e) for e in view.incomplete
                      if not e.get("object") and e.get("namespace") in (None, ref.namespace)]
    if missing:
        report.unverified[ref.slug()] = "; ".join(dict.fromkeys(missing))
        if detail:
            report.healthy_detail[ref.slug()] = detail  # what was seen, beside what was not
    elif healthy:
        report.healthy.append(ref)
        report.healthy_detail[ref.slug()] = detail


def build_report(view: ClusterView, opts: Options, targets: List[Target],
                 namespace: Optional[str]) -> Report:
    """Every subject the run names or scans, judged; one report."""
    if opts.plugin.subject == "service":
        return _service_report(view, opts, targets, namespace)
    plugin = opts.plugin.name
    pods = engine.select_pods(view, opts, targets, namespace)
    report = engine.build_report(view, opts, pods, nodes=[t.name for t in targets if t.kind == "Node"])
    for p in pods:  # for "on 3 of 10 pods of deployment/x"
        top = view.top_owner(p)
        if top is not None:
            report.owners[ObjectRef("Pod", meta(p).get("namespace"), meta(p).get("name", "")).slug()] = top.slug()
    diagnose = PodDiagnosis(view, plugin)
    workloads = select_workloads(view, opts, targets, namespace) if analyzers_for("workload", plugin) else []
    pod_findings, report.findings = report.findings, []
    # The pods already judged need not be judged again when a workload asks about them.
    by_pod: Dict[Tuple[str, str], List[Finding]] = {
        (meta(p).get("namespace") or "", meta(p).get("name") or ""): [] for p in pods}
    for f in pod_findings:
        key = (f.object.namespace or "", f.object.name)
        if f.object.kind == "Pod" and key in by_pod:
            by_pod[key].append(f)
    diagnose.seed(by_pod)
    healthy_pods = {r.slug() for r in report.healthy}
    for obj, targeted in workloads:
        found, gaps = judge_workload(view, obj, plugin, diagnose, targeted)
        # A workload is healthy only with nothing wrong of its own and every pod of it healthy.
        pods_ok = all(ObjectRef("Pod", meta(p).get("namespace"), meta(p).get("name", "")).slug() in healthy_pods
                      for p in owned_pods(view, obj, obj.get("kind")))
        _add_verdict(report, view, ObjectRef(obj.get("kind"), meta(obj).get("namespace"), meta(obj).get("name", "")),
                     found, gaps, workload_summary(obj), healthy=targeted and pods_ok)
    if opts.all_namespaces and not targets and analyzers_for("node", plugin):
        for node in view.list("Node"):
            found, _ = judge_object(view, "node", node, plugin)
            report.findings.extend(found)
    # The controllers and nodes first: what the user asked about, then the pods they explain.
    report.findings.extend(pod_findings)
    if not pods and not report.findings:
        report.notes.append(engine.empty_scope_hint(view, opts, targets, namespace))
    report.notes[:] = list(dict.fromkeys(report.notes + view.finish_notes()))
    for e in view.incomplete:
        if e not in report.incomplete:
            report.incomplete.append(e)
    return report


def _service_report(view: ClusterView, opts: Options, targets: List[Target], namespace: Optional[str]) -> Report:
    from .services import build_service_report, judge_service, service_summary
    diagnose = PodDiagnosis(view, "why")  # the backing pods' root causes, each pod once
    plugin = opts.plugin.name
    svc_targets = [t for t in targets if t.kind == "Service"]
    ing_targets = [t for t in targets if t.kind == "Ingress"]
    if svc_targets or not ing_targets:
        report = build_service_report(view, opts, svc_targets, namespace, diagnose)
    else:
        report = Report()
    judged = {r.slug() for r in report.healthy} | {f.object.slug() for f in report.findings} | set(report.unverified)
    ingresses = []
    for t in ing_targets:
        ns = t.namespace or namespace
        ing = view.get("Ingress", ns, t.name)
        if ing is None:
            raise not_found(view, "Ingress", t.name, ns)
        ingresses.append(ing)
    if not targets:
        ingresses = _label_filter(opts, view.list("Ingress", namespace)) if analyzers_for("ingress", plugin) else []
    from .analyzers.ingress.base import backends
    for ing in ingresses:
        ns = meta(ing).get("namespace") or "default"
        found, gaps = judge_object(view, "ingress", ing, plugin)
        ref = ObjectRef("Ingress", ns, meta(ing).get("name", ""))
        routes = []
        for b in backends(ing):
            text = f"{b.service}:{b.port_text}"
            if text not in routes:
                routes.append(text)
        _add_verdict(report, view, ref, found, gaps,
                     ("→ " + ", ".join(routes)) if routes else "no Service backends")
        # then the Services it sends traffic to, each judged once
        for name in dict.fromkeys(b.service for b in backends(ing)):
            svc = view.get("Service", ns, name)
            if svc is None:
                continue
            sref = ObjectRef("Service", ns, name)
            if sref.slug() in judged:
                continue
            judged.add(sref.slug())
            sfound, sgaps = judge_service(view, svc, plugin, diagnose)
            _add_verdict(report, view, sref, sfound, sgaps, service_summary(view, svc, plugin))
    if ing_targets and not svc_targets:
        report.notes[:] = [n for n in report.notes if not n.startswith("no services in")]
    report.notes[:] = list(dict.fromkeys(report.notes + view.finish_notes()))
    for e in view.incomplete:
        if e not in report.incomplete:
            report.incomplete.append(e)
    return report
