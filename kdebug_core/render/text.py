"""Human output: findings grouped per object, evidence, then commands to paste.

Everything that came from the cluster passes through `sanitize.clean` (analyzers clean what they
quote; this module cleans names and anything else it prints), so a hostile pod name or log line
cannot drive the reader's terminal. Colour only on a terminal, never with NO_COLOR/--no-color.
"""

from collections import OrderedDict
from typing import Dict, List

from ..catalogue import REASONS
from ..findings import CAUSED_BY, Finding, Report, as_fix, root_groups
from ..sanitize import clean

_COLOURS = {"error": "31", "warning": "33", "info": "36", "ok": "32", "dim": "2", "bold": "1",
            "cmd": "1"}
_MARK = {"error": "✗", "warning": "!", "info": "i"}


class Style:
    def __init__(self, color: bool):
        self.color = color

    def __call__(self, text: str, what: str) -> str:
        if not self.color:
            return text
        return f"\x1b[{_COLOURS[what]}m{text}\x1b[0m"


def _object_header(f: Finding) -> str:
    obj = f.object
    where = f" -n {clean(obj.namespace)}" if obj.namespace else ""
    owner = ""
    if f.owner and (f.owner.kind, f.owner.name) != (obj.kind, obj.name):
        owner = f"  ({f.owner.kind} {clean(f.owner.name)})"
    return f"{obj.kind.lower()}/{clean(obj.name)}{where}{owner}"


def render_finding(f: Finding, style: Style, indent: str = "  ", shown: frozenset = frozenset()) -> List[str]:
    """A finding: headline, summary, evidence, related findings, fixes. A related finding about an
    object the report shows on its own (`shown`: object slugs) is one line and its summary."""
    lines = []
    label = f.reason + (f" [{f.cause}]" if f.cause else "")
    container = f"  container {clean(f.container)}" if f.container else ""
    lines.append(f"{indent}{style(_MARK[f.severity] + ' ' + label, f.severity)}{container}")
    lines.append(f"{indent}  {clean(f.summary)}")
    if f.evidence:
        lines.append(f"{indent}  {style('evidence:', 'dim')}")
        for e in f.evidence:
            text = clean(e, keep_newlines=True)
            first, *rest = text.split("\n")
            lines.append(f"{indent}    • {first}")
            lines.extend(f"{indent}      {r}" for r in rest)
    for r in f.related:
        lines.append(f"{indent}  {style('because:', 'dim')}")
        if r.object.slug() in shown and r.object.slug() != f.object.slug():
            sub = indent + "    "
            label_r = r.reason + (f" [{r.cause}]" if r.cause else "")
            where = f"  container {clean(r.container)}" if r.container else ""
            lines.append(f"{sub}{style(_MARK[r.severity] + ' ' + label_r, r.severity)}{where}  on "
                         f"{r.object.kind.lower()}/{clean(r.object.name)} (in full below)")
            lines.append(f"{sub}  {clean(r.summary)}")
            continue
        lines.extend(render_finding(r, style, indent + "    ", shown))
    if f.suggestions:
        lines.append(f"{indent}  {style('try:', 'dim')}")
        lines.extend(fix_lines(f.fixes, style, indent + "    "))
    return lines


def fix_lines(fixes, style: Style, indent: str) -> List[str]:
    """Each fix as its why (a short dim line) above the bare command: no `$ ` prompt and no
    trailing comment, so a triple-click copies exactly the command."""
    lines = []
    for fix in map(as_fix, fixes):
        if fix.why:
            lines.append(f"{indent}{style(clean(fix.why), 'dim')}")
        lines.append(f"{indent}  {style(clean(str(fix)), 'cmd')}")
    return lines


def _blocks(report: Report) -> "OrderedDict[tuple, List[Finding]]":
    """Findings in the order to show them: one block per object, except that the same root cause
    on several pods of one owner (same `group`: owner, reason, container, cause) is one block."""
    group_of = root_groups(report.findings)
    pods_per_group: Dict[str, set] = {}
    for f in report.findings:
        if f.object.kind == "Pod" and f.owner is not None:
            pods_per_group.setdefault(group_of[id(f)], set()).add(f.object.slug())
    folded = {g for g, pods in pods_per_group.items() if len(pods) > 1}
    blocks: "OrderedDict[tuple, List[Finding]]" = OrderedDict()
    for f in report.findings:
        g = group_of[id(f)]
        key = ("group", g) if g in folded and f.object.kind == "Pod" else ("object", f.object.slug())
        blocks.setdefault(key, []).append(f)
    return blocks


def _pods_of_owner(report: Report, owner_slug: str) -> int:
    return sum(1 for o in report.owners.values() if o == owner_slug)


def _group_lines(report: Report, found: List[Finding], style: Style, wide: bool) -> List[str]:
    """One root cause on several pods of one owner: the owner, how many pods, the first pod's
    evidence and the fixes once; every pod's name with -o wide."""
    first = found[0]
    owner = first.owner
    pods = list(dict.fromkeys(f.object.name for f in found))
    # A symptom folded with its cause (ReadinessProbeFailed → ProbePortMismatch): the first pod's
    # findings, cause first.
    mine = sorted((f for f in found if f.object.name == first.object.name),
                  key=lambda f: (f.reason not in CAUSED_BY.values(), -f.rank))
    first = mine[0]
    total = max(_pods_of_owner(report, owner.slug()), len(pods))
    where = f" -n {clean(owner.namespace)}" if owner.namespace else ""
    lines = [style(f"{owner.kind.lower()}/{clean(owner.name)}{where}", "bold")]
    body = render_finding(first, style, shown=frozenset(f.object.slug() for f in report.findings))
    on = f"on {len(pods)} of {total} pods of {owner.kind.lower()}/{clean(owner.name)}"
    if wide:
        names = ", ".join(clean(p) for p in pods)
    else:
        names = ", ".join(clean(p) for p in pods[:2]) + (f" and {len(pods) - 2} more (-o wide lists them)"
                                                         if len(pods) > 2 else "")
    body.insert(2, f"    {on}: {names}")
    body.insert(3, f"    {style(f'evidence and commands below are from pod {clean(first.object.name)}', 'dim')}")
    lines.extend(body)
    for f in mine[1:]:
        lines.extend(render_finding(f, style, shown=frozenset(x.object.slug() for x in report.findings)))
    return lines


def render(report: Report, color: bool = False, wide: bool = False, plugin: str = "why") -> str:
    style = Style(color)
    groups: "OrderedDict[str, List[Finding]]" = OrderedDict()
    for f in report.findings:
        groups.setdefault(f.object.slug(), []).append(f)
    blocks = _blocks(report)
    shown = frozenset(groups)
    out: List[str] = []
    if len(blocks) >= 4:
        out.extend(_overview(report, blocks, style))
        out.append("")
    for (what, key), found in blocks.items():
        if what == "group":
            out.extend(_group_lines(report, found, style, wide))
            slug = found[0].object.slug()
        else:
            slug = key
            found.sort(key=lambda f: -f.rank)
            out.append(style(_object_header(found[0]), "bold"))
            for f in found:
                out.extend(render_finding(f, style, shown=shown))
        if wide and slug in report.timelines:
            out.append(f"  {style('timeline (UTC):', 'dim')}")
            for entry in report.timelines[slug]:
                when = entry.time[11:19] if entry.time and len(entry.time) >= 19 else "now     "
                out.append(f"    {when}  {clean(entry.what)}")
        out.append("")
    healthy_lines = _healthy(report, style, many=len(report.healthy) > 5 or bool(groups))
    out.extend(healthy_lines)
    out.extend(_unverified(report, style))
    if not report.findings and not report.healthy and not report.unverified:
        out.append("nothing to examine: no matching objects in scope")
    if len(groups) + len(report.healthy) + len(report.unverified) > 1:
        out.append(_tally(report, groups))
    for note in report.notes:
        out.append(style(f"note: {clean(note)}", "dim"))
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def _overview(report: Report, blocks, style: Style) -> List[str]:
    """A table first when a scan finds many objects: what is wrong where, at a glance (a root cause
    shared by several pods of one owner is one row)."""
    from tabulate import tabulate

    rows = []
    for (what, _key), found in blocks.items():
        f = found[0]
        owner = f"{f.owner.kind.lower()}/{f.owner.name}" if f.owner else ""
        reasons = ", ".join(dict.fromkeys(x.reason for x in found if x.rank >= 1)) or found[0].reason
        name = f.object.name
        if what == "group":
            pods = len({x.object.slug() for x in found})
            name = f"{pods} pods"
        rows.append([clean(f.object.namespace or ""), clean(name), clean(f.container or ""),
                     reasons, clean(owner)])
    headers = ["NAMESPACE", "NAME", "CONTAINER", "REASON", "OWNER"]
    # Drop a column no row fills (CONTAINER for Services, OWNER for bare pods): no empty columns.
    keep = [i for i, h in enumerate(headers) if h in ("NAME", "REASON") or any(r[i] for r in rows)]
    return tabulate([[r[i] for i in keep] for r in rows], headers=[headers[i] for i in keep],
                    tablefmt="plain").splitlines()


def _tally(report: Report, groups) -> str:
    problems = [g for g in groups.values() if any(f.rank >= 1 for f in g)]
    # Root causes: one per group key (the same cause on ten pods of a Deployment is one problem).
    causes: Dict[str, str] = {}
    group_of = root_groups(report.findings)
    for f in report.findings:
        if f.rank >= 1 and causes.get(group_of[id(f)]) != "error":
            causes[group_of[id(f)]] = f.severity
    errors = sum(1 for sev in causes.values() if sev == "error")
    warnings = sum(1 for sev in causes.values() if sev == "warning")
    healthy = len([r for r in report.healthy if r.slug() not in groups or
                   not any(f.rank >= 1 for f in groups[r.slug()])])
    healthy_slugs = {r.slug() for r in report.healthy}
    # Info-only objects that are not healthy either: pods starting, or outside this plugin's class.
    pending = [slug for slug, g in groups.items()
               if not any(f.rank >= 1 for f in g) and slug not in healthy_slugs
               and slug not in report.unverified]
    unverified = len(report.unverified)
    kinds = {f.object.kind for g in groups.values() for f in g} | {r.kind for r in report.healthy}
    kinds |= {slug.split("/")[-2].capitalize() for slug in report.unverified if slug.count("/") >= 1}
    noun = next(iter(kinds)).lower() if len(kinds) == 1 else "object"
    total = len(problems) + healthy + len(pending) + unverified
    kind = noun if total == 1 else noun + "s"
    if not problems and not pending and not unverified:
        return f"{healthy} {kind} examined: all healthy"
    parts = []
    if problems:
        on = noun if len(problems) == 1 else noun + "s"
        parts.append(f"{len(causes)} problem{'s' if len(causes) != 1 else ''} on {len(problems)} {on} "
                     f"({errors} error{'s' if errors != 1 else ''}, "
                     f"{warnings} warning{'s' if warnings != 1 else ''})")
    if pending:
        parts.append(f"{len(pending)} not healthy yet or outside this check")
    if unverified:
        parts.append(f"{unverified} could not be verified")
    parts.append(f"{healthy} healthy")
    return f"{total} {kind} examined: " + ", ".join(parts)


def _unverified(report: Report, style: Style) -> List[str]:
    """Objects with nothing wrong found whose verdict needed a read that failed: never healthy."""
    lines = []
    for slug, missing in report.unverified.items():
        ns, _, rest = slug.partition("/") if slug.count("/") >= 2 else ("", "", slug)
        where = f" -n {clean(ns)}" if ns else ""
        seen = report.healthy_detail.get(slug)
        lines.append(style("? ", "warning") + f"{clean(rest)}{where}: "
                     + (f"{clean(seen)}; " if seen else "") + f"could not verify: {clean(missing)}")
    return lines


def _healthy(report: Report, style: Style, many: bool) -> List[str]:
    clean_refs = [r for r in report.healthy
                  if not any(f.object.slug() == r.slug() and f.rank >= 1 for f in report.findings)]
    if not clean_refs:
        return []
    if many and len(clean_refs) > 5:
        kinds: Dict[str, int] = {}
        for r in clean_refs:
            kinds[r.kind.lower()] = kinds.get(r.kind.lower(), 0) + 1
        what = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in kinds.items())
        return [style(f"✓ {what} healthy", "ok")]
    lines = []
    for r in clean_refs:
        detail = report.healthy_detail.get(r.slug())
        where = f" -n {clean(r.namespace)}" if r.namespace else ""
        if r.kind == "Service" and detail:
            # endpoints-check's one line says what healthy means for a Service: ready endpoints.
            lines.append(style("✓ ", "ok") + f"svc/{clean(r.name)}{where}: {clean(detail)}")
            continue
        lines.append(style("✓ ", "ok") + f"{r.kind.lower()}/{clean(r.name)}{where}"
                     + ": healthy" + (f" ({clean(detail)})" if detail else ""))
    return lines


def explain(code: str) -> str:
    return REASONS[code].explanation
