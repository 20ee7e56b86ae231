"""ConfigMapNotFound / SecretNotFound / ConfigMapKeyNotFound / SecretKeyNotFound.

Two sources, merged into one finding per (kind, name, key):

* what the kubelet said: a container waiting in `CreateContainerConfigError` with
  `configmap "app-config" not found` or `couldn't find key DB_HOST in ConfigMap default/app-config`
  (pkg/kubelet/kubelet_pods.go; older releases said `configmaps "x"` and `Couldn't find key`), the
  matching `Failed` event (`Error: ...`), `FailedMount` events for configMap/secret/projected
  volumes (`MountVolume.SetUp failed for volume "config" : configmap "app-config" not found`,
  `configmap references non-existent config key: KEY`, `references non-existent secret key: KEY`)
  and `FailedToRetrieveImagePullSecret`;
* what the pod spec references (env valueFrom, envFrom, configMap/secret/projected volumes,
  imagePullSecrets; `optional: true` never fails), checked against the view. A ConfigMap's keys
  can be checked; a Secret is read as metadata only, so a missing Secret key is only ever known from
  the kubelet's own message.

Events expire after an hour and the container's waiting message only names the first failure, so
the spec check also finds the second missing ConfigMap, and the one a running pod will trip over
on its next restart (reported as a warning).
"""

import copy
import difflib
import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ...findings import Finding
from ...sanitize import clean
from ..base import Container, PodContext, fix, quote, status_line

# ---- the kubelet's words ---------------------------------------------------------------------
# `configmap "x" not found` (watch-based manager, 1.14+) or `configmaps "x" not found` (API error).
_NOT_FOUND = re.compile(r'\b(configmaps?|secrets?) "([^"]+)" not found', re.I)
# `couldn't find key DB_HOST in ConfigMap default/app-config` (older: `Couldn't find key ...`).
_ENV_KEY = re.compile(r"couldn't find key (\S+) in (ConfigMap|Secret) ([^/\s]+)/([^\s,\]]+)", re.I)
# Volume plugins: `configmap references non-existent config key: KEY`,
# `references non-existent secret key: KEY` (the message names the volume, not the object).
_VOL_KEY = re.compile(r"references non-existent (config|secret) key: ([^\s,\]]+)", re.I)
# `MountVolume.SetUp failed for volume "config" : ...`; very old kubelets:
# `MountVolume.SetUp failed for volume "kubernetes.io/configmap/UID-config" (spec.Name: "config") ...`
_SETUP_VOLUME = re.compile(r'MountVolume\.SetUp failed for volume "([^"]+)"(?:.*?\(spec\.Name: "([^"]+)"\))?', re.I)
_UNMOUNTED = re.compile(r"unmounted volumes=\[([^\]]*)\]", re.I)
_PULL_SECRETS = re.compile(r"Unable to retrieve some image pull secrets \(([^)]*)\)", re.I)

_KIND = {"configmap": "ConfigMap", "configmaps": "ConfigMap", "config": "ConfigMap",
         "secret": "Secret", "secrets": "Secret"}
_REASON = {("ConfigMap", False): "ConfigMapNotFound", ("Secret", False): "SecretNotFound",
           ("ConfigMap", True): "ConfigMapKeyNotFound", ("Secret", True): "SecretKeyNotFound"}
_PLURAL = {"ConfigMap": "configmaps", "Secret": "secrets"}
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"


def config_ref_message(message: str) -> bool:
    """True when a kubelet message is about a missing ConfigMap/Secret or key (this module's)."""
    return bool(_NOT_FOUND.search(message or "") or _ENV_KEY.search(message or "")
                or _VOL_KEY.search(message or ""))


def unmounted_volumes(ev: dict) -> set:
    """Volumes the kubelet's `Unable to attach or mount volumes: unmounted volumes=[...]` lists."""
    m = _UNMOUNTED.search(ev.get("message") or "")
    return set(m.group(1).split()) if m else set()


# ---- what the pod spec references ------------------------------------------------------------
@dataclass
class Ref:
    kind: str                         # ConfigMap | Secret
    name: str
    key: Optional[str]                # a single key (env keyRef, volume item), else None
    via: str                          # env | envFrom | volume | projected | imagePullSecrets
    optional: bool = False
    container: Optional[Container] = None     # env / envFrom
    env: Optional[str] = None                  # the variable an env keyRef fills
    volume: Optional[str] = None
    mounts: List[Tuple[Container, str]] = field(default_factory=list)   # (container, mountPath)

    def containers(self) -> List[Container]:
        if self.container is not None:
            return [self.container]
        return [c for c, _ in self.mounts]

    def describe(self) -> str:
        field_name = "configMap" if self.kind == "ConfigMap" else "secret"
        if self.via == "env":
            return (f"referenced by {_who(self.container)}: env {clean(self.env)} from "
                    f"{field_name}KeyRef {clean(self.name)} key {clean(self.key)}")
        if self.via == "envFrom":
            return f"referenced by {_who(self.container)}: envFrom {field_name}Ref {clean(self.name)}"
        if self.via == "imagePullSecrets":
            return f"listed in the pod's imagePullSecrets: {clean(self.name)}"
        source = ("projected " if self.via == "projected" else "") + f"{field_name} {clean(self.name)}"
        if self.key:
            source += f", item key {clean(self.key)}"
        mounted = ", ".join(f"{_who(c, short=True)} at {clean(path)}" for c, path in self.mounts)
        return f'volume "{clean(self.volume)}" ({source}) mounted by {mounted}'

    def to_detail(self) -> dict:
        d = {"via": self.via}
        if self.container is not None:
            d["container"] = self.container.name
        if self.env:
            d["env"] = self.env
        if self.volume:
            d["volume"] = self.volume
            d["mountedBy"] = [c.name for c, _ in self.mounts]
        if self.key:
            d["key"] = self.key
        return d


def _who(c: Optional[Container], short: bool = False) -> str:
    if c is None:
        return "the pod"
    if short:
        return c.name + (" (init)" if c.init and not c.sidecar else "")
    return f"{'init container' if c.init and not c.sidecar else 'container'} {c.name}"


def _optional(src: dict) -> bool:
    return bool((src or {}).get("optional"))


def collect_refs(ctx: PodContext) -> List[Ref]:
    """Every ConfigMap/Secret reference of the pod, init containers first, in spec order."""
    refs: List[Ref] = []
    containers = list(ctx.containers())
    for c in containers:
        for env in c.spec.get("env") or []:
            vf = env.get("valueFrom") or {}
            for field_name, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                src = vf.get(field_name)
                if src and src.get("name"):
                    refs.append(Ref(kind, src["name"], src.get("key"), "env", _optional(src),
                                    container=c, env=env.get("name")))
        for ef in c.spec.get("envFrom") or []:
            for field_name, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                src = ef.get(field_name)
                if src and src.get("name"):
                    refs.append(Ref(kind, src["name"], None, "envFrom", _optional(src), container=c))
    mounts: Dict[str, List[Tuple[Container, str]]] = {}
    for c in containers:
        for m in c.spec.get("volumeMounts") or []:
            mounts.setdefault(m.get("name"), []).append((c, m.get("mountPath", "")))
        for d in c.spec.get("volumeDevices") or []:
            mounts.setdefault(d.get("name"), []).append((c, d.get("devicePath", "")))
    for vol in ctx.spec.get("volumes") or []:
        vname = vol.get("name")
        used = mounts.get(vname)
        if not used:
            continue  # the kubelet only mounts volumes that a container uses
        via = "projected" if vol.get("projected") else "volume"
        sources = [(via, kind, src, src.get(name_field)) for src, kind, name_field in _volume_sources(vol)]
        for via, kind, src, name in sources:
            if not name or (kind == "ConfigMap" and name == ROOT_CA_CONFIGMAP):
                # The service-account volume the API server injects into every pod mounts the
                # root CA ConfigMap the controller-manager publishes in every namespace; checking
                # it from the spec only adds noise (and a request). The kubelet's FailedMount
                # message still reports it if it ever goes missing.
                continue
            opt = _optional(src)
            refs.append(Ref(kind, name, None, via, opt, volume=vname, mounts=list(used)))
            for item in src.get("items") or []:
                if item.get("key"):
                    refs.append(Ref(kind, name, item["key"], via, opt, volume=vname, mounts=list(used)))
    for s in ctx.spec.get("imagePullSecrets") or []:
        if s.get("name"):
            refs.append(Ref("Secret", s["name"], None, "imagePullSecrets"))
    return refs


# ---- problems: one per (kind, name, key) -----------------------------------------------------
@dataclass
class Problem:
    kind: str
    name: str
    key: Optional[str]
    refs: List[Ref] = field(default_factory=list)
    said: List[str] = field(default_factory=list)       # the kubelet's words, as evidence lines
    reporter: Optional[Container] = None                # container whose status/event names it
    current: bool = False                               # a container's status says so right now
    pull_only: bool = False                             # only the image pull secret warning
    exists: Optional[bool] = None
    binary_only: bool = False                           # key exists only in binaryData

    @property
    def reason(self) -> str:
        return _REASON[(self.kind, self.key is not None)]


def _blocked(ctx: PodContext, c: Container) -> bool:
    """The container has not started (waiting, or no status yet on a pending pod)."""
    if c.waiting:
        return True
    if c.terminated or c.state.get("running"):
        return False
    return ctx.status.get("phase") in (None, "", "Pending")


def _configmap_keys(ctx: PodContext, name: str) -> Tuple[set, set]:
    cm = ctx.view.get("ConfigMap", ctx.namespace, name) or {}
    return set((cm.get("data") or {}).keys()), set((cm.get("binaryData") or {}).keys())


def analyze(ctx: PodContext) -> List[Finding]:
    refs = collect_refs(ctx)
    problems: Dict[Tuple[str, str, Optional[str]], Problem] = {}
    containers = list(ctx.containers())

    def problem(kind: str, name: str, key: Optional[str]) -> Problem:
        pkey = (kind, name, key)
        if pkey not in problems:
            problems[pkey] = Problem(kind, name, key)
        return problems[pkey]

    def claims(message: str, volume: Optional[str] = None):
        """(kind, name, key) triples a kubelet message names."""
        out = []
        for m in _ENV_KEY.finditer(message):
            out.append((_KIND[m.group(2).lower()], m.group(4), m.group(1)))
        for m in _NOT_FOUND.finditer(message):
            out.append((_KIND[m.group(1).lower()], m.group(2), None))
        if volume:
            for m in _VOL_KEY.finditer(message):
                kind, key = _KIND[m.group(1).lower()], m.group(2)
                owner = next((r for r in refs if r.volume == volume and r.kind == kind
                              and r.key == key), None) or \
                    next((r for r in refs if r.volume == volume and r.kind == kind), None)
                if owner is not None:
                    out.append((kind, owner.name, key))
        return out

    # 1. The kubelet's current word: container statuses (never expire).
    for c in containers:
        msg = (c.waiting or {}).get("message") or ""
        for kind, name, key in claims(msg):
            p = problem(kind, name, key)
            p.current = True
            p.reporter = p.reporter or c
            line = status_line(c)
            if line and line not in p.said:
                p.said.append(line)

    # 2. Events: `Failed` per container, `FailedMount` per volume, pull secrets per pod.
    pod_blocked = any(_blocked(ctx, c) for c in containers)
    for c in containers:
        if not _blocked(ctx, c):
            continue  # an old event about a container that has started since
        for ev in ctx.events_where("Failed", c.name, init=c.init):
            for kind, name, key in claims(ev.get("message") or ""):
                p = problem(kind, name, key)
                p.reporter = p.reporter or c
                _add_event(ctx, p, ev)
    if pod_blocked:
        for ev in ctx.events_where("FailedMount"):
            msg = ev.get("message") or ""
            m = _SETUP_VOLUME.search(msg)
            if not m:
                continue
            volume = m.group(2) or m.group(1)
            for kind, name, key in claims(msg[m.end():], volume):
                p = problem(kind, name, key)
                _add_event(ctx, p, ev)
    for ev in ctx.events_where("FailedToRetrieveImagePullSecret"):
        m = _PULL_SECRETS.search(ev.get("message") or "")
        if not m:
            continue
        for name in [n.strip() for n in m.group(1).split(",") if n.strip()]:
            p = problem("Secret", name, None)
            _add_event(ctx, p, ev)

    # 3. Attach spec references; check the ones nobody has complained about yet.
    terminal = ctx.status.get("phase") in ("Succeeded", "Failed")
    for ref in refs:
        if ref.optional:
            continue
        pkey = (ref.kind, ref.name, ref.key)
        if pkey in problems:
            problems[pkey].refs.append(ref)
            continue
        if ref.key is not None and (ref.kind, ref.name, None) in problems:
            problems[(ref.kind, ref.name, None)].refs.append(ref)  # the whole object is missing
            continue
        if terminal:
            continue
        exists = ctx.view.exists(ref.kind, ctx.namespace, ref.name)
        if exists is False:
            p = problem(ref.kind, ref.name, None)
            p.refs.append(ref)
            p.exists = False
        elif exists and ref.kind == "ConfigMap" and ref.key is not None:
            data, binary = _configmap_keys(ctx, ref.name)
            readable = data if ref.via == "env" else data | binary   # env reads .data only
            if ref.key not in readable:
                p = problem(ref.kind, ref.name, ref.key)
                p.refs.append(ref)
                p.exists = True

    # A key problem is moot when the whole object is missing.
    for (kind, name, key), p in list(problems.items()):
        if key is not None and (kind, name, None) in problems:
            whole = problems[(kind, name, None)]
            whole.refs += [r for r in p.refs if r not in whole.refs]
            whole.said += [s for s in p.said if s not in whole.said]
            whole.current = whole.current or p.current
            whole.reporter = whole.reporter or p.reporter
            del problems[(kind, name, key)]

    findings = []
    for p in problems.values():
        p.pull_only = ((bool(p.refs) and all(r.via == "imagePullSecrets" for r in p.refs))
                       or (not p.refs and not p.current
                           and all("image pull secrets" in line for line in p.said)))
        if not _still_true(ctx, p):
            continue
        findings.append(_finding(ctx, p))
    return findings


def _add_event(ctx: PodContext, p: Problem, ev: dict):
    line = ctx.describe_event(ev)
    if line not in p.said:
        p.said.append(line)


def _still_true(ctx: PodContext, p: Problem) -> bool:
    """Drop what the cluster has fixed since the kubelet complained (events linger for an hour)."""
    if p.kind == "Secret" and p.key is not None:
        return True  # cannot be checked: Secret data is never read
    if p.exists is None:
        p.exists = ctx.view.exists(p.kind, ctx.namespace, p.name)
    if p.key is None:
        if p.exists:
            if not p.current:
                return False
            p.said.append(f"{p.kind} \"{clean(p.name)}\" exists now: the kubelet should pick it up "
                          f"on its next retry")
        return True
    if p.exists:  # a ConfigMap key the kubelet could not find
        data, binary = _configmap_keys(ctx, p.name)
        env_refs = [r for r in p.refs if r.via == "env"]
        readable = data if (env_refs or not p.refs) else data | binary
        if p.key in readable and not p.current:
            return False
        if p.key in binary and p.key not in data:
            p.binary_only = True
    return True


# ---- the finding -----------------------------------------------------------------------------
def _finding(ctx: PodContext, p: Problem) -> Finding:
    ns = ctx.namespace
    kind_q = f'{p.kind} "{clean(p.name)}"'
    users: List[Container] = []
    for r in p.refs:
        for c in r.containers():
            if c.name not in [u.name for u in users]:
                users.append(c)
    first = p.reporter or (users[0] if users else None)
    blocked = p.current or any(_blocked(ctx, c) for c in users) or (not users and not p.pull_only)

    severity = None
    volumes = [r for r in p.refs if r.volume]
    if p.pull_only:
        severity = "warning"
        summary = (f'image pull secret "{clean(p.name)}" does not exist in namespace {ns}: pulls '
                   f"that need its credentials will fail (public images still pull)")
    elif p.key is None:
        missing = (f"was not found by the kubelet in namespace {ns}" if p.exists
                   else f"does not exist in namespace {ns}")
        what = (f'volume "{clean(volumes[0].volume)}" needs {kind_q}, which {missing}'
                if volumes and len(volumes) == len(p.refs) else f"{kind_q} {missing}")
        summary = _blocked_summary(first, what) if blocked else \
            f"{what}: {_who(first)} runs now but will not start again after a restart"
    else:
        what = f'{kind_q} has no key "{clean(p.key)}"'
        if p.binary_only:
            what += " in .data (it is in .binaryData, which environment variables cannot read)"
        summary = _blocked_summary(first, what) if blocked else \
            f"{what}: {_who(first)} runs now but will not start again after a restart"
    if not blocked and not p.pull_only:
        severity = "warning"

    evidence = list(p.said)
    if first is not None and first.waiting and not p.current:
        evidence.insert(0, status_line(first))
    if volumes and blocked:
        # the kubelet's follow-up that names the stuck volume (`unmounted volumes=[config]`)
        names = {r.volume for r in volumes}
        follow = [e for e in ctx.events_where("FailedMount") if names & unmounted_volumes(e)]
        if follow:
            evidence.append(ctx.describe_event(follow[-1]))
    keyed_volumes = {r.volume for r in p.refs if r.volume and r.key}
    for r in p.refs:
        if r.volume and r.key is None and r.volume in keyed_volumes:
            continue  # the item line says the same and names the key
        line = r.describe()
        if line not in evidence:
            evidence.append(line)
    close = None
    if p.key is None:
        close = _close_name(ctx, p.kind, p.name)
        if p.exists is False:
            evidence.append(f"no {p.kind} named \"{clean(p.name)}\" in namespace {ns}"
                            + (f' (a similar one exists: "{clean(close)}")' if close else ""))
        elif p.exists is None:
            evidence.append(f"whether {kind_q} exists could not be checked (no {_PLURAL[p.kind]} "
                            f"readable in namespace {ns}): the kubelet's message is the evidence")
    elif p.kind == "ConfigMap" and p.exists:
        data, binary = _configmap_keys(ctx, p.name)
        keys = sorted(data | binary)
        evidence.append(f"{kind_q} has keys: {', '.join(clean(k) for k in keys) or '(none)'}")
        match = difflib.get_close_matches(p.key, [k for k in keys if k != p.key], n=1, cutoff=0.75)
        close = match[0] if match else None
    elif p.kind == "Secret":
        evidence.append("Secret keys are not read (metadata only): the missing key comes from the "
                        "kubelet's message")

    suggestions = _suggestions(ctx, p, close)
    details = {"kind": p.kind, "name": p.name, "key": p.key,
               "referencedBy": [r.to_detail() for r in p.refs
                                if not (r.volume and r.key is None and r.volume in keyed_volumes)],
               "source": "kubelet" if p.said else "spec"}
    if close:
        details["didYouMean"] = close
    return ctx.finding(p.reason, summary, container=first.name if first else None,
                       evidence=evidence, suggestions=suggestions, severity=severity,
                       details=details)


def _blocked_summary(c: Optional[Container], what: str) -> str:
    return f"{_who(c)} cannot start: {what}" if c else f"the pod cannot start: {what}"


def _close_name(ctx: PodContext, kind: str, name: str) -> Optional[str]:
    names = [(o.get("metadata") or {}).get("name") for o in ctx.view.list(kind, ctx.namespace)]
    names = [n for n in names if n and n != name]
    match = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    return match[0] if match else None


# ---- suggestions -----------------------------------------------------------------------------
def _suggestions(ctx: PodContext, p: Problem, close: Optional[str]) -> List[str]:
    ns, name = ctx.ns_flag, quote(p.name)
    out: List[str] = []
    if close and p.refs and not (p.key is not None and p.kind == "Secret"):
        patch = _retarget_patch(ctx, p, close)
        if patch:
            out.append(fix(patch, f'did you mean "{close}"? point the reference at it'))
    if p.key is None:
        if p.pull_only or (p.kind == "Secret" and any(r.via == "imagePullSecrets" for r in p.refs)
                           and len(p.refs) == 1):
            out.append(fix("read -rs REGISTRY_PASSWORD",
                           "type the registry password or token (not echoed, not in the shell history)"))
            out.append(f"kubectl create secret docker-registry {name} {ns} --docker-server=REGISTRY "
                       f'--docker-username=USER --docker-password="$REGISTRY_PASSWORD"')
            out.append(fix(ctx.template_patch({"imagePullSecrets": [{"$patch": "delete", "name": p.name}]}),
                           "or drop the reference if the images are public"))
        elif p.kind == "ConfigMap":
            out += _create_configmap(ns, name, p.refs)
        else:
            out += _create_secret(ns, name, p.refs)
        out.append(f"kubectl get {_PLURAL[p.kind]} {ns}")
    elif p.kind == "ConfigMap":
        body = json.dumps({"data": {p.key: "VALUE"}}, separators=(",", ":"))
        out.append(f"kubectl patch configmap {name} {ns} --type=merge -p {shlex.quote(body)}")
        out.append(f"kubectl describe configmap {name} {ns}")
    else:
        out.append(fix(f"kubectl describe secret {name} {ns}", "lists the keys and sizes, not the values"))
        out.append(fix(f"kubectl create secret generic {name} {ns} --from-file={quote(p.key + '=' + _file_for(p.key))} "
                       f"--dry-run=client -o yaml | kubectl apply -f -",
                       f"adds key {p.key} from FILE (the value stays out of the shell history); "
                       f"the other keys are kept"))
    return out


def _known_keys(refs: List[Ref]) -> Tuple[List[str], List[str], bool]:
    """(keys env vars read, keys volume items read, whether some use takes every key)."""
    env_keys = list(dict.fromkeys(r.key for r in refs if r.key and r.via == "env"))
    file_keys = list(dict.fromkeys(r.key for r in refs if r.key and r.via != "env"))
    itemized = {r.volume for r in refs if r.key and r.volume}
    every = any(r.via == "envFrom" or (r.volume and r.key is None and r.volume not in itemized)
                for r in refs)
    return env_keys, file_keys, every


def _create_configmap(ns: str, name: str, refs: List[Ref]) -> List[str]:
    env_keys, file_keys, every = _known_keys(refs)
    base = f"kubectl create configmap {name} {ns}"
    args = [f"--from-literal={quote(k + '=VALUE')}" for k in env_keys]
    args += [f"--from-file={quote(k + '=FILE')}" for k in file_keys]
    out = []
    if args:
        out.append(f"{base} {' '.join(args)}")
    if every or not args:
        if any(r.via == "envFrom" for r in refs):
            out.append(f"{base} --from-literal=KEY=VALUE")
            out.append(fix(f"{base} --from-env-file=app.env", "KEY=VALUE lines become the variables"))
        if any(r.via in ("volume", "projected") and r.key is None for r in refs) or not out:
            out.append(fix(f"{base} --from-file=config.yaml", "each file becomes a key (a file in the volume)"))
    return out


def _create_secret(ns: str, name: str, refs: List[Ref]) -> List[str]:
    env_keys, file_keys, every = _known_keys(refs)
    keys = list(dict.fromkeys(env_keys + file_keys))
    if set(keys) & {"tls.crt", "tls.key"} and set(keys) <= {"tls.crt", "tls.key", "ca.crt"}:
        return [f"kubectl create secret tls {name} {ns} --cert=CERT_FILE --key=KEY_FILE"]
    base = f"kubectl create secret generic {name} {ns}"
    out = []
    if keys:
        out.append(fix(f"{base} " + " ".join(f"--from-file={quote(k + '=' + _file_for(k))}" for k in keys),
                       "each file holds one value: values typed on the command line end up in the "
                       "shell history"))
    if every or not keys:
        out.append(fix(f"{base} --from-env-file=secret.env", "KEY=VALUE lines become the keys "
                                                            "(kept out of the shell history)"))
    return out


def _file_for(key: str) -> str:
    """A placeholder file for a Secret key's value: `./KEY.txt`, the key made file-name safe."""
    return "./" + re.sub(r"[^A-Za-z0-9._-]", "_", key) + ".txt"


def _volume_sources(vol: dict):
    """(source dict, kind, field holding the name) of a configMap/secret/projected volume."""
    if vol.get("configMap"):
        yield vol["configMap"], "ConfigMap", "name"
    if vol.get("secret"):
        yield vol["secret"], "Secret", "secretName"
    for src in (vol.get("projected") or {}).get("sources") or []:
        if src.get("configMap"):
            yield src["configMap"], "ConfigMap", "name"
        if src.get("secret"):
            yield src["secret"], "Secret", "name"


def _retarget_patch(ctx: PodContext, p: Problem, close: str) -> Optional[str]:
    """A pod-template patch that points every reference of the problem at `close` (a name, or a
    key when the problem is a missing key)."""
    new_name = close if p.key is None else p.name
    new_key = close if p.key is not None else None
    containers: Dict[str, dict] = {}
    volumes: Dict[str, dict] = {}
    pull = False
    for r in p.refs:
        if r.via == "env":
            field_name = "configMapKeyRef" if r.kind == "ConfigMap" else "secretKeyRef"
            src = {"key": new_key} if new_key else {"name": new_name}
            entry = containers.setdefault(r.container.name, {"name": r.container.name})
            entry.setdefault("env", []).append({"name": r.env, "valueFrom": {field_name: src}})
        elif r.via == "envFrom":
            entry = containers.setdefault(r.container.name, {"name": r.container.name})
            # envFrom has no merge key: a patch replaces the whole list, so send all of it.
            items = copy.deepcopy(r.container.spec.get("envFrom") or [])
            field_name = "configMapRef" if r.kind == "ConfigMap" else "secretRef"
            for item in items:
                if (item.get(field_name) or {}).get("name") == p.name:
                    item[field_name]["name"] = new_name
            entry["envFrom"] = items
        elif r.via in ("volume", "projected") and r.volume not in volumes:
            spec = next((v for v in ctx.spec.get("volumes") or [] if v.get("name") == r.volume), None)
            if spec is None:
                continue
            spec = copy.deepcopy(spec)
            for src, kind, name_field in _volume_sources(spec):
                if kind != p.kind or src.get(name_field) != p.name:
                    continue
                if new_key:
                    for item in src.get("items") or []:
                        if item.get("key") == p.key:
                            item["key"] = new_key
                else:
                    src[name_field] = new_name
            volumes[r.volume] = spec
        elif r.via == "imagePullSecrets":
            pull = True
    patch: dict = {}
    for group in ("initContainers", "containers"):
        entries = [containers[c.name] for c in ctx.containers(init=group == "initContainers")
                   if c.name in containers]
        if entries:
            patch[group] = entries
    if volumes:
        patch["volumes"] = list(volumes.values())
    if pull:
        names = [s.get("name") for s in ctx.spec.get("imagePullSecrets") or []]
        patch["imagePullSecrets"] = [{"$patch": "replace"}] + \
            [{"name": new_name if n == p.name else n} for n in names]
    return ctx.template_patch(patch) if patch else None
