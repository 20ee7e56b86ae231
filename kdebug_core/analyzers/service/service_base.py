"""What every Service analyzer receives, and the facts they share.

A Service analyzer is `analyze(view, service, plugin) -> list[Finding]`. It builds a
`ServiceContext` over the Service and asks it the questions an operator asks in order: which pods
does the selector match, which endpoints did the control plane publish for them (EndpointSlices
first, the v1 Endpoints object as a fallback, and — when neither was dumped — the endpoints the
controller would have computed from the pods), and which container port each Service port reaches.

The rules mimic the upstream controllers (k8s.io/endpointslice utils.go: `FindPort`,
`podToEndpoint`, `ShouldPodBeInEndpoints`) so that a computed answer is the one the cluster gives.
"""

import json
import shlex
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ...findings import ObjectRef
from ...labels import matches, requirements_from_map
from ...view import ClusterView, meta
from ..base import KUBECTL_NAME, PodContext, SubjectContext

SERVICE_NAME_LABEL = "kubernetes.io/service-name"


@dataclass
class Endpoint:
    """One backend address as the control plane published it (or would have)."""
    address: str
    ready: bool
    pod: Optional[str] = None          # targetRef name when the backend is a pod
    namespace: Optional[str] = None
    serving: Optional[bool] = None
    terminating: bool = False
    ports: List[dict] = field(default_factory=list)  # [{"name", "port", "protocol"}] of its slice


@dataclass
class Endpoints:
    """The Service's endpoints and where they were read from."""
    source: str                          # "EndpointSlice", "Endpoints", "computed", "none"
    items: List[Endpoint]
    objects: List[dict]                  # the EndpointSlices or the Endpoints object read
    known_absent: bool = False           # source "none": nothing exists (not merely not dumped)

    @property
    def ready(self) -> List[Endpoint]:
        return [e for e in self.items if e.ready and not e.terminating]

    @property
    def not_ready(self) -> List[Endpoint]:
        return [e for e in self.items if not e.ready and not e.terminating]

    def describe_source(self) -> str:
        if self.source == "EndpointSlice":
            names = ", ".join(meta(o).get("name", "") for o in self.objects)
            return f"EndpointSlice {names}" if len(self.objects) == 1 else f"EndpointSlices {names}"
        if self.source == "Endpoints":
            return f"Endpoints {meta(self.objects[0]).get('name', '')}"
        return "computed from the pods (no EndpointSlice or Endpoints in the input)"


def is_pod_ready(pod: dict) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def should_be_endpoint(pod: dict) -> bool:
    """ShouldPodBeInEndpoints: not terminal, has an IP (terminating pods stay, flagged)."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return False
    return bool(status.get("podIP") or status.get("podIPs"))


def find_port(pod: dict, service_port: dict) -> Optional[int]:
    """The container port a Service port reaches on this pod, as the endpoint controllers find it.

    A number is used as is; a name must be a named port of an app container (or of a native
    sidecar) with the same protocol.
    """
    target = target_port(service_port)
    if isinstance(target, int):
        return target
    protocol = service_port.get("protocol") or "TCP"
    for c, _sidecar in declared_containers(pod):
        for p in c.get("ports") or []:
            if p.get("name") == target and (p.get("protocol") or "TCP") == protocol:
                return int(p.get("containerPort"))
    return None


def declared_containers(pod: dict):
    """App containers and native sidecars (init containers with restartPolicy Always)."""
    spec = pod.get("spec") or {}
    for c in spec.get("containers") or []:
        yield c, False
    for c in spec.get("initContainers") or []:
        if c.get("restartPolicy") == "Always":
            yield c, True


def target_port(service_port: dict):
    """targetPort as int or str; it defaults to the port itself."""
    t = service_port.get("targetPort")
    if t is None or t == "" or t == 0:
        return int(service_port.get("port") or 0)
    if isinstance(t, str) and t.isdigit():
        return int(t)
    return t


def port_label(service_port: dict) -> str:
    """`80/TCP` or `http 80/TCP` — a Service port as describe shows it."""
    name = service_port.get("name")
    return (f"{name} " if name else "") + f"{service_port.get('port')}/{service_port.get('protocol') or 'TCP'}"


def _str_or_none(value) -> Optional[str]:
    return value if isinstance(value, str) else None


def selector_text(selector: Dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in selector.items())


@dataclass
class ServiceContext(SubjectContext):
    view: ClusterView
    service: dict
    plugin: str
    _pods: Optional[List[dict]] = field(default=None, repr=False)
    _endpoints: Optional[Endpoints] = field(default=None, repr=False)

    # ---- the Service ------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return meta(self.service).get("name", "")

    @property
    def namespace(self) -> str:
        return meta(self.service).get("namespace") or "default"

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef("Service", self.namespace, self.name)

    @property
    def spec(self) -> dict:
        return self.service.get("spec") or {}

    @property
    def selector(self) -> Dict[str, str]:
        return {k: str(v) for k, v in (self.spec.get("selector") or {}).items()}

    @property
    def ports(self) -> List[dict]:
        return list(self.spec.get("ports") or [])

    @property
    def type(self) -> str:
        return self.spec.get("type") or "ClusterIP"

    @property
    def kubectl_ref(self) -> str:
        return f"service/{self.name}"

    # ---- pods ---------------------------------------------------------------------------------
    def selects(self, pod: dict) -> bool:
        sel = self.selector
        return bool(sel) and matches(requirements_from_map(sel), meta(pod).get("labels"))

    def pods(self) -> List[dict]:
        """Pods of the Service's namespace that carry every selector label."""
        if self._pods is None:
            self._pods = [p for p in self._candidates() if self.selects(p)] if self.selector else []
        return self._pods

    def _candidates(self) -> List[dict]:
        """The namespace's pods that carry the selector's first label with its value (grouped once
        per label key for the run), in list order: a superset of the selected pods, found
        without a pass over the namespace's pods per Service."""
        key, value = next(iter(self.selector.items()))
        if not isinstance(key, str) or not isinstance(value, str):
            return self.view.list("Pod", self.namespace)
        by_value = self.view.group("Pod", self.namespace, "label:" + key,
                                   lambda p: _str_or_none((meta(p).get("labels") or {}).get(key)))
        return by_value.get(value, [])

    def namespace_pods(self) -> List[dict]:
        return self.view.list("Pod", self.namespace)

    def owner(self, pod: dict) -> Optional[ObjectRef]:
        return self.view.top_owner(pod)

    def pod_context(self, pod: dict) -> PodContext:
        return PodContext(view=self.view, pod=pod, plugin=self.plugin, owner=self.owner(pod))

    def workload(self, pod: dict) -> Optional[ObjectRef]:
        """The Deployment/StatefulSet/DaemonSet... whose template makes this pod, if any."""
        ref = self.owner(pod)
        if ref and ref.kind in KUBECTL_NAME and ref.kind != "Pod":
            return ref
        return None

    def get(self, kind: str, name: str) -> Optional[dict]:
        return self.view.get(kind, self.namespace, name)

    # ---- endpoints ----------------------------------------------------------------------------
    def endpoints(self) -> Endpoints:
        if self._endpoints is None:
            self._endpoints = self._read_endpoints()
        return self._endpoints

    def _read_endpoints(self) -> Endpoints:
        # EndpointSlices by Service, grouped once for the run.
        slices = self.view.group("EndpointSlice", self.namespace, "service-name",
                                 lambda s: (meta(s).get("labels") or {}).get(SERVICE_NAME_LABEL)
                                 ).get(self.name, [])
        if slices:
            return Endpoints("EndpointSlice", _from_slices(slices), slices)
        legacy = self.view.get("Endpoints", self.namespace, self.name)
        if legacy is not None:
            return Endpoints("Endpoints", _from_endpoints(legacy), [legacy])
        if self.selector:
            return Endpoints("computed", self._computed(), [])
        return Endpoints("none", [], [], known_absent=self._absence_is_known())

    def _computed(self) -> List[Endpoint]:
        out = []
        for pod in self.pods():
            if not should_be_endpoint(pod):
                continue
            status = pod.get("status") or {}
            terminating = bool(meta(pod).get("deletionTimestamp"))
            serving = is_pod_ready(pod)
            ready = bool(self.spec.get("publishNotReadyAddresses")) or (serving and not terminating)
            ports = []
            for sp in self.ports:
                num = find_port(pod, sp)
                if num is not None:
                    ports.append({"name": sp.get("name") or "", "port": num,
                                  "protocol": sp.get("protocol") or "TCP"})
            ip = status.get("podIP") or ((status.get("podIPs") or [{}])[0].get("ip") or "")
            out.append(Endpoint(ip, ready, meta(pod).get("name"), self.namespace, serving,
                                terminating, ports))
        return out

    def _absence_is_known(self) -> bool:
        """No EndpointSlice and no Endpoints: do they not exist, or were they just not read?"""
        view = self.view
        if not view.readable("EndpointSlice") or not view.readable("Endpoints"):
            return False
        if not view.offline:
            return True
        # Offline: only when the files hold endpoints of other Services (the kinds were dumped).
        return bool(view.list("EndpointSlice", None) or view.list("Endpoints", None))

    # ---- suggestions (finding() and ns_flag: SubjectContext) -----------------------------------
    def service_patch(self, body, patch_type: str = "merge") -> str:
        text = json.dumps(body, separators=(",", ":"))
        return (f"kubectl patch {self.kubectl_ref} {self.ns_flag} --type={patch_type} "
                f"-p {shlex.quote(text)}")


def kubectl_name(ref: ObjectRef) -> str:
    return f"{KUBECTL_NAME.get(ref.kind, ref.kind.lower())}/{ref.name}"


def template_patch(ref: ObjectRef, namespace: str, template_patch_body: dict) -> str:
    """A strategic-merge patch of a workload's pod template (`spec.template` ...)."""
    body = {"spec": {"template": template_patch_body}}
    if ref.kind == "CronJob":
        body = {"spec": {"jobTemplate": {"spec": {"template": template_patch_body}}}}
    return (f"kubectl patch {kubectl_name(ref)} -n {shlex.quote(namespace)} --type=strategic "
            f"-p {shlex.quote(json.dumps(body, separators=(',', ':')))}")


def labels_text(labels: Optional[Dict[str, str]], skip=("pod-template-hash",)) -> str:
    items = [(k, v) for k, v in (labels or {}).items() if k not in skip]
    return ",".join(f"{k}={v}" for k, v in items) if items else "(no labels)"


def _from_slices(slices: List[dict]) -> List[Endpoint]:
    out: List[Endpoint] = []
    seen: Dict[Tuple[str, str], Endpoint] = {}
    for s in slices:
        ports = [{"name": p.get("name") or "", "port": p.get("port"),
                  "protocol": p.get("protocol") or "TCP"} for p in s.get("ports") or []]
        for ep in s.get("endpoints") or []:
            cond = ep.get("conditions") or {}
            ref = ep.get("targetRef") or {}
            addresses = ep.get("addresses") or []
            pod = ref.get("name") if ref.get("kind") in (None, "Pod") else None
            key = ("pod", pod) if pod else ("ip", addresses[0] if addresses else "")
            ready = cond.get("ready")
            e = Endpoint(address=addresses[0] if addresses else "",
                         ready=True if ready is None else bool(ready),  # nil means ready
                         pod=pod, namespace=ref.get("namespace"), serving=cond.get("serving"),
                         terminating=bool(cond.get("terminating")), ports=list(ports))
            if key in seen:  # dual-stack: the same pod in an IPv4 and an IPv6 slice
                seen[key].ports.extend(p for p in ports if p not in seen[key].ports)
                continue
            seen[key] = e
            out.append(e)
    return out


def _from_endpoints(obj: dict) -> List[Endpoint]:
    out = []
    for subset in obj.get("subsets") or []:
        ports = [{"name": p.get("name") or "", "port": p.get("port"),
                  "protocol": p.get("protocol") or "TCP"} for p in subset.get("ports") or []]
        for group, ready in (("addresses", True), ("notReadyAddresses", False)):
            for a in subset.get(group) or []:
                ref = a.get("targetRef") or {}
                pod = ref.get("name") if ref.get("kind") in (None, "Pod") and ref else None
                existing = next((e for e in out if (pod and e.pod == pod) or
                                 (not pod and e.address == a.get("ip"))), None)
                if existing:
                    existing.ports.extend(p for p in ports if p not in existing.ports)
                    continue
                out.append(Endpoint(a.get("ip", ""), ready, pod, ref.get("namespace"),
                                    ports=list(ports)))
    return out
