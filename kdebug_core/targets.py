"""Targets: what the user named on the command line, and the pods (or Services, Nodes) it means.

`NAME` is a pod; `KIND/NAME` uses kubectl's kinds and short names; `-` reads targets from standard
input (`-o name` lines, a kdebug JSON report, or whole objects). Workloads resolve to their pods
through their selector *and* owner references, so a Deployment never claims another's pods that
happen to share labels.

A batch on standard input (`kubectl oomcheck -A -o name | kubectl why -`) goes on when one of its
lines names an object that no longer exists (a pod replaced since the first command ran): that line
gets one `error:` line on stderr, every other target its diagnosis (see `pods_of`, `MissingTargets`).
"""

import difflib
import json
import sys
from dataclasses import dataclass, field, replace
from typing import Iterable, List, Optional

from . import kinds
from .errors import InputError, KdebugError, NotFoundError, UsageError
from .labels import matches, requirements_from_label_selector, requirements_from_map
from .view import ClusterView, meta

WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob",
                  "ReplicationController")


@dataclass(frozen=True)
class Target:
    kind: str                   # "Pod", "Deployment", ...
    name: str
    namespace: Optional[str] = None  # set when the target itself says (stdin lines, JSON)
    from_stdin: bool = field(default=False, compare=False)  # one line of a batch on stdin

    def __str__(self):
        return f"{kinds.BY_KIND[self.kind].aliases[0] if kinds.BY_KIND[self.kind].aliases else self.kind.lower()}/{self.name}"


def parse_target(text: str, allowed: Iterable[str]) -> Target:
    """`x`, `pod/x`, `deploy/x`, `deployments.apps/x`, `namespace/kind/name` (an `-o name` line)."""
    allowed = tuple(allowed)
    text = text.strip()
    parts = text.split("/")
    if len(parts) == 1:
        # A bare NAME is the plugin's subject: a pod, or a Service for endpoints-check.
        kind, name, ns = ("Pod" if "Pod" in allowed else allowed[0]), parts[0], None
    elif len(parts) == 2:
        info = kinds.lookup(parts[0])
        if info is None:
            raise UsageError(f"unknown kind {parts[0]!r} in {text!r} "
                             f"(use one of: {', '.join(_spellings(allowed))})")
        kind, name, ns = info.kind, parts[1], None
    elif len(parts) == 3 and kinds.lookup(parts[1]):
        ns, kind, name = parts[0] or None, kinds.lookup(parts[1]).kind, parts[2]
    else:
        raise UsageError(f"cannot parse target {text!r}: use NAME or KIND/NAME")
    if not name:
        raise UsageError(f"target {text!r} has no name")
    if kind not in allowed:
        raise UsageError(f"{kind} targets are not supported here; use one of: "
                         f"{', '.join(_spellings(allowed))}")
    return Target(kind, name, ns)


def _spellings(allowed):
    out = []
    for k in allowed:
        info = kinds.BY_KIND[k]
        out.append((info.aliases[-1] if info.aliases else k.lower()) + "/NAME")
    return out


def targets_from_stdin(text: str, allowed: Iterable[str]) -> List[Target]:
    """Targets piped in: `-o name` lines, a kdebug Report (its objects), or Kubernetes objects."""
    allowed = tuple(allowed)
    stripped = text.strip()
    if not stripped:
        raise InputError("no targets on standard input")
    if stripped[0] in "{[":
        try:
            doc = json.loads(stripped)
        except ValueError as exc:
            raise InputError(f"<stdin>: malformed JSON: {exc}") from None
        refs = []
        if isinstance(doc, dict) and doc.get("kind") == "Report":
            refs = [f.get("object") or {} for f in doc.get("findings") or []]
        else:
            items = doc.get("items") if isinstance(doc, dict) and "items" in doc else doc
            for obj in items if isinstance(items, list) else [items]:
                if isinstance(obj, dict):
                    m = meta(obj)
                    refs.append({"kind": obj.get("kind"), "namespace": m.get("namespace"),
                                 "name": m.get("name")})
        out = []
        for r in refs:
            info = kinds.lookup(r.get("kind") or "")
            if info and info.kind in allowed and r.get("name"):
                t = Target(info.kind, r["name"], r.get("namespace"), from_stdin=True)
                if t not in out:
                    out.append(t)
        return out
    out = []
    for line in stripped.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        info = kinds.lookup(line.split("/")[-2]) if line.count("/") >= 1 else None
        if info is not None and info.kind not in allowed:
            continue  # another plugin's subject in a pipeline (node/NAME from oomcheck)
        t = replace(parse_target(line, allowed), from_stdin=True)
        if t not in out:
            out.append(t)
    if not out:
        raise InputError("no targets this plugin can take on standard input")
    return out


def not_found(view: ClusterView, kind: str, name: str, namespace: Optional[str]) -> KdebugError:
    """`pod "x" not found in namespace default` plus the closest names that do exist.

    When the kind could not be read at all, absence proves nothing: that is a cluster error
    (exit 3), not "not found"."""
    unreadable = view.subject_unreadable(kind, namespace)
    if unreadable is not None:
        return unreadable
    resource = kinds.BY_KIND[kind].resource
    names = [meta(o).get("name", "") for o in view.list(kind, namespace)]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    where = f" in namespace {namespace}" if namespace else ""
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    owner = _workload_named(view, name, namespace) if kind == "Pod" else None
    if owner:
        # `kubectl why crasher`: no pod has that name, its Deployment does.
        hint = f"; did you mean {owner}?"
    elif not close and names:
        hint = f" ({len(names)} {resource if len(names) != 1 else resource[:-1]} there; " \
               f"try kubectl get {resource}{' -n ' + namespace if namespace else ''})"
    return NotFoundError(f'{kind.lower()} "{name}" not found{where}{hint}')


# The workload kinds a bare NAME may have meant, with kubectl's short names, most common first.
_WORKLOAD_SHORT = (("Deployment", "deploy"), ("StatefulSet", "sts"), ("DaemonSet", "ds"),
                   ("CronJob", "cronjob"), ("Job", "job"))


def _workload_named(view: ClusterView, name: str, namespace: Optional[str]) -> Optional[str]:
    """`deploy/NAME` when a workload (not a pod) has that name; only read on the error path."""
    for kind, short in _WORKLOAD_SHORT:
        try:
            if view.get(kind, namespace, name) is not None:
                return f"{short}/{name}"
        except KdebugError:
            return None
    return None


class MissingTargets(list):
    """The lines of a stdin batch whose objects no longer exist: `error: ...` messages, one each.

    Whoever resolves a batch passes one to `pods_of`; the run's exit code is then the worst of the
    diagnoses and of these (a missing target counts as exit 2, as a named one does alone)."""

    exit_code = NotFoundError.exit_code


def pods_of(view: ClusterView, target: Target, namespace: Optional[str],
            missing: Optional[List[str]] = None) -> List[dict]:
    """The pods a target stands for. Raises NotFoundError (with close names) for unknown names —
    except for a line of a stdin batch: that one is reported once and skipped, so the other targets
    are still diagnosed. With `missing`, the message is collected there; without, it goes to stderr
    at once (`error: pod "x" not found in namespace y; ... (from standard input, skipped)`)."""
    try:
        return _pods_of(view, target, namespace)
    except NotFoundError as exc:
        if not target.from_stdin:
            raise
        _skip(exc, missing)
        return []


def lookup(view: ClusterView, target: Target, namespace: Optional[str],
           missing: Optional[List[str]] = None) -> Optional[dict]:
    """The object a target names (a workload, a Service, an Ingress...), or None for a stdin line
    whose object no longer exists (reported as `pods_of` does); a named target that does not exist
    raises NotFoundError."""
    ns = None if target.kind == "Node" else (target.namespace or namespace)
    obj = view.get(target.kind, ns, target.name)
    if obj is not None:
        return obj
    exc = not_found(view, target.kind, target.name, ns)
    if not target.from_stdin or not isinstance(exc, NotFoundError):
        raise exc
    _skip(exc, missing)
    return None


def _skip(exc: Exception, missing: Optional[List[str]]):
    message = f"{exc} (from standard input: skipped; the other targets are diagnosed)"
    if missing is not None:
        missing.append(message)
    else:
        from .sanitize import one_line
        print(f"error: {one_line(message, 1000)}", file=sys.stderr)


def _pods_of(view: ClusterView, target: Target, namespace: Optional[str]) -> List[dict]:
    ns = target.namespace or namespace
    if target.kind == "Pod":
        pod = view.get("Pod", ns, target.name)
        if pod is None:
            raise not_found(view, "Pod", target.name, ns)
        return [pod]
    if target.kind == "Service":
        svc = view.get("Service", ns, target.name)
        if svc is None:
            raise not_found(view, "Service", target.name, ns)
        selector = (svc.get("spec") or {}).get("selector")
        if not selector:
            return []
        reqs = requirements_from_map(selector)
        return view.select("Pod", ns, lambda p: matches(reqs, meta(p).get("labels")))
    if target.kind == "Node":
        if view.get("Node", None, target.name) is None:
            raise not_found(view, "Node", target.name, None)
        return view.select("Pod", None,
                           lambda p: (p.get("spec") or {}).get("nodeName") == target.name)
    workload = view.get(target.kind, ns, target.name)
    if workload is None:
        raise not_found(view, target.kind, target.name, ns)
    return owned_pods(view, workload, target.kind)


def owned_pods(view: ClusterView, workload: dict, kind: str) -> List[dict]:
    ns = meta(workload).get("namespace")
    uid = meta(workload).get("uid")
    name = meta(workload).get("name")
    if kind == "CronJob":
        jobs = [j for j in view.list("Job", ns) if _owned_by(j, "CronJob", name, uid)]
        pods = []
        for job in jobs:
            pods.extend(owned_pods(view, job, "Job"))
        return pods
    spec = workload.get("spec") or {}
    reqs = requirements_from_label_selector(spec.get("selector"))
    candidates = view.list("Pod", ns)
    match_labels = spec.get("selector", {}).get("matchLabels") if isinstance(spec.get("selector"), dict) else None
    first = next(iter(match_labels.items()), None) if isinstance(match_labels, dict) else None
    if reqs is not None and first and isinstance(first[0], str) and isinstance(first[1], str):
        # Only pods carrying the selector's first label can match: looked up, not a pass over
        # the namespace's pods per workload.
        candidates = view.labelled("Pod", ns, first[0], first[1])
    if reqs is not None:
        candidates = [p for p in candidates if matches(reqs, meta(p).get("labels"))]
    if kind == "Deployment":
        # Pods belong to the Deployment through a ReplicaSet it owns (pod → RS → Deployment).
        return [p for p in candidates
                if any(r.kind == "Deployment" and r.name == name for r in view.owner_chain(p))]
    return [p for p in candidates if _owned_by(p, kind, name, uid)]


def _owned_by(obj: dict, kind: str, name: str, uid: Optional[str]) -> bool:
    for ref in meta(obj).get("ownerReferences") or []:
        if ref.get("kind") == kind and ref.get("name") == name and (not uid or not ref.get("uid")
                                                                   or ref.get("uid") == uid):
            return True
    return False
