"""`kubectl oomcheck`'s default view: one row per container killed for memory or close to it.

    NAMESPACE  POD                          CONTAINER  KILLS       KIND       REQUEST  LIMIT  USAGE  SUGGESTED
    default    memory-hog-5bb769c8d4-2mz8t  app        5 (1m ago)  OOMKilled  64Mi     128Mi  -      256Mi

Below the table: the `kubectl set resources` commands to paste (one per workload and container,
the largest suggestion when several findings suggest one), the runbook's advice when a higher
limit is the wrong fix, node-level OOM kills no pod could be tied to, the containers without a
memory limit, and the notes. Everything comes from the findings' `details`, so the table shows what
`-o json` holds; `-o wide` is the per-object detail view of the other plugins.
"""

from typing import Dict, List, Optional, Tuple

from tabulate import tabulate

from ..findings import Finding, Report
from ..quantity import format_bytes, memory_bytes
from ..sanitize import clean
from .text import Style, fix_lines

# The table's KIND column, and which finding of a row speaks first (lower is first).
KIND = {"OOMKilled": "OOMKilled", "SystemOOM": "SystemOOM", "EvictedMemoryPressure": "Evicted",
        "ContainerExitedSIGKILL": "SIGKILL-not-OOM", "CrashLoopBackOff": "SIGKILL-not-OOM",
        "LivenessProbeFailed": "SIGKILL-not-OOM (liveness probe)",
        "LivenessKillsSlowStart": "SIGKILL-not-OOM (liveness probe)",
        "StartupProbeFailed": "SIGKILL-not-OOM (startup probe)",
        "MemoryNearLimit": "near limit"}
ORDER = ["OOMKilled", "SystemOOM", "EvictedMemoryPressure", "MemoryNearLimit", "ContainerExitedSIGKILL",
         "CrashLoopBackOff", "LivenessProbeFailed", "LivenessKillsSlowStart", "StartupProbeFailed"]
HEADERS = ["NAMESPACE", "POD", "CONTAINER", "KILLS", "KIND", "REQUEST", "LIMIT", "USAGE", "SUGGESTED"]

RAISE_ADVICE = ("if the container is not expected to need this much memory, a higher limit (or a bigger "
                "node) only postpones the next kill: reduce batch sizes, stream data instead of loading it "
                "all at once; for ML models use lower precision or quantization (FP16/INT8)")
NODE_ADVICE = ("the node ran out of memory, not the container: set requests to what the containers "
               "really use (the scheduler places pods by their requests) and give every container a "
               "memory limit")
SIGKILL_ADVICE = ("exit 137 without reason OOMKilled is a SIGKILL from elsewhere (probe, eviction, "
                  "kill -9): a higher memory limit will not help; see kubectl why POD")

Row = Tuple[str, str, str]


def render(report: Report, color: bool = False, plugin: str = "oomcheck") -> str:
    style = Style(color)
    rows: Dict[Row, List[Finding]] = {}
    node_level, no_limit, other = [], [], []
    for f in report.findings:
        if f.reason == "NoMemoryLimit":
            no_limit.append(f)
        elif f.object.kind == "Pod" and f.reason in KIND:
            key = (f.object.namespace or "", f.object.name, f.container or "")
            rows.setdefault(key, []).append(f)
        elif f.reason == "SystemOOM":
            node_level.append(f)
        else:
            other.append(f)
    for found in rows.values():
        found.sort(key=lambda f: ORDER.index(f.reason))
    ordered = sorted(rows.items())
    # A container with a row already says it has no limit (REQUEST/LIMIT columns): list the others.
    no_limit = [f for f in no_limit
                if not any((f.object.namespace or "", pod, f.container or "") in rows
                           for pod in (f.details or {}).get("pods") or [f.object.name])]

    out: List[str] = []
    if ordered:
        table = [_row(key, found, style) for key, found in ordered]
        out += tabulate(table, headers=HEADERS, tablefmt="plain", disable_numparse=True,
                        stralign="left").splitlines()
        commands = _commands([found for _key, found in ordered])
        if commands:
            out += ["", style("to set the suggested memory:", "dim")]
            out += fix_lines(commands, style, "")
        advice = _advice([f for _k, found in ordered for f in found])
        if advice:
            out += [""] + [style(f"advice: {a}", "dim") for a in advice]
    for f in node_level:
        out += [""] + _node_lines(f, style)
    for f in other:
        out += ["", f"{_ref(f)}: {f.reason}: {clean(f.summary)}"]
    if no_limit:
        out += [""] + _no_limit_lines(no_limit, style)
    out += _checked_line(report, rows, style, nothing=not (ordered or node_level or other))
    if report.unverified:
        from .text import _unverified
        out += _unverified(report, style)
    for note in report.notes:
        out.append(style(f"note: {clean(note)}", "dim"))
    while out and out[0] == "":
        out.pop(0)
    return "\n".join(out) + "\n"


# ---- the row --------------------------------------------------------------------------------------

def _row(key: Row, found: List[Finding], style: Style) -> List[str]:
    ns, pod, container = key
    d = _merged(found)
    kinds = list(dict.fromkeys(KIND[f.reason] for f in found))
    worst = max(found, key=lambda f: f.rank)
    kind = style(", ".join(kinds), worst.severity)
    return [clean(ns), clean(pod), clean(container) or "-", _kills(d), kind,
            _qty(d.get("request"), "-"), _qty(d.get("limit"), "none"), _usage(found, d),
            _suggested(found)]


def _merged(found: List[Finding]) -> dict:
    """The row's details: the first finding's, filled in from the others."""
    d: dict = {}
    for f in found:
        for k, v in (f.details or {}).items():
            if d.get(k) is None and v is not None:
                d[k] = v
    return d


def _kills(d: dict) -> str:
    restarts = d.get("restartCount")
    ago = d.get("lastKillAgo")
    head = "-" if restarts is None else str(restarts)
    return f"{head} ({clean(ago)} ago)" if ago else head


def _qty(raw, absent: str) -> str:
    if raw is None or raw == "":
        return absent
    n = memory_bytes(raw)
    return format_bytes(n) if n is not None else clean(raw)


def _usage(found: List[Finding], d: dict) -> str:
    near = next((f for f in found if f.reason == "MemoryNearLimit"), None)
    if near:
        return f"{format_bytes(near.details['usageBytes'])} ({near.details['usagePercent']}%)"
    evicted = next((f for f in found if f.reason == "EvictedMemoryPressure"), None)
    if evicted and evicted.details.get("usageBytes"):
        return f"{format_bytes(evicted.details['usageBytes'])} at eviction"
    system = next((f for f in found if f.reason == "SystemOOM"), None)
    if system and system.details.get("anonRssBytes"):
        return f"{format_bytes(system.details['anonRssBytes'])} at kill"
    if d.get("usageBytes") is not None:
        return format_bytes(d["usageBytes"])
    return "-"


def _suggested(found: List[Finding]) -> str:
    best = _largest(found)
    return clean(best.details["suggestedLimit"]) if best else "-"


def _largest(found: List[Finding]) -> Optional[Finding]:
    """The finding that suggests the largest limit (raising to the smaller one would not hold)."""
    best, size = None, -1
    for f in found:
        n = memory_bytes((f.details or {}).get("suggestedLimit"))
        if n is not None and n > size:
            best, size = f, n
    return best


# ---- below the table -------------------------------------------------------------------------------

def _commands(groups: List[List[Finding]]) -> List[str]:
    """One fix per workload and container: the largest suggested limit's commands."""
    chosen: Dict[Tuple[str, str, str], Tuple[int, List[str]]] = {}
    def fix(f: Finding) -> List[str]:
        return [s for s in f.suggestions if s.startswith("kubectl set resources")
                or "-o yaml >" in s or s.startswith("kubectl replace --force")]

    for found in groups:
        # The largest suggested limit; else a command with the LIMIT placeholder to fill in.
        best = _largest(found) or next((f for f in found if fix(f)), None)
        if best is None:
            continue
        cmds = fix(best)
        if not cmds:
            continue
        owner = best.owner.name if best.owner else best.object.name
        key = (best.object.namespace or "", owner, best.container or "")
        size = memory_bytes(best.details.get("suggestedLimit")) or 0
        if key not in chosen or size > chosen[key][0]:
            chosen[key] = (size, cmds)
    out: List[str] = []
    for _size, cmds in chosen.values():
        out += [c for c in cmds if c not in out]
    return out


def _advice(found: List[Finding]) -> List[str]:
    reasons = {f.reason for f in found}
    out = []
    if reasons & {"OOMKilled", "MemoryNearLimit", "SystemOOM"}:
        out.append(RAISE_ADVICE)
    if reasons & {"SystemOOM", "EvictedMemoryPressure"}:
        out.append(NODE_ADVICE)
    if any(f.details.get("notOOM") for f in found):
        out.append(SIGKILL_ADVICE)
    return out


def _ref(f: Finding) -> str:
    return f"{f.object.kind.lower()}/{clean(f.object.name)}" + (
        f" -n {clean(f.object.namespace)}" if f.object.namespace else "")


def _node_lines(f: Finding, style: Style) -> List[str]:
    lines = [style(f"✗ {_ref(f)}: SystemOOM", f.severity), f"  {clean(f.summary)}"]
    for e in f.evidence:
        lines.append(f"    • {clean(e)}")
    lines += fix_lines(f.fixes, style, "  ")
    return lines


def _no_limit_lines(found: List[Finding], style: Style) -> List[str]:
    items = []
    for f in found:
        pods = (f.details or {}).get("pods") or [f.object.name]
        where = f"{clean(f.owner.kind.lower())}/{clean(f.owner.name)}" if f.owner else f"pod/{clean(f.object.name)}"
        items.append(f"{clean(f.object.namespace)}/{where} ({clean(f.container)}"
                     + (f", {len(pods)} pods" if len(pods) > 1 else "") + ")"
                     + (" on a node with SystemOOM" if f.details.get("nodesWithSystemOOM") else ""))
    shown = ", ".join(items[:8]) + (f" and {len(items) - 8} more" if len(items) > 8 else "")
    mark = "!" if any(f.rank >= 1 for f in found) else "i"
    return [style(f"{mark} no memory limit: {shown}", "warning" if mark == "!" else "info"),
            style("  the node OOM killer picks such containers first; kubectl oomcheck -o wide shows a "
                  "limit to set for each", "dim")]


def _checked_line(report: Report, rows, style: Style, nothing: bool) -> List[str]:
    pods = {r.slug() for r in report.healthy} | {f.object.slug() for f in report.findings
                                                   if f.object.kind == "Pod"}
    pods -= set(report.unverified)  # a verdict that needed a failed read is not "no kills"
    affected = {f"{ns}/pod/{pod}" if ns else f"pod/{pod}" for ns, pod, _c in rows}
    fine = len(pods - affected)
    if not pods:
        return [] if not nothing or report.unverified else ["nothing to examine: no matching pods in scope"]
    if nothing and report.incomplete:
        return ["", style(f"? {len(pods)} pod{'s' if len(pods) != 1 else ''} checked: no memory kill "
                          f"seen, but not everything could be read (see the notes)", "warning")]
    if nothing:
        return ["", style(f"✓ {len(pods)} pod{'s' if len(pods) != 1 else ''} checked: no memory kills, "
                          f"none near its memory limit", "ok")]
    if fine and report.incomplete:
        return ["", style(f"? {fine} other pod{'s' if fine != 1 else ''}: no memory kill seen, but "
                          f"not everything could be read (see the notes)", "warning")]
    if fine:
        return ["", style(f"✓ {fine} other pod{'s' if fine != 1 else ''}: no memory kills", "ok")]
    return []
