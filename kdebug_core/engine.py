"""One run of a plugin: pick the source, resolve the targets, run the analyzers, build the report."""

import inspect
import math
import os
from typing import Dict, Iterable, List, Optional, Tuple

from . import analyzers
from .analyzers.pod import pod_health
from .analyzers.pod.pod_health import pod_summary  # noqa: F401  (the engine's one-line pod state)
from .analyzers.base import PodContext
from .errors import KdebugError
from .cli import SCAN_LOG_BUDGET, Options
from .findings import Finding, ObjectRef, Report, TimelineEntry
from .sanitize import clean
from .targets import Target, parse_target, pods_of, targets_from_stdin
from .timeutil import parse_time
from .view import ClusterView, ViewOptions, event_time, meta


def open_view(opts: Options, stdin) -> Tuple[ClusterView, List[Target], Optional[str]]:
    """Source and scope: (view, targets, namespace in scope or None for all)."""
    from .sources.kubeconfig import ConnectionOptions
    from .sources.live import parse_request_timeout

    # Targets first: a malformed one is a usage error (exit 2) whether or not a cluster is there.
    allowed = opts.plugin.target_kinds
    targets = [parse_target(t, allowed) for t in opts.targets]
    if opts.stdin_targets:
        targets += targets_from_stdin(stdin.read(), allowed)

    conn = ConnectionOptions(kubeconfig=opts.kubeconfig, context=opts.context,
                             request_timeout=parse_request_timeout(opts.request_timeout),
                             as_user=opts.as_user, as_groups=opts.as_groups)
    if opts.offline:
        from .sources.files import FileBackend
        from .sources.kubeconfig import context_namespace_only
        backend = FileBackend.from_paths(opts.filenames, stdin)
        context_ns = None if (opts.namespace or opts.all_namespaces) else context_namespace_only(conn)
    else:
        from .sources.kubeconfig import load_configuration
        from .sources.live import LiveBackend
        cfg, context_ns = load_configuration(conn)
        backend = LiveBackend(cfg, conn)
    namespace = None if opts.all_namespaces else (opts.namespace or context_ns or "default")
    single = len(targets) == 1 and targets[0].kind in ("Pod", "Service") and not opts.selector
    view = ClusterView(backend, ViewOptions(
        namespace=namespace, scan=not single,
        log_budget=math.inf if (opts.all_logs or single) else SCAN_LOG_BUDGET, tail_lines=opts.tail))
    return view, targets, namespace


def select_pods(view: ClusterView, opts: Options, targets: List[Target],
                namespace: Optional[str]) -> List[dict]:
    from .labels import matches, parse_selector

    if targets:
        pods, seen = [], set()
        for t in targets:
            for p in pods_of(view, t, namespace, view.missing_targets):
                key = (meta(p).get("namespace"), meta(p).get("name"))
                if key not in seen:
                    seen.add(key)
                    pods.append(p)
    else:
        pods = list(view.list("Pod", namespace))
    unreadable = view.subject_unreadable("Pod", namespace)
    if unreadable is not None:
        raise unreadable  # no pods read is not "no pods": exit 3 with what to try
    if opts.selector:
        reqs = parse_selector(opts.selector)
        pods = [p for p in pods if matches(reqs, meta(p).get("labels"))]
    view.set_log_subjects(pods)  # a scan's log budget goes to these pods, not the whole scope
    return pods


def analyze_pod(view: ClusterView, pod: dict, plugin: str) -> List[Finding]:
    return judge_pod(view, pod, plugin)[0]


def judge_pod(view: ClusterView, pod: dict, plugin: str) -> Tuple[List[Finding], List[str]]:
    """The pod's findings, and what kept its analysis from being complete (analyzers that failed).

    Every pod that is not healthy leaves with at least one finding: its cause, or PodNotHealthy
    (see analyzers/pod_health.py). A failed analyzer is a gap in the evidence, never a pass.
    """
    ctx = PodContext(view=view, pod=pod, plugin=plugin, owner=view.top_owner(pod))
    found: List[Finding] = []
    gaps: List[str] = []
    what = f"pod {ctx.namespace}/{ctx.name}"
    for analyze in analyzers.pod_analyzers(plugin):
        found.extend(guarded(view, analyze, what, gaps, ctx))
    found = drop_superseded(found)
    found.extend(guarded(view, pod_health.analyze, what, gaps, ctx, found, plugin))
    return found, gaps


class PodDiagnosis:
    """The engine's pod verdict, computed once per pod and shared by every subject that asks."""

    def __init__(self, view: ClusterView, plugin: str):
        self.view, self.plugin = view, plugin
        self._cache: Dict[Tuple[str, str], List[Finding]] = {}

    def seed(self, verdicts: Dict[Tuple[str, str], List[Finding]]):
        self._cache.update(verdicts)

    def __call__(self, pods: List[dict]) -> List[Finding]:
        out = []
        for p in pods:
            key = (meta(p).get("namespace") or "", meta(p).get("name") or "")
            if key not in self._cache:
                self._cache[key] = judge_pod(self.view, p, self.plugin)[0]
            out.extend(self._cache[key])
        return out


def guarded(view: ClusterView, analyze, what: str, gaps: List[str], *args, **kwargs) -> List[Finding]:
    """One analyzer's findings. Its failure is a gap in the evidence (the verdict becomes "could
    not verify"), never a pass and never a traceback; one faulty analyzer hides nothing the others
    found. A KdebugError (the cluster went away or refused us as a whole) ends the run."""
    try:
        return list(analyze(*args, **kwargs))
    except KdebugError:
        raise
    except Exception as exc:
        if os.environ.get("KDEBUG_DEBUG"):
            raise
        name = analyze.__module__.rsplit(".", 1)[-1]
        gaps.append(f"analyzer {name} failed")
        view.note(f"internal error in {name} on {what}: {type(exc).__name__}: {exc} "
                  f"(KDEBUG_DEBUG=1 shows the traceback; please report it)")
        return []


def drop_superseded(found: List[Finding]) -> List[Finding]:
    """Keep the cause, drop the symptom it explains (per container, or pod-wide for the causes in
    POD_WIDE_CAUSES; see SUPERSEDED_BY)."""
    present = {(f.container, f.reason) for f in found}
    pod_wide = {f.reason for f in found if f.reason in analyzers.POD_WIDE_CAUSES}
    out = []
    for f in found:
        causes = analyzers.SUPERSEDED_BY.get(f.reason, ())
        if any((f.container, other) in present or other in pod_wide for other in causes):
            continue
        if f not in out:
            out.append(f)
    return out


def timeline(view: ClusterView, pod: dict) -> List[TimelineEntry]:
    """Container state changes and events about the pod, merged in time order (for -o wide)."""
    entries = []
    status = pod.get("status") or {}
    for group in ("initContainerStatuses", "containerStatuses"):
        for cs in status.get(group) or []:
            name = cs.get("name")
            last = (cs.get("lastState") or {}).get("terminated")
            if last:
                entries.append(TimelineEntry(last.get("startedAt"), f"container {name} started"))
                entries.append(TimelineEntry(
                    last.get("finishedAt"),
                    f"container {name} terminated: {last.get('reason')} (exit {last.get('exitCode')})"))
            state = cs.get("state") or {}
            if state.get("running"):
                entries.append(TimelineEntry(state["running"].get("startedAt"),
                                             f"container {name} running"))
            if state.get("terminated"):
                t = state["terminated"]
                entries.append(TimelineEntry(
                    t.get("finishedAt"), f"container {name} terminated: {t.get('reason')} "
                                         f"(exit {t.get('exitCode')})"))
            if state.get("waiting"):
                entries.append(TimelineEntry(None, f"container {name} now waiting: "
                                                   f"{state['waiting'].get('reason')}"))
    for ev in view.events_for(pod, "Pod"):
        count = ev.get("count") or 1
        entries.append(TimelineEntry(
            (event_time(ev).isoformat() if event_time(ev) else None),
            f"{ev.get('type', 'Normal')} {ev.get('reason')}" + (f" (x{count})" if count > 1 else "")
            + f": {clean(ev.get('message', ''))}"))
    far_future = parse_time("9999-01-01T00:00:00Z")
    entries.sort(key=lambda e: parse_time(e.time) or far_future)
    return entries


def build_report(view: ClusterView, opts: Options, pods: List[dict], nodes: Iterable[str] = ()) -> Report:
    """Every pod judged, then the scope analyzers (node-level OOM on the pods' nodes, the `nodes`
    named as targets, and every Node in a cluster-wide scan)."""
    report = Report()
    plugin = opts.plugin.name
    view.probe_now = opts.probe_now  # probecheck --probe-now (see kdebug_core/probe_now.py)
    for pod in pods:
        found, gaps = judge_pod(view, pod, plugin)
        ref = ObjectRef("Pod", meta(pod).get("namespace"), meta(pod).get("name", ""))
        report.findings.extend(found)
        if not any(f.rank >= 1 for f in found):
            missing = gaps + [_missing_text(e) for e in view.failed_reads_for(pod)]
            if missing:
                # Nothing wrong found, but a read the verdict needed failed: not "healthy", and
                # not "starting" or "not my class" either — the evidence is incomplete.
                report.unverified[ref.slug()] = "; ".join(dict.fromkeys(missing))
            elif pod_health.is_healthy(pod):
                report.healthy.append(ref)
                report.healthy_detail[ref.slug()] = pod_summary(pod)
            # else: starting, or not this plugin's class: an info finding says so
        if opts.output == "wide" and found:
            report.timelines[ref.slug()] = timeline(view, pod)
    for scope_analyzer in analyzers.SCOPE_ANALYZERS.get(plugin, []):
        try:
            if "nodes" in inspect.signature(scope_analyzer).parameters:
                report.findings.extend(scope_analyzer(view, pods, plugin, nodes=nodes))
            else:
                report.findings.extend(scope_analyzer(view, pods, plugin))
        except KdebugError:
            raise
        except Exception as exc:
            if os.environ.get("KDEBUG_DEBUG"):
                raise
            name = scope_analyzer.__module__.rsplit('.', 1)[-1]
            view.note(f"internal error in {name}: {type(exc).__name__}: {exc} "
                      f"(KDEBUG_DEBUG=1 shows the traceback; please report it)")
            report.incomplete.append({"resource": f"analysis {name}", "namespace": None,
                                      "status": None, "message": f"{type(exc).__name__}: {exc}"})
    report.notes.extend(view.finish_notes())
    report.incomplete.extend(view.incomplete)
    return report


def _missing_text(entry: dict) -> str:
    """`events in namespace shop (HTTP 500)` — one failed read, for an unverified verdict."""
    where = f" in namespace {entry['namespace']}" if entry.get("namespace") else ""
    what = entry["resource"] + (f" of {entry['object']}" if entry.get("object") else "")
    status = entry.get("status")
    return f"{what}{where} could not be read" + (f" (HTTP {status})" if status else "")


def empty_scope_hint(view: ClusterView, opts: Options, targets: List[Target],
                     namespace: Optional[str]) -> str:
    """Why nothing was examined, and where the pods are when they are elsewhere."""
    if targets:
        return "the target has no pods (scaled to zero, or its pods were not created: " \
               "check kubectl describe on it)"
    where = f"namespace {namespace}" if namespace else "any namespace"
    if namespace and view.offline:
        others = sorted({meta(p).get("namespace") for p in view.list("Pod", None)} - {namespace})
        if others:
            return f"no pods in {where}; the files hold pods in {', '.join(others)}: use -A or -n"
    return f"no pods in {where}" + (f" match -l {opts.selector}" if opts.selector else "")
