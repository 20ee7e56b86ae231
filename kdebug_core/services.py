"""Service subjects (endpoints-check): which Services a run looks at, and their report.

Targets are Services (`svc/NAME`, `-` on stdin); with none, every Service in the namespace (or in
all of them with `-A`), filtered by `-l`. Each Service goes through the Service analyzers of the
registry; one with no problem gets its one-line state (`2/2 endpoints ready on port 80 → 80`).
"""

from typing import List, Optional

from . import analyzers
from .analyzers.service.service_base import ServiceContext, find_port, target_port
from .cli import Options
from .findings import ObjectRef, Report
from .labels import matches, parse_selector
from .targets import Target, not_found
from .view import ClusterView, meta


def select_services(view: ClusterView, opts: Options, targets: List[Target],
                    namespace: Optional[str]) -> List[dict]:
    if targets:
        services, seen = [], set()
        for t in targets:
            ns = t.namespace or namespace
            svc = view.get("Service", ns, t.name)
            if svc is None:
                raise not_found(view, "Service", t.name, ns)
            key = (meta(svc).get("namespace"), meta(svc).get("name"))
            if key not in seen:
                seen.add(key)
                services.append(svc)
    else:
        services = sorted(view.list("Service", namespace),
                          key=lambda s: (meta(s).get("namespace") or "", meta(s).get("name") or ""))
        unreadable = view.subject_unreadable("Service", namespace)
        if unreadable is not None:
            raise unreadable
    if opts.selector:
        reqs = parse_selector(opts.selector)
        services = [s for s in services if matches(reqs, meta(s).get("labels"))]
    return services


def analyze_service(view: ClusterView, service: dict, plugin: str, diagnose=None):
    return judge_service(view, service, plugin, diagnose)[0]


def judge_service(view: ClusterView, service: dict, plugin: str, diagnose=None):
    """The Service's findings, and the analyzers that failed on it (a gap, never a pass).
    `diagnose(pods)`: the engine's pod diagnosis, handed to the analyzers that chain into the
    backing pods (service_readiness), so that no analyzer imports the engine."""
    import inspect
    from .engine import PodDiagnosis, guarded
    if diagnose is None:
        diagnose = PodDiagnosis(view, "why")
    found, gaps = [], []
    what = f"service {meta(service).get('namespace')}/{meta(service).get('name')}"
    for analyze in analyzers.SERVICE_ANALYZERS.get(plugin, []):
        extra = {"diagnose": diagnose} if "diagnose" in inspect.signature(analyze).parameters else {}
        found.extend(guarded(view, analyze, what, gaps, view, service, plugin, **extra))
    return found, gaps


def _failed_reads_in(view: ClusterView, namespace: Optional[str]) -> List[str]:
    out = []
    for e in view.incomplete:
        if e.get("namespace") in (None, namespace) and not e.get("object"):
            where = f" in namespace {e['namespace']}" if e.get("namespace") else ""
            out.append(f"{e['resource']}{where} could not be read"
                       + (f" (HTTP {e['status']})" if e.get("status") else ""))
    return out


def service_summary(view: ClusterView, service: dict, plugin: str) -> str:
    """`2/2 endpoints ready on port 80 → 80` — the one-line state of a Service judged healthy."""
    ctx = ServiceContext(view, service, plugin)
    if ctx.type == "ExternalName":
        return f"ExternalName → {ctx.spec.get('externalName', '?')} (no endpoints by design)"
    eps = ctx.endpoints()
    if eps.source == "none":
        return "no selector; its endpoints are not in the input"
    items = [e for e in eps.items if not e.terminating]
    text = f"{len(eps.ready)}/{len(items)} endpoints ready"
    ports = [_port_text(ctx, sp, eps) for sp in ctx.ports]
    if ports:
        text += f" on port{'s' if len(ports) > 1 else ''} {', '.join(ports)}"
    if not ctx.selector:
        text += "; no selector: endpoints listed by hand or by an operator"
    elif eps.source == "computed":
        text += " (computed from the pods)"
    return text


def _port_text(ctx: ServiceContext, sp: dict, eps) -> str:
    target = target_port(sp)
    text = f"{sp.get('port')} → {target}"
    if isinstance(target, str):
        resolved = next((p.get("port") for e in eps.ready for p in e.ports
                         if (p.get("name") or "") == (sp.get("name") or "")), None)
        if resolved is None:
            resolved = next((find_port(p, sp) for p in ctx.pods() if find_port(p, sp) is not None), None)
        if resolved is not None:
            text += f" ({resolved})"
    if (sp.get("protocol") or "TCP") != "TCP":
        text += f"/{sp.get('protocol')}"
    return text


def build_service_report(view: ClusterView, opts: Options, targets: List[Target],
                         namespace: Optional[str], diagnose=None) -> Report:
    from .engine import PodDiagnosis
    report = Report()
    plugin = opts.plugin.name
    diagnose = diagnose or PodDiagnosis(view, "why")  # one per run: each pod diagnosed once
    services = select_services(view, opts, targets, namespace)
    # a scan's log budget goes to the pods behind the Services judged, not to every pod in scope
    view.set_log_subjects([p for svc in services for p in ServiceContext(view, svc, plugin).pods()])
    for svc in services:
        found, gaps = judge_service(view, svc, plugin, diagnose)
        report.findings.extend(found)
        if not any(f.rank >= 1 for f in found):
            ref = ObjectRef("Service", meta(svc).get("namespace"), meta(svc).get("name", ""))
            missing = gaps + _failed_reads_in(view, meta(svc).get("namespace"))
            if missing:
                report.unverified[ref.slug()] = "; ".join(dict.fromkeys(missing))
                report.healthy_detail[ref.slug()] = service_summary(view, svc, plugin)
                continue
            report.healthy.append(ref)
            report.healthy_detail[ref.slug()] = service_summary(view, svc, plugin)
    if not services:
        where = f"namespace {namespace}" if namespace else "any namespace"
        report.notes.append(f"no services in {where}"
                            + (f" match -l {opts.selector}" if opts.selector else ""))
    report.notes.extend(n for n in view.finish_notes() if n not in report.notes)
    report.incomplete.extend(view.incomplete)
    return report
