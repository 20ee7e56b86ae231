"""SystemOOM: the node ran out of memory and the kernel's OOM killer killed a process on it.

Read from events about the Node (recorded in namespace `default`, involvedObject kind Node):

* the kubelet's `SystemOOM` (Warning, pkg/kubelet/oom/oom_watcher_linux.go), recorded only when the
  OOM hit the root memory cgroup — the node as a whole, not a container's limit:
  `System OOM encountered, victim process: python, pid: 12345`; older kubelets, or a kernel line
  without the victim, say only `System OOM encountered`.
* node-problem-detector's kernel monitor, `OOMKilling` (source `kernel-monitor`), the kernel line
  itself: `Out of memory: Killed process 12345 (python) total-vm:2052148kB, anon-rss:1580004kB,
  file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:3412kB oom_score_adj:1000`. Kernels before 5.x wrote
  `Out of memory: Kill process 12345 (python) score 1000 or sacrifice child` and a separate
  `Killed process 12345 (python) total-vm:..., anon-rss:..., file-rss:...` line, which the default
  NPD rule reports alone, without saying whether the node or a cgroup ran out.
  `Memory cgroup out of memory: Killed process ...` is a container hitting its own limit: that is
  OOMKilled (oom_killed.py), not a node OOM, and is left out here.

The event names a process (the kernel's 15-character `comm`) and a pid, not a pod. A kill is tied to
a container of a pod on that node when the container was killed (exit 137 or OOMKilled) within 15
seconds of the event — the kubelet records the event as it reads the kernel log, the runtime the
exit as it happens — and the victim's name matches the container's command, arguments or image
(or the event names no victim). The pod's finding is an error that explains the container's SIGKILL,
restarts or OOMKilled record (registry: SUPERSEDED_BY). A kill tied to no container in scope is
reported on the Node (oomcheck only), with the containers on it that have no memory limit; a name
match without a restart at that moment is mentioned there (a child process, or another container's
process of that name), not claimed.
"""

import re
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Dict, Iterable, List, Optional, Set, Tuple

from ...findings import Finding, ObjectRef
from ...quantity import format_bytes, memory_bytes, round_up_memory
from ...sanitize import clean
from ...timeutil import age, parse_time
from ...view import ClusterView, event_time
from ..base import Container, PodContext, fix

WINDOW = timedelta(seconds=15)    # a container killed this close to the event was the victim
COMM_LEN = 15                     # the kernel keeps 15 characters of a process name

_SYSTEM_OOM = re.compile(r"System OOM encountered(?:, victim process: (?P<name>.*?), pid: (?P<pid>\d+))?", re.I)
_KILLED = re.compile(r"Killed process (?P<pid>\d+) \((?P<name>.*?)\)(?: total-vm:(?P<vm>\d+)kB)?"
                     r"(?:, anon-rss:(?P<anon>\d+)kB)?")
_KILL_OLD = re.compile(r"Kill process (?P<pid>\d+) \((?P<name>.*?)\) score \d+ or sacrifice child")
_CGROUP = re.compile(r"Memory cgroup out of memory", re.I)
_GLOBAL = re.compile(r"(?<!cgroup )Out of memory", re.I)


@dataclass
class Kill:
    """One OOM kill on a node, merged from the kubelet's and node-problem-detector's events."""
    node: str
    name: Optional[str]
    pid: Optional[int]
    scope: str                      # "node", "cgroup" or "unknown" (a bare `Killed process` line)
    first: Optional[datetime]
    last: Optional[datetime]
    anon_rss: Optional[int] = None  # bytes of anonymous memory the victim held
    events: List[dict] = field(default_factory=list)

    @property
    def victim(self) -> str:
        if self.name and self.pid:
            return f'process "{clean(self.name)}" (pid {self.pid})'
        if self.name:
            return f'process "{clean(self.name)}"'
        return "a process"

    def near(self, when: Optional[datetime]) -> bool:
        if when is None or self.last is None:
            return False
        return (self.first or self.last) - WINDOW <= when <= self.last + WINDOW


# ---- reading the node's events -------------------------------------------------------------------

def node_events(view: ClusterView, node: str) -> List[dict]:
    """Events about a Node, oldest first. Node events live in namespace `default`."""
    if view.options.scan or view.offline:
        # Grouped by node once for the run, not a pass over namespace default's events per pod.
        by_node = view.group("Event", "default", "about-node", _node_of_event)
        return sorted(by_node.get(node, []), key=lambda e: event_time(e) or view.now)
    # One pod: the server filters by involvedObject (the view's field-selected event read).
    return view.events_for({"metadata": {"name": node}}, "Node")


def _node_of_event(ev: dict) -> Optional[str]:
    io = ev.get("involvedObject") or {}
    return io.get("name") if io.get("kind") == "Node" else None


def _parse(ev: dict, node: str) -> Optional[Kill]:
    reason, message = ev.get("reason"), ev.get("message") or ""
    when = event_time(ev)
    first = _time(ev.get("firstTimestamp")) or when
    if reason == "SystemOOM":
        m = _SYSTEM_OOM.search(message)
        name = m.group("name") if m and m.group("name") else None
        pid = int(m.group("pid")) if m and m.group("pid") else None
        return Kill(node, name, pid, "node", first, when, events=[ev])
    if reason == "OOMKilling":
        m = _KILLED.search(message) or _KILL_OLD.search(message)
        if not m:
            return None
        scope = "cgroup" if _CGROUP.search(message) else "node" if _GLOBAL.search(message) else "unknown"
        anon = m.groupdict().get("anon")
        return Kill(node, m.group("name"), int(m.group("pid")), scope, first, when,
                    anon_rss=int(anon) * 1024 if anon else None, events=[ev])
    return None


def _time(value) -> Optional[datetime]:
    return parse_time(value) if value else None


def node_kills(view: ClusterView, node: str) -> List[Kill]:
    """Node-level OOM kills on a node (container-limit kills left out), oldest first."""
    kills: List[Kill] = []
    for ev in node_events(view, node):
        k = _parse(ev, node)
        if k is None:
            continue
        same = next((o for o in kills if _same_kill(o, k)), None)
        if same is None:
            kills.append(k)
            continue
        same.events.append(ev)
        same.scope = "node" if "node" in (same.scope, k.scope) else \
            "cgroup" if "cgroup" in (same.scope, k.scope) else same.scope
        same.name = same.name or k.name
        same.anon_rss = same.anon_rss or k.anon_rss
        same.first = min(t for t in (same.first, k.first) if t) if (same.first or k.first) else None
        same.last = max(t for t in (same.last, k.last) if t) if (same.last or k.last) else None
    return [k for k in kills if k.scope != "cgroup"]


def _same_kill(a: Kill, b: Kill) -> bool:
    """The kubelet and node-problem-detector report one kill: same pid, or same name at that time."""
    if a.pid and b.pid:
        return a.pid == b.pid
    if a.name and b.name and a.name[:COMM_LEN] != b.name[:COMM_LEN]:
        return False
    return a.last is not None and b.near(a.last)


def nodes_with_system_oom(view: ClusterView, nodes: Iterable[str]) -> Dict[str, str]:
    """{node: one evidence line} for the nodes that had a node-level OOM kill."""
    out = {}
    for node in sorted(nodes):
        kills = node_kills(view, node)
        if kills:
            last = kills[-1]
            when = age(last.last, view.now) if last.last else None
            out[node] = (f"node {clean(node)} had {len(kills)} node-level OOM kill"
                         f"{'' if len(kills) == 1 else 's'} (SystemOOM), the last "
                         + (f"{when} ago" if when else "recently") + f", of {last.victim}")
    return out


# ---- tying a kill to a container -----------------------------------------------------------------

def process_names(c: Container) -> Set[str]:
    """Names the container's processes may have: command and argument words, the image's name."""
    names = {c.name}
    words: List[str] = []
    for part in (c.spec.get("command") or []) + (c.spec.get("args") or []):
        words.extend(str(part).split())
    for w in words[:8]:
        if w.startswith("-") or "=" in w:
            continue
        names.add(w.rstrip(";&|").rsplit("/", 1)[-1])
    image = (c.spec.get("image") or "").split("@")[0]
    repo = image.rsplit("/", 1)[-1].split(":")[0]
    if repo:
        names.add(repo)
    return {n for n in names if n}


def name_matches(victim: str, names: Set[str]) -> bool:
    v = victim[:COMM_LEN]
    for n in names:
        n = n[:COMM_LEN]
        if v == n:
            return True
        if min(len(v), len(n)) >= 4 and (v.startswith(n) or n.startswith(v)):
            return True  # python3 / python, java / java-agent
    return False


def _kill_terms(c: Container) -> List[dict]:
    """Terminations that a kill could have caused: SIGKILL (137) or recorded as OOMKilled."""
    out = []
    for term in (c.terminated, c.last_terminated):
        if term and (term.get("reason") == "OOMKilled" or str(term.get("exitCode")) == "137"):
            out.append(term)
    return out


@dataclass
class Tie:
    kill: Kill
    how: str                  # "time+name", "time" (the event names no victim), "earlier", "name"
    term: Optional[dict]      # the container's termination at the time of the kill

    @property
    def explains(self) -> bool:
        """The kill is what ended a run of the container (not only a process with its name)."""
        return self.how != "name"


def ties(c: Container, kills: List[Kill]) -> List[Tie]:
    names = process_names(c)
    terms = _kill_terms(c)
    out = []
    for k in kills:
        term = next((t for t in terms if k.near(_time(t.get("finishedAt")))), None)
        named = bool(k.name) and name_matches(k.name, names)
        if term is not None and (named or not k.name):
            if (k.scope == "unknown" or not k.name) and term.get("reason") == "OOMKilled" and \
                    memory_bytes(((c.spec.get("resources") or {}).get("limits") or {}).get("memory")):
                # Without the node's word on the victim (a bare kernel line, or a SystemOOM naming no
                # process), an OOMKilled container with a limit was killed at its own limit.
                continue
            out.append(Tie(k, "time+name" if named else "time", term))
        elif named and term is None:
            out.append(Tie(k, "name", None))
    # The status keeps only the last termination. Once a kill is tied by its time, earlier kills of
    # a process with the container's name, before that run started, ended the earlier restarts.
    if any(t.explains for t in out):
        first_run = min((_time(t.get("startedAt")) for t in terms if _time(t.get("startedAt"))), default=None)
        earlier_restarts = c.restarts - len(terms)
        for t in out:
            if t.how == "name" and first_run and t.kill.last and t.kill.last < first_run \
                    and earlier_restarts > 0:
                t.how = "earlier"
                earlier_restarts -= 1
    return out


# ---- the pod's finding ---------------------------------------------------------------------------

def analyze(ctx: PodContext) -> List[Finding]:
    node = ctx.spec.get("nodeName")
    if not node:
        return []
    kills = node_kills(ctx.view, node)
    if not kills:
        return []
    found = []
    for c in ctx.containers():
        tied = [t for t in ties(c, kills) if t.explains]
        if tied:
            found.append(_pod_finding(ctx, c, node, tied))
    return found


def _pod_finding(ctx: PodContext, c: Container, node: str, tied: List[Tie]) -> Finding:
    from .memory import container_usage, memory_resources, quantity_text

    main = [t for t in tied if t.term is not None][-1]
    k = main.kill
    who = f"{'init container' if c.init and not c.sidecar else 'container'} {c.name}"
    summary = (f'node "{clean(node)}" ran out of memory and the kernel\'s OOM killer killed '
               f"{k.victim} in {who}: a node-level OOM kill, not the container's own limit")
    evidence = [f"node {clean(node)}: {ctx.describe_event(e)}" for t in tied for e in t.kill.events]
    if len(tied) > 1:
        evidence.append(f"{len(tied)} node-level OOM kills on node {clean(node)} match {who}: the earlier "
                        f"ones ended its earlier runs (the status keeps only the last termination)")
    if k.anon_rss:
        evidence.append(f"the victim held {format_bytes(k.anon_rss)} of memory (anon-rss) when it was killed")
    if main.term is not None:  # always, for a tie the pod analyzer reports
        t = main.term
        when = _time(t.get("finishedAt"))
        gap = abs(((k.last or when) - when).total_seconds()) if when and k.last else None
        evidence.append(f"{who} terminated: {clean(t.get('reason') or '?')}, exit code {t.get('exitCode')}"
                        + (f", at {when.strftime('%H:%M:%S UTC')}" if when else "")
                        + (f", {int(gap)}s from the node's OOM event" if gap is not None else ""))
        if main.how == "time" and not k.name:
            evidence.append("the event names no victim process: tied by the time of the kill")
        if t.get("reason") == "OOMKilled":
            evidence.append("the runtime recorded OOMKilled, but the kill came from the node running out "
                            "of memory (a SystemOOM at the same moment), not from the container's limit")
        else:
            evidence.append("exit 137 with reason Error: the node's OOM killer sends SIGKILL; the "
                            "container's own cgroup did not run out, so it is not recorded as OOMKilled")
    limit_raw, request_raw = memory_resources(c)
    limit, request = memory_bytes(limit_raw), memory_bytes(request_raw)
    if not limit:
        qos = ctx.status.get("qosClass")
        evidence.append(f"{who} has no memory limit (request {quantity_text(request_raw)}"
                        + (f", QoS class {clean(qos)}" if qos else "")
                        + "): a container without a limit is among the node OOM killer's first victims")
    else:
        evidence.append(f"memory limit {quantity_text(limit_raw)}, request {quantity_text(request_raw)}: "
                        f"the node ran out before the container reached its limit, so the node's memory is "
                        f"overcommitted (pods use more than they request)")
    evidence += node_condition_lines(ctx.view, node)

    usage = container_usage(ctx.view, ctx.pod, c.name)
    peak = max([x for x in (usage, k.anon_rss) if x] or [0]) or None
    suggestions = _fix(ctx, c, limit_raw, limit, request, peak)
    suggestions += [f"kubectl describe node {shlex.quote(node)}",
                    f"kubectl get pods -A --field-selector spec.nodeName={shlex.quote(node)}",
                    "kubectl top pods -A --sort-by=memory"]
    details = {"node": node, "victimProcess": k.name, "victimPid": k.pid, "anonRssBytes": k.anon_rss,
               "tiedBy": main.how, "kills": len(tied), "restartCount": c.restarts,
               "limit": limit_raw, "limitBytes": limit, "request": request_raw, "requestBytes": request,
               "eventTime": k.last.isoformat() if k.last else None}
    if main.term is not None:
        details["finishedAt"] = main.term.get("finishedAt")
        details["lastKillAgo"] = age(main.term.get("finishedAt"), ctx.view.now)
    elif k.last:
        details["lastKillAgo"] = age(k.last, ctx.view.now)
    if usage is not None:
        details["usageBytes"] = usage
    fix = next((s for s in suggestions if "--limits=memory=" in s or "limits.memory:" in s), None)
    if fix:
        m = re.search(r"(?:--limits=memory=|limits\.memory: )(\S+)", fix)
        r = re.search(r"(?:--requests=memory=|requests\.memory: )([^\s,]+)", fix)
        if m and m.group(1) != "LIMIT":
            details["suggestedLimit"] = m.group(1)
        if r and r.group(1) != "REQUEST":
            details["suggestedRequest"] = r.group(1)
    return ctx.finding("SystemOOM", summary, container=c.name, evidence=evidence,
                       suggestions=suggestions, details=details)


def _fix(ctx: PodContext, c: Container, limit_raw, limit, request, peak) -> List[str]:
    """A limit for a limit-less container; for one with a limit, a request that matches its use."""
    from .memory import fit_to_nodes, resource_commands, suggest_from_usage

    if not limit:
        if peak:
            new_limit, new_request = suggest_from_usage(peak, None, request)
            return resource_commands(ctx, c.name, *fit_to_nodes(ctx.view, new_limit, new_request))
        # How much it needs is not known here: measure, then set a limit above the peak. Any limit
        # confines the next kill to this container instead of the node.
        request_raw = ((c.spec.get("resources") or {}).get("requests") or {}).get("memory")
        return ([fix(f"kubectl top pod {ctx.name} {ctx.ns_flag} --containers",
                     "its usage now; set LIMIT above the peak it needs")]
                + resource_commands(ctx, c.name, "LIMIT", clean(request_raw) if request_raw else "REQUEST"))
    if peak and (not request or request < peak):
        want = min(memory_bytes(round_up_memory(peak)), limit)
        return resource_commands(ctx, c.name, clean(limit_raw), _manifest(want))
    if not peak and (not request or request < limit):
        # Use unknown: a request equal to the limit reserves what the container may use, so the
        # scheduler cannot overcommit the node with it.
        return resource_commands(ctx, c.name, clean(limit_raw), clean(limit_raw))
    return []


def _manifest(n: int) -> str:
    from .memory import mem_string
    return mem_string(n)


def node_condition_lines(view: ClusterView, node: str) -> List[str]:
    """`node x: MemoryPressure is True (since 4m ago, kubelet has insufficient memory available)`."""
    obj = view.get("Node", None, node)
    if obj is None:
        return []
    lines = []
    status = obj.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") != "MemoryPressure":
            continue
        since = age(cond.get("lastTransitionTime"), view.now)
        lines.append(f"node {clean(node)}: MemoryPressure is {clean(cond.get('status'))}"
                     + (f" (since {since} ago" if since else " (")
                     + (f", {clean(cond.get('message'))})" if cond.get("message") else ")"))
    alloc = (status.get("allocatable") or {}).get("memory")
    cap = (status.get("capacity") or {}).get("memory")
    if alloc:
        lines.append(f"node {clean(node)}: allocatable memory {format_bytes(memory_bytes(alloc))}"
                     + (f" of {format_bytes(memory_bytes(cap))} capacity" if cap else ""))
    return lines


# ---- kills tied to no pod in scope: a finding on the Node (oomcheck) ----------------------------

def analyze_scope(view: ClusterView, pods: List[dict], plugin: str,
                  nodes: Iterable[str] = ()) -> List[Finding]:
    """SystemOOM findings on the Nodes in scope: those the pods run on, the `nodes` named as
    targets (`kubectl oomcheck node/NAME`, read from the node's own events and conditions even when
    none of its pods is in scope), and in a cluster-wide scan every Node of the cluster."""
    return analyze_nodes(view, subject_nodes(view, pods, nodes), pods, plugin)


def subject_nodes(view: ClusterView, pods: List[dict], named: Iterable[str] = ()) -> List[str]:
    """The Nodes a run is about: named ones, the pods' nodes, and all of them in a cluster-wide scan
    (one list of Nodes, whatever their number)."""
    out = list(dict.fromkeys(n for n in named if n))
    out += [n for n in ((p.get("spec") or {}).get("nodeName") for p in pods) if n and n not in out]
    if view.options.namespace is None and view.options.scan:
        out += [n for n in (m.get("name") for m in (o.get("metadata") or {} for o in view.list("Node", None)))
                if n and n not in out]
    return out


def analyze_nodes(view: ClusterView, nodes: Iterable[str], pods: List[dict], plugin: str) -> List[Finding]:
    """Node-level OOM kills on `nodes`, each tied to a container of `pods` when one died at that
    moment, else reported on the Node itself."""
    by_node: Dict[str, List[dict]] = {node: [] for node in nodes}
    for p in pods:
        node = (p.get("spec") or {}).get("nodeName")
        if node in by_node:
            by_node[node].append(p)
    kills = {node: node_kills(view, node) for node in sorted(by_node)}
    tied: Set[Tuple] = set()
    named: Dict[Tuple, List[str]] = {}
    unlimited: Dict[str, List[Tuple[str, str, str]]] = {}
    for node, on_node in by_node.items():
        for p in on_node:
            ctx = PodContext(view=view, pod=p, plugin=plugin, owner=view.top_owner(p))
            for c in ctx.containers():
                for t in ties(c, kills[node]):
                    if t.explains:
                        tied.add(_signature(t.kill))
                    else:
                        named.setdefault(_signature(t.kill), []).append(f"{ctx.namespace}/{ctx.name} ({c.name})")
                if (not c.init or c.sidecar) and (p.get("status") or {}).get("phase") not in \
                        ("Succeeded", "Failed") and \
                        not memory_bytes(((c.spec.get("resources") or {}).get("limits") or {}).get("memory")):
                    unlimited.setdefault(node, []).append((ctx.namespace, ctx.name, c.name))
    found = []
    for node, node_kill_list in kills.items():
        # Nodes that share a kernel (kind, minikube with the docker driver) all record the same kill:
        # once it is tied to a container on one of them, it is explained on the others too.
        untied = [k for k in node_kill_list if _signature(k) not in tied]
        if untied:
            found.append(_node_finding(view, node, untied, unlimited.get(node, []), named))
    return found


def _signature(k: Kill) -> Tuple:
    return (k.pid, k.name) if k.pid else (k.node, k.name, k.last)


def _node_finding(view: ClusterView, node: str, kills: List[Kill],
                  unlimited: List[Tuple[str, str, str]], named: Dict[Tuple, List[str]]) -> Finding:
    last = kills[-1]
    victims = ", ".join(dict.fromkeys(k.victim for k in kills[-3:]))
    summary = (f'node "{clean(node)}" ran out of memory and the kernel\'s OOM killer killed {victims}'
               + (f" ({len(kills)} kills)" if len(kills) > 1 else ""))
    evidence = []
    for k in kills[-3:]:
        evidence += [f"node {clean(node)}: {_describe(view, e)}" for e in k.events]
        if k.anon_rss:
            evidence.append(f"{k.victim} held {format_bytes(k.anon_rss)} of memory (anon-rss) when killed")
        if named.get(_signature(k)):
            evidence.append(f"{k.victim} has the name of a process of "
                            f"{', '.join(clean(x) for x in named[_signature(k)][:4])}, which did not restart at "
                            f"that moment: a child process of it, or a process elsewhere with that name")
    if not any(named.get(_signature(k)) for k in kills):
        evidence.append("no container in scope was killed at that moment or runs a process of that name: "
                        "the victim is a system process or belongs to a pod outside the scanned scope")
    evidence += node_condition_lines(view, node)
    if unlimited:
        shown = ", ".join(f"{clean(ns)}/{clean(pod)} ({clean(c)})" for ns, pod, c in unlimited[:6])
        more = f" and {len(unlimited) - 6} more" if len(unlimited) > 6 else ""
        evidence.append(f"containers without a memory limit on this node: {shown}{more}")
    suggestions = [f"kubectl describe node {shlex.quote(node)}",
                   f"kubectl get pods -A --field-selector spec.nodeName={shlex.quote(node)}",
                   "kubectl top pods -A --sort-by=memory",
                   f"kubectl oomcheck node/{shlex.quote(node)}"]
    details = {"node": node, "kills": len(kills), "victimProcess": last.name, "victimPid": last.pid,
               "anonRssBytes": last.anon_rss, "eventTime": last.last.isoformat() if last.last else None,
               "lastKillAgo": age(last.last, view.now) if last.last else None,
               "containersWithoutLimit": [f"{ns}/{pod}/{c}" for ns, pod, c in unlimited]}
    return Finding(plugin="oomcheck", reason="SystemOOM", object=ObjectRef("Node", None, node),
                   summary=summary, evidence=evidence, suggestions=suggestions, details=details)


def _describe(view: ClusterView, ev: dict) -> str:
    return PodContext(view=view, pod={}, plugin="oomcheck").describe_event(ev)
