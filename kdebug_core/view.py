"""ClusterView: the read-only picture of the cluster that analyzers judge.

Sources fetch, analyzers judge, renderers print. A view sits between the first two: it answers the
questions analyzers ask ("the events about this pod", "does ConfigMap x exist", "the previous log
of container app") from a backend — the live API or files — and caches every answer.

How many API requests a run makes is decided here, not in the analyzers. In *scan* mode (many
pods: `-A`, `-l`, a workload, no target) every kind is listed once per namespace (or once for the
whole cluster with `-A`) and then looked up in memory, so the request count does not grow with the
number of pods. For a single pod, individual GETs and a field-selected event list are cheaper.
Logs are the one per-pod read; a scan fetches them for a few pods only (`log_budget`).

Look-ups are O(1) whatever the size of the cluster: a fetched list is indexed once, lazily, on the
first question that needs it — by namespace, by (namespace, name), events by the object they are
about (uid, else kind/namespace/name), and any grouping an analyzer asks for with `group` (pods by
node, EndpointSlices by Service). Lists returned are the view's own: callers never mutate them.
"""

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Dict, Iterable, List, Optional, Protocol, Tuple

from .errors import NotServed, ReadFailed
from .findings import ObjectRef
from .kinds import BY_KIND
from .timeutil import parse_time


class Backend(Protocol):
    """What a source must answer. `namespace=None` means across all namespaces."""

    offline: bool

    def list(self, kind: str, namespace: Optional[str], label_selector: Optional[str] = None,
             field_selector: Optional[str] = None, metadata_only: bool = False) -> List[dict]: ...

    def get(self, kind: str, namespace: Optional[str], name: str,
            metadata_only: bool = False) -> Optional[dict]: ...

    def logs(self, namespace: str, pod: str, container: str, previous: bool,
             tail_lines: int) -> Optional[str]: ...

    def now(self) -> datetime: ...


# `namespace` argument meaning "the namespace the view is scoped to" (None means all namespaces).
SCOPE = object()

# Unserved APIs whose analyzers explain the absence in their own words (memory_usage: the metrics
# API and what installs it), so the view adds no generic note.
SAYS_UNSERVED_ITSELF = {"PodMetrics", "NodeMetrics"}

# Kinds whose contents must never be fetched: only existence (metadata) is ever read.
METADATA_ONLY_KINDS = {"Secret"}


_EMPTY: List[dict] = []  # what an empty namespace answers (shared: never mutated)


@contextmanager
def _no_cyclic_gc():
    """Python's cyclic garbage collector off while a list's pages are parsed, and what was read
    moved out of its sight afterwards (gc.freeze): parsed JSON holds no reference cycles, yet
    each collection of the oldest generation walks every object read so far — at 10,000 pods that
    was most of the CPU time of reading (3-4x the parsing itself). Reference counting still frees
    everything as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.freeze()


def meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def log_need(pod: dict) -> int:
    """How much a pod's diagnosis needs its log (0: not at all): an init container that fails
    (the pod cannot start) before an app container in a crash loop, before one that exited with an
    error once, before an init container still running (stuck waiting); more restarts first."""
    status = pod.get("status") or {}
    need = 0
    for group, weight in (("initContainerStatuses", 4), ("containerStatuses", 3)):
        for cs in status.get(group) or []:
            state, last = cs.get("state") or {}, (cs.get("lastState") or {}).get("terminated") or {}
            term = state.get("terminated") or {}
            restarts = min(int(cs.get("restartCount") or 0), 9)
            if (term or last).get("reason") in ("StartError", "ContainerCannotRun"):
                continue  # the process never ran: there is no log to read
            if (state.get("waiting") or {}).get("reason") == "CrashLoopBackOff" \
                    or term.get("exitCode") not in (None, 0):
                need = max(need, weight * 10 + restarts)
            elif last.get("exitCode") not in (None, 0):
                need = max(need, 20 + restarts)
            elif group == "initContainerStatuses" and "running" in state:
                need = max(need, 10)
    return need


def key_of(obj: dict) -> Tuple[str, str]:
    m = meta(obj)
    return (m.get("namespace") or "", m.get("name") or "")


def normalize_event(ev: dict) -> dict:
    """events.k8s.io/v1 events in the core/v1 shape the analyzers read.

    The two APIs describe the same objects: `regarding`/`note`/`deprecatedCount` are
    `involvedObject`/`message`/`count`. Core events may have a null lastTimestamp and carry the time
    in `eventTime` and `series` instead (newer kubelets); fill lastTimestamp so sorting works.
    """
    if ev.get("apiVersion", "").startswith("events.k8s.io") or "regarding" in ev:
        ev = dict(ev)
        ev.setdefault("involvedObject", ev.get("regarding") or {})
        ev.setdefault("message", ev.get("note", ""))
        if "count" not in ev:
            series = ev.get("series") or {}
            ev["count"] = series.get("count") or ev.get("deprecatedCount") or 1
        ev.setdefault("firstTimestamp", ev.get("deprecatedFirstTimestamp"))
        ev.setdefault("lastTimestamp", ev.get("deprecatedLastTimestamp"))
        ev.setdefault("source", ev.get("deprecatedSource") or {"component": ev.get("reportingController", "")})
    if not ev.get("lastTimestamp"):
        series = ev.get("series") or {}
        last = series.get("lastObservedTime") or ev.get("eventTime") or ev.get("firstTimestamp")
        if last or series:
            ev = dict(ev)
            ev["lastTimestamp"] = last
            if series.get("count") and not ev.get("count"):
                ev["count"] = series["count"]
    return ev


def event_time(ev: dict) -> Optional[datetime]:
    return parse_time(ev.get("lastTimestamp") or ev.get("eventTime") or ev.get("firstTimestamp"))


@dataclass
class ViewOptions:
    namespace: Optional[str]       # the namespace in scope; None = all namespaces
    scan: bool = False              # many pods: list per namespace instead of per-object requests
    log_budget: int = 5             # pods whose logs a scan may fetch (single targets: unlimited)
    tail_lines: int = 20


@dataclass
class ClusterView:
    backend: Backend
    options: ViewOptions
    notes: List[str] = field(default_factory=list)
    _lists: Dict[Tuple[str, Optional[str]], List[dict]] = field(default_factory=dict)
    _gets: Dict[Tuple[str, str, str], Optional[dict]] = field(default_factory=dict)
    _events: Dict[Tuple[str, str, str], List[dict]] = field(default_factory=dict)
    _logs: Dict[Tuple[str, str, str, bool], Optional[str]] = field(default_factory=dict)
    _unreadable: Dict[str, str] = field(default_factory=dict)
    # Every read that failed for good: a fact of the run, reported as the report's `incomplete`.
    incomplete: List[dict] = field(default_factory=list)
    _not_served: set = field(default_factory=set)
    # Lines of a stdin batch whose objects no longer exist (targets.MissingTargets messages).
    missing_targets: List[str] = field(default_factory=list)
    # Indexes over fetched lists, built on first use (see `_by_namespace`, `_by_name`, `group`,
    # `_event_index`); keyed like _lists, dropped when the list under them changes (prime).
    _ns_index: Dict[str, Dict[str, List[dict]]] = field(default_factory=dict)
    _name_index: Dict[Tuple[str, Optional[str]], Tuple[Dict[Tuple[str, str], dict], Dict[str, dict]]] = \
        field(default_factory=dict)
    _groups: Dict[tuple, Dict[object, List[dict]]] = field(default_factory=dict)
    _event_indexes: Dict[int, tuple] = field(default_factory=dict)
    _logs_fetched_for: set = field(default_factory=set)
    _logs_skipped_for: set = field(default_factory=set)
    _logs_chosen: Optional[set] = None      # the pods a scan's log budget goes to (log_priority)
    _log_subjects: Optional[List[dict]] = None  # the run's pods (set_log_subjects); None: the scope's
    _now: Optional[datetime] = None

    # ---- time -------------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        """"Now" for ages: the clock when live, the moment the dump was taken when offline."""
        if self._now is None:
            self._now = self.backend.now()
        return self._now

    @property
    def offline(self) -> bool:
        return self.backend.offline

    # ---- degraded reads ---------------------------------------------------------------------
    @staticmethod
    def _resource(kind: str) -> str:
        """`pods`, or `pods.metrics.k8s.io` outside the core group (kubectl's spelling)."""
        info = BY_KIND.get(kind)
        if info is None:
            return kind
        group = info.group_version.rpartition("/")[0]
        return f"{info.resource}.{group}" if group else info.resource

    def _failed(self, kind: str, exc: ReadFailed, namespace: Optional[str] = None,
                obj: Optional[Tuple[str, str]] = None):
        """Record a read that failed for good. Absence of what it would have shown proves nothing,
        and no verdict that needed it may be "healthy" (see `failed_reads_for`)."""
        resource = self._resource(kind)
        ns = exc.namespace if exc.namespace is not None else namespace
        entry = {"resource": resource, "namespace": ns, "status": exc.status,
                 "message": str(exc)[:300]}
        if obj is not None:
            entry["object"] = f"{obj[0]}/{obj[1]}" if obj[0] else obj[1]
        if entry not in self.incomplete:
            self.incomplete.append(entry)
        if obj is None:
            self._unreadable.setdefault(resource, str(exc))
        where = f" in namespace {ns}" if ns else ""
        what = "forbidden" if exc.status == 403 else (f"HTTP {exc.status}" if exc.status else "failed")
        if obj is None:
            self.note(f"could not read {resource}{where} ({what}): the diagnosis leaves out what "
                      f"they would show")

    def _unserved(self, kind: str, exc: NotServed):
        resource = self._resource(kind)
        if resource not in self._not_served:
            self._not_served.add(resource)
            if kind not in SAYS_UNSERVED_ITSELF:
                self.note(f"the server does not serve {resource}: verdicts that need it are left out")

    def readable(self, kind: str) -> bool:
        """False once a read of this kind failed (403, 5xx, timeout) or the API is not served:
        absence then proves nothing."""
        resource = self._resource(kind)
        return resource not in self._unreadable and resource not in self._not_served

    def subject_unreadable(self, kind: str, namespace: Optional[str]) -> Optional["ClusterError"]:
        """The run's subject itself (pods, Services) could not be read: the error that ends the
        run with exit 3 and one line naming the resource, the verb and what to try; else None."""
        from .errors import ClusterError
        resource = self._resource(kind)
        entry = next((e for e in self.incomplete if e["resource"] == resource
                      and not e.get("object")), None)
        if entry is None:
            return None
        where = f" -n {namespace}" if namespace else " -A"
        status = entry.get("status")
        what = "forbidden" if status == 403 else (f"HTTP {status}" if status else "failed")
        detail = entry.get("message", "").split("\n")[0][:160]
        hint = (f"check your permissions: kubectl auth can-i list {resource}{where}" if status in (401, 403)
                else "try again, or check the API server's health: kubectl get --raw /readyz")
        return ClusterError(f"cannot list {resource}{' in namespace ' + namespace if namespace else ''} "
                            f"({what}: {detail}): {hint}")

    def served(self, kind: str) -> bool:
        return self._resource(kind) not in self._not_served

    def failed_reads_for(self, pod: dict) -> List[dict]:
        """The failed reads that bear on a pod's verdict: scope-wide lists of its namespace (or
        of all namespaces) and reads about this very pod (its log, its events)."""
        ns, name = key_of(pod)
        out = []
        for entry in self.incomplete:
            obj = entry.get("object")
            if obj is not None:
                if obj == f"{ns}/{name}" or obj == name:
                    out.append(entry)
            elif entry.get("namespace") in (None, ns):
                out.append(entry)
        return out

    def note(self, text: str):
        if text not in self.notes:
            self.notes.append(text)

    # ---- objects ----------------------------------------------------------------------------
    def list(self, kind: str, namespace=SCOPE, optional: bool = False) -> List[dict]:
        """Every object of a kind in a namespace (default: the view's scope; None: all), cached.
        `optional`: no verdict depends on it (metrics for `why`): a failed or unserved read gives
        nothing, silently, and leaves the report complete."""
        ns = self.options.namespace if namespace is SCOPE else namespace
        info = BY_KIND.get(kind)
        if info is not None and not info.namespaced:
            ns = None
        # In an all-namespaces scan one cluster-wide list answers every namespace: the request
        # count then depends on the number of kinds, not of namespaces.
        if ns is not None and self.options.scan and self.options.namespace is None \
                and (kind, ns) not in self._lists:
            self.list(kind, None, optional=optional)
        # A cluster-wide list already fetched answers every namespace.
        if ns is not None and (kind, None) in self._lists:
            return self._by_namespace(kind).get(ns, _EMPTY)
        cache_key = (kind, ns)
        if cache_key not in self._lists:
            try:
                with _no_cyclic_gc():
                    items = self.backend.list(kind, ns, metadata_only=kind in METADATA_ONLY_KINDS)
            except ReadFailed as exc:
                if not optional:
                    self._failed(kind, exc, ns)
                items = []
            except NotServed as exc:
                if not optional:
                    self._unserved(kind, exc)
                items = []
            self._lists[cache_key] = [normalize_event(i) for i in items] if kind == "Event" else items
        return self._lists[cache_key]

    def get(self, kind: str, namespace: Optional[str], name: str) -> Optional[dict]:
        """One object or None. Served from a list when one was fetched; else one GET (single mode)."""
        info = BY_KIND.get(kind)
        ns = namespace if (info is None or info.namespaced) else None
        for cache_key in ((kind, ns), (kind, None)):
            if cache_key in self._lists:
                return self._lookup(cache_key, ns, name)
        if self.options.scan or self.backend.offline:
            self.list(kind, ns)
            for cache_key in ((kind, ns), (kind, None)):
                if cache_key in self._lists:
                    return self._lookup(cache_key, ns, name)
            return None
        gkey = (kind, ns or "", name)
        if gkey not in self._gets:
            try:
                self._gets[gkey] = self.backend.get(kind, ns, name,
                                                    metadata_only=kind in METADATA_ONLY_KINDS)
            except ReadFailed as exc:
                self._failed(kind, exc, ns)
                self._gets[gkey] = None
            except NotServed as exc:
                self._unserved(kind, exc)
                self._gets[gkey] = None
        return self._gets[gkey]

    def exists(self, kind: str, namespace: Optional[str], name: str) -> Optional[bool]:
        """True/False, or None when the kind could not be read and existence is unknown."""
        found = self.get(kind, namespace, name)
        if found is not None:
            return True
        if not self.readable(kind):
            return None
        if self.backend.offline and not self.list(kind, namespace):
            # Files prove absence only for kinds they hold: a cluster-info dump has no ConfigMaps
            # or Secrets at all, and every real namespace has at least kube-root-ca.crt.
            self.note(f"the input holds no {BY_KIND[kind].resource if kind in BY_KIND else kind}"
                      f"{' in namespace ' + namespace if namespace else ''}: references to them "
                      f"are judged from the kubelet's messages only")
            return None
        return False

    def select(self, kind: str, namespace, predicate: Callable[[dict], bool]) -> List[dict]:
        return [o for o in self.list(kind, namespace) if predicate(o)]

    def prime(self, kind: str, namespace: Optional[str], items: Iterable[dict]):
        """Seed the cache with objects fetched elsewhere (e.g. the pods a target resolved to)."""
        items = list(items)
        if (kind, namespace) not in self._lists:
            self._lists[(kind, namespace)] = items
            self._drop_indexes(kind)

    # ---- indexes ----------------------------------------------------------------------------
    def _by_namespace(self, kind: str) -> Dict[str, List[dict]]:
        """{namespace: its objects, in list order} over the cluster-wide list of a kind."""
        index = self._ns_index.get(kind)
        if index is None:
            index = {}
            for o in self._lists.get((kind, None)) or ():
                index.setdefault((o.get("metadata") or {}).get("namespace") or "", []).append(o)
            self._ns_index[kind] = index
        return index

    def _lookup(self, cache_key: Tuple[str, Optional[str]], ns: Optional[str], name: str):
        """The first object of a fetched list named `name` (in namespace `ns`, unless None)."""
        index = self._name_index.get(cache_key)
        if index is None:
            by_key: Dict[Tuple[str, str], dict] = {}
            by_name: Dict[str, dict] = {}
            for o in self._lists[cache_key]:
                m = o.get("metadata") or {}
                n = m.get("name")
                by_key.setdefault((m.get("namespace"), n), o)
                by_name.setdefault(n, o)
            index = self._name_index[cache_key] = (by_key, by_name)
        return index[1].get(name) if ns is None else index[0].get((ns, name))

    def group(self, kind: str, namespace, key: str, key_of_obj: Callable[[dict], object]) -> Dict[object, List[dict]]:
        """The objects of `self.list(kind, namespace)` grouped by `key_of_obj(obj)` (None: left
        out), built once per (kind, namespace, key) — e.g. pods by node, EndpointSlices by Service.
        `key` names the grouping: the same name must always mean the same function."""
        ns = self.options.namespace if namespace is SCOPE else namespace
        gkey = (kind, ns, key)
        groups = self._groups.get(gkey)
        if groups is None:
            groups = {}
            for o in self.list(kind, ns):
                k = key_of_obj(o)
                if k is not None:
                    groups.setdefault(k, []).append(o)
            self._groups[gkey] = groups
        return groups

    def labelled(self, kind: str, namespace, key: str, value: str) -> List[dict]:
        """The objects of `self.list(kind, namespace)` whose label `key` is `value`, in list
        order (grouped once per label key): the candidates for a selector holding key=value."""
        def value_of(o: dict):
            v = ((o.get("metadata") or {}).get("labels") or {}).get(key)
            return v if isinstance(v, str) else None
        return self.group(kind, namespace, "label:" + key, value_of).get(value, _EMPTY)

    def _drop_indexes(self, kind: str):
        self._ns_index.pop(kind, None)
        for k in [k for k in self._name_index if k[0] == kind]:
            del self._name_index[k]
        for k in [k for k in self._groups if k[0] == kind]:
            del self._groups[k]
        if kind == "Event":
            self._event_indexes.clear()

    def _event_index(self, pool: List[dict]):
        """(by uid, by kind/namespace/name for events without a usable uid, by kind/namespace/name
        for all) over one list of events, each entry (position in the list, event)."""
        entry = self._event_indexes.get(id(pool))
        if entry is not None and entry[0] is pool:
            return entry[1:]
        by_uid: Dict[str, list] = {}
        by_ref_no_uid: Dict[tuple, list] = {}
        by_ref: Dict[tuple, list] = {}
        for pos, ev in enumerate(pool):
            io = ev.get("involvedObject") or {}
            ref = (io.get("kind"), io.get("namespace") or "", io.get("name"))
            item = (pos, ev)
            by_ref.setdefault(ref, []).append(item)
            uid = io.get("uid")
            # The kubelet's events about its Node carry the node's *name* as the uid.
            if uid and uid != io.get("name"):
                by_uid.setdefault(uid, []).append(item)
            else:
                by_ref_no_uid.setdefault(ref, []).append(item)
        self._event_indexes[id(pool)] = (pool, by_uid, by_ref_no_uid, by_ref)
        return by_uid, by_ref_no_uid, by_ref

    # ---- events -----------------------------------------------------------------------------
    def events_for(self, obj: dict, kind: Optional[str] = None) -> List[dict]:
        """Events about one object, oldest first (matched by uid, else by kind/namespace/name)."""
        m = meta(obj)
        kind = kind or obj.get("kind") or "Pod"
        ns, name, uid = m.get("namespace") or "", m.get("name") or "", m.get("uid")
        ekey = (kind, ns, name)
        if ekey in self._events:
            return self._events[ekey]

        def about(ev: dict) -> bool:
            io = ev.get("involvedObject") or {}
            # The kubelet's events about its Node carry the node's *name* as the uid.
            if uid and io.get("uid") and io.get("uid") != io.get("name"):
                return io.get("uid") == uid
            return io.get("name") == name and io.get("kind") == kind and (io.get("namespace") or "") == ns

        if self.options.scan or self.backend.offline or ("Event", None) in self._lists \
                or ("Event", ns or None) in self._lists:
            pool = self.list("Event", ns or None)
            # Indexed: an event is about this object by uid, or (no usable uid on the event) by
            # kind/namespace/name; an object without uid matches every event by kind/namespace/name.
            by_uid, by_ref_no_uid, by_ref = self._event_index(pool)
            ref = (kind, ns, name)
            if uid:
                items = by_uid.get(uid, []) + by_ref_no_uid.get(ref, [])
                items.sort(key=lambda item: item[0])
            else:
                items = by_ref.get(ref, [])
            found = sorted((ev for _, ev in items), key=lambda e: event_time(e) or self.now)
            self._events[ekey] = found
            return found
        else:
            # One object: ask the server for its events only (fields in the events allowlist).
            selector = f"involvedObject.name={name},involvedObject.kind={kind}"
            if ns:
                selector += f",involvedObject.namespace={ns}"
            try:
                pool = [normalize_event(e) for e in
                        self.backend.list("Event", ns or None, field_selector=selector)]
            except ReadFailed as exc:
                self._failed("Event", exc, ns or None, obj=(ns, name) if kind == "Pod" else None)
                pool = []
            except NotServed as exc:
                self._unserved("Event", exc)
                pool = []
        found = sorted((e for e in pool if about(e)), key=lambda e: event_time(e) or self.now)
        self._events[ekey] = found
        return found

    # ---- logs -------------------------------------------------------------------------------
    def logs(self, pod: dict, container: str, previous: bool = True) -> Optional[str]:
        """Tail of a container's log (the previous instance's by default), or None if unavailable."""
        ns, name = key_of(pod)
        lkey = (ns, name, container, previous)
        if lkey in self._logs:
            return self._logs[lkey]
        if self.options.scan and not self.backend.offline and (ns, name) not in self._logs_fetched_for:
            # The budget goes to the pods whose diagnosis needs a log, most severe first (not to
            # whichever pods the analyzers happen to reach first); left-over slots to the rest.
            chosen = self._log_priority()
            if (ns, name) not in chosen and \
                    len(self._logs_fetched_for | chosen) >= self.options.log_budget:
                self._logs_skipped_for.add((ns, name))
                return None
        self._logs_fetched_for.add((ns, name))
        try:
            text = self.backend.logs(ns, name, container, previous, self.options.tail_lines)
        except ReadFailed as exc:
            if exc.status == 403:
                self._failed("pods/log", exc, ns)
            else:
                self._failed("pods/log", exc, ns, obj=(ns, name))
            text = None
        self._logs[lkey] = text
        return text

    def set_log_subjects(self, pods: List[dict]):
        """The pods the run judges (after -l and the targets): the budget is ranked among them,
        not among every pod of the scope, so pods the run does not judge cannot take its slots."""
        self._log_subjects = list(pods)
        self._logs_chosen = None

    def _log_priority(self) -> set:
        if self._logs_chosen is None:
            pool = self._log_subjects if self._log_subjects is not None \
                else self.list("Pod", self.options.namespace)
            ranked = sorted(((log_need(p), key_of(p)) for p in pool), key=lambda x: (-x[0], x[1]))
            chosen = [k for need, k in ranked if need > 0]
            if self.options.log_budget != float("inf"):
                chosen = chosen[:int(self.options.log_budget)]
            self._logs_chosen = set(chosen)
        return self._logs_chosen

    def log_skipped(self, pod: dict) -> bool:
        """True when a scan did not read this pod's log because of its log budget."""
        return key_of(pod) in self._logs_skipped_for

    def finish_notes(self) -> List[str]:
        if self._logs_skipped_for:
            self.note(f"logs not read for {len(self._logs_skipped_for)} more pod(s): a scan reads the "
                      f"logs of {self.options.log_budget} pods, those whose diagnosis needs one most "
                      f"first; use --logs to read them all")
        return self.notes

    # ---- owners -----------------------------------------------------------------------------
    def controller_of(self, obj: dict) -> Optional[ObjectRef]:
        ns = meta(obj).get("namespace")
        refs = meta(obj).get("ownerReferences") or []
        ref = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
        if not ref:
            return None
        return ObjectRef(ref.get("kind", ""), ns, ref.get("name", ""))

    def owner_chain(self, obj: dict) -> List[ObjectRef]:
        """Owners from the direct controller up to the top (Pod → ReplicaSet → Deployment)."""
        chain: List[ObjectRef] = []
        current = obj
        seen = set()
        while True:
            ref = self.controller_of(current)
            if ref is None or (ref.kind, ref.name) in seen:
                return chain
            seen.add((ref.kind, ref.name))
            chain.append(ref)
            if ref.kind not in ("ReplicaSet", "Job"):
                return chain
            parent = self.get(ref.kind, ref.namespace, ref.name)
            if parent is None:
                # The ReplicaSet was not dumped (or not readable). Its name is the Deployment's
                # name plus the pod-template-hash the pod also carries as a label.
                hash_label = (meta(current).get("labels") or {}).get("pod-template-hash")
                if ref.kind == "ReplicaSet" and hash_label and ref.name.endswith("-" + hash_label):
                    chain.append(ObjectRef("Deployment", ref.namespace, ref.name[: -len(hash_label) - 1]))
                return chain
            current = parent

    def top_owner(self, obj: dict) -> Optional[ObjectRef]:
        chain = self.owner_chain(obj)
        return chain[-1] if chain else None
