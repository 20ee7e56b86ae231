"""The basic shape of Kubernetes objects, checked before any analyzer sees them.

Analyzers read plain dicts and trust the API's types: `metadata` is an object, `containers` a list
of objects, `restartCount` a number. Files can hold anything, and so (rarely) can an API answer
behind a broken proxy. An object that does not have its kind's shape is left out with one note
naming where it came from (the file or the API path) and what is wrong; the rest of the report is
produced. JSON nulls are dropped first: for the API, a null field and an absent one mean the same.

The rules are per field name, as the API's types are (a `name` is always a string, `ports` always
a list of objects), with the few names whose type depends on where they sit listed by context.
Fields not listed are not checked, but objects and lists under them are walked.
"""

from typing import Iterable, List, Optional

# Kinds of value. A rule is one of these or a tuple of them (any of).
OBJ, LIST, STRS, STR, INT, BOOL, INT_OR_STR, STR_MAP, QTY_MAP, NUM = (
    "an object", "a list of objects", "a list of strings", "a string", "a whole number",
    "true or false", "a number or a string", "a map of strings", "a map of quantities", "a number")

_RULES = {}
for _names, _rule in (
    ("metadata spec template resources state lastState running waiting terminated involvedObject "
     "regarding related source series livenessProbe readinessProbe startupProbe httpGet tcpSocket "
     "grpc exec securityContext nodeInfo configMap secret persistentVolumeClaim emptyDir hostPath "
     "projected valueFrom configMapKeyRef secretKeyRef fieldRef resourceFieldRef configMapRef "
     "secretRef backend defaultBackend loadBalancer strategy rollingUpdate jobTemplate podSelector "
     "namespaceSelector ipBlock affinity nodeAffinity podAffinity podAntiAffinity lifecycle "
     "daemonEndpoints kubeletEndpoint selector targetRef nodeRef hints", OBJ),
    ("containers initContainers ephemeralContainers containerStatuses initContainerStatuses "
     "ephemeralContainerStatuses conditions ports env envFrom volumes volumeMounts ownerReferences "
     "tolerations taints rules paths tls ingress egress from to podIPs hostIPs addresses subsets "
     "endpoints matchExpressions httpHeaders imagePullSecrets readinessGates items images "
     "topologySpreadConstraints notReadyAddresses sources", LIST),
    ("command args finalizers values hosts policyTypes accessModes clusterIPs externalIPs names",
     STRS),
    ("name namespace uid kind apiVersion image imageID containerID phase reason message type "
     "nodeName restartPolicy serviceAccountName schedulerName hostname podIP hostIP clusterIP "
     "qosClass storageClassName volumeName claimName secretName ingressClassName protocol "
     "appProtocol nominatedNodeName priorityClassName resourceVersion generateName note action "
     "reportingController reportingInstance reportingComponent component fieldPath operator effect "
     "key path mountPath subPath scheme host value mountPropagation imagePullPolicy "
     "creationTimestamp deletionTimestamp lastTimestamp firstTimestamp eventTime startedAt "
     "finishedAt startTime lastTransitionTime lastHeartbeatTime lastProbeTime lastObservedTime "
     "lastScheduleTime completionTime lastUpdateTime timestamp window schedule", STR),
    ("restartCount exitCode signal count deprecatedCount containerPort hostPort nodePort number "
     "initialDelaySeconds periodSeconds timeoutSeconds failureThreshold successThreshold "
     "terminationGracePeriodSeconds activeDeadlineSeconds progressDeadlineSeconds backoffLimit "
     "completions parallelism replicas readyReplicas availableReplicas updatedReplicas "
     "unavailableReplicas observedGeneration generation succeeded failed "
     "startingDeadlineSeconds", INT),
    ("started controller blockOwnerDeletion optional hostNetwork suspend unschedulable readOnly "
     "serving", BOOL),
    ("targetPort", INT_OR_STR),
    ("port", INT_OR_STR),
    ("labels annotations nodeSelector matchLabels data binaryData stringData", STR_MAP),
    ("limits requests capacity allocatable usage hard used", QTY_MAP),
    ("ready", (BOOL, INT)),        # a container's (bool); a Job's status.ready (count)
    ("active", (INT, LIST)),       # a Job's count; a CronJob's list of Job references
    ("terminating", (BOOL, INT)),  # an EndpointSlice condition; a Job's count
    ("status", (OBJ, STR)),        # an object's status; a condition's "True"/"False"/"Unknown"
):
    for _n in _names.split():
        _RULES[_n] = _rule

# (parent field, field) -> rule, where the name alone is ambiguous.
_IN_CONTEXT = {
    ("conditions", "status"): STR,
    ("endpoints", "conditions"): OBJ,   # EndpointSlice: {ready, serving, terminating}
    ("service", "port"): OBJ,           # Ingress backend: {number} or {name}
    ("linux", "uid"): INT,              # containerStatuses[].user.linux: {uid, gid, ...}
    ("linux", "gid"): INT,
    ("endpoints", "addresses"): STRS,   # EndpointSlice endpoints (Endpoints' subsets: objects)
    ("spec", "controller"): STR,        # IngressClass: the controller's name
    ("spec", "limits"): LIST,           # LimitRange: a list of {type, max, min, default, ...}
    ("onExitCodes", "values"): "a list of whole numbers",  # Job podFailurePolicy (not checked)
}
# Fields the API requires (its validation rejects an object without them) and the analyzers
# therefore read without a default: (parent field, list field) -> fields of every element, and
# object field -> its fields.
_CONTAINERS = ("containers", "initContainers", "ephemeralContainers")
_REQUIRED_IN_LIST = {
    **{(c, "ports"): ("containerPort",) for c in _CONTAINERS},
    **{(c, "env"): ("name",) for c in _CONTAINERS},
    **{(c, "volumeMounts"): ("name", "mountPath") for c in _CONTAINERS},
    **{("spec", c): ("name",) for c in _CONTAINERS},
    ("status", "containerStatuses"): ("name",),
    ("status", "initContainerStatuses"): ("name",),
    ("status", "ephemeralContainerStatuses"): ("name",),
    ("spec", "volumes"): ("name",),
    ("spec", "imagePullSecrets"): ("name",),
    ("spec", "taints"): ("key",),
    ("configMap", "items"): ("key", "path"),
    ("secret", "items"): ("key", "path"),
}
_REQUIRED_IN_OBJECT = {
    "configMapKeyRef": ("name", "key"),
    "secretKeyRef": ("name", "key"),
    "configMapRef": ("name",),
    "secretRef": ("name",),
}
_REQUIRED_BY_KIND = {"Service": {("spec", "ports"): ("port",)}}

# kind -> {dotted path: rule} checked on top of the field rules.
_BY_KIND = {
    "Service": {"spec.selector": STR_MAP},
}
# Fields no analyzer reads, not walked (managedFields is most of a live object's size).
_NOT_READ = {"managedFields", "last-applied-configuration"}

# Real objects are a few levels deep (managedFields about 15); a document nested deeper is hostile.
MAX_DEPTH = 100

_ROOT = {"status": OBJ, "spec": OBJ, "metadata": OBJ, "kind": STR, "apiVersion": STR}


def _ok(value, rule) -> bool:
    t = type(value)
    if rule is STR:
        return t is str
    if rule is OBJ:
        return t is dict
    if rule is INT:
        return t is int
    if isinstance(rule, tuple):
        return any(_ok(value, r) for r in rule)
    if rule is OBJ:
        return isinstance(value, dict)
    if rule is STR:
        return isinstance(value, str)
    if rule is INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if rule is BOOL:
        return isinstance(value, bool)
    if rule is NUM:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if rule is INT_OR_STR:
        return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    if rule is LIST:
        return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    if rule is STRS:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if rule is STR_MAP:
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if rule is QTY_MAP:
        return isinstance(value, dict) and all(
            isinstance(v, str) or (isinstance(v, (int, float)) and not isinstance(v, bool))
            for v in value.values())
    return True


def describe(value) -> str:
    """`a string`, `a number`, `null`: what a value is, for notes."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        bad = next((v for v in value if not isinstance(v, dict)), None)
        return "a list" if bad is None else f"a list holding {describe(bad)}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _expected(rule) -> str:
    return " or ".join(rule) if isinstance(rule, tuple) else rule


def problem(obj, kind: Optional[str] = None) -> Optional[str]:
    """What makes `obj` not an object of its kind (`spec.containers[0] is a string where an object
    belongs`), or None. Null fields are dropped from `obj` in place on the way."""
    if not isinstance(obj, dict):
        return f"{describe(obj)} where an object belongs"
    for k in [k for k, v in obj.items() if v is None]:
        del obj[k]
    if any(not isinstance(k, str) for k in obj):
        return "a field name that is not a string"
    for key, rule in _ROOT.items():
        if key in obj and not _ok(obj[key], rule):
            return f"{key} is {describe(obj[key])} where {_expected(rule)} belongs"
    m = obj.get("metadata")
    if not isinstance(m, dict):
        return "no metadata"
    kind = kind or obj.get("kind") or ""
    for path, rule in _BY_KIND.get(kind, {}).items():
        value = obj
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None and not _ok(value, rule):
            return f"{path} is {describe(value)} where {_expected(rule)} belongs"
    required_by_kind = _REQUIRED_BY_KIND.get(kind, {})
    # Iterative walk over the objects and lists inside (value, its field name, its parent's field
    # name, path node, depth). Scalars are checked where their parent is visited; the path
    # ("spec.containers[0].ports") is only spelled out for a note.
    stack = [(obj, "", "", None, 0)]
    while stack:
        value, name, parent, node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"{_spell(node)} is nested deeper than {MAX_DEPTH} levels"
        if type(value) is dict:
            for field in _REQUIRED_IN_OBJECT.get(name, ()):
                if value.get(field) is None:
                    return f"{_spell(node)} has no {field}"
            why = _children(value, name, node, depth, stack)
            if why:
                return why
        else:  # a list
            required = _REQUIRED_IN_LIST.get((parent, name)) or required_by_kind.get((parent, name), ())
            for i, item in enumerate(value):
                if type(item) is dict:
                    for field in required:
                        if item.get(field) is None:
                            return f"{_spell((node, i))} has no {field}"
                    why = _children(item, name, (node, i), depth + 1, stack)
                    if why:
                        return why
                elif type(item) is list:
                    stack.append((item, name, parent, (node, i), depth + 1))
    return None


def _children(value: dict, name: str, node, depth: int, stack: list) -> Optional[str]:
    """Check an object's fields; queue the objects and lists among them that are walked."""
    nulls = None
    for k, v in value.items():
        if v is None:
            nulls = (nulls or []) + [k]
            continue
        if type(k) is not str:
            return f"{_spell(node)} has a key that is not a string"
        rule = _IN_CONTEXT.get((name, k)) or _RULES.get(k)
        if rule is not None:
            if not _ok(v, rule):
                return f"{_spell((node, k))} is {describe(v)} where {_expected(rule)} belongs"
            if rule in _LEAVES:
                continue
        if k in _NOT_READ:
            continue
        if type(v) is dict or type(v) is list:
            stack.append((v, k, name, (node, k), depth + 1))
    for k in nulls or ():
        del value[k]
    return None


_LEAVES = (STR_MAP, QTY_MAP, STRS, STR, INT, BOOL, INT_OR_STR, NUM)
_CONTAINER_TYPES = (dict, list)


def _spell(node) -> str:
    """("spec", "containers", 0, "ports") as `spec.containers[0].ports`."""
    steps = []
    while node is not None:
        node, step = node
        steps.append(step)
    out = ""
    for step in reversed(steps):
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def label(obj, kind: Optional[str] = None) -> str:
    """`pod shop/web-1` (as far as the object lets itself be named)."""
    kind = kind if isinstance(kind, str) and kind else (
        obj.get("kind") if isinstance(obj, dict) and isinstance(obj.get("kind"), str) else "object")
    m = obj.get("metadata") if isinstance(obj, dict) else None
    m = m if isinstance(m, dict) else {}
    name = m.get("name") if isinstance(m.get("name"), str) else "(no name)"
    ns = m.get("namespace") if isinstance(m.get("namespace"), str) else ""
    return f"{kind.lower()} {ns + '/' if ns else ''}{name}"


def checked_items(items: Iterable, kind: Optional[str], origin: str, notes: List[str]) -> List[dict]:
    """The items that have their kind's shape; one note in `notes` per item left out."""
    out = []
    for index, item in enumerate(items):
        why = problem(item, kind)
        if why is None:
            out.append(item)
            continue
        what = label(item, kind) if isinstance(item, dict) else f"item {index}"
        note = f"{origin}: left out {what}: {why}"
        if note not in notes:
            notes.append(note)
    return out
