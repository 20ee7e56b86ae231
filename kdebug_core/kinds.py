"""The Kubernetes kinds kdebug reads: API paths, kubectl's names and short names.

One table, so target parsing, the live source and the offline loader agree on what a kind is called.
"""

from dataclasses import dataclass
from typing import Dict, Optional, Tuple


@dataclass(frozen=True)
class KindInfo:
    kind: str            # "Deployment"
    resource: str        # "deployments" (the plural in the URL)
    group_version: str   # "apps/v1", "v1" for the core group
    namespaced: bool
    aliases: Tuple[str, ...] = ()  # kubectl's singular and short names

    @property
    def api_prefix(self) -> str:
        return "/api/v1" if self.group_version == "v1" else "/apis/" + self.group_version

    def path(self, namespace: Optional[str] = None, name: Optional[str] = None) -> str:
        """URL path of the collection (or one object) in a namespace, or across all namespaces."""
        parts = [self.api_prefix]
        if self.namespaced and namespace:
            parts.append("namespaces/" + namespace)
        parts.append(self.resource)
        if name:
            parts.append(name)
        return "/".join(parts)


KINDS = (
    KindInfo("Pod", "pods", "v1", True, ("pod", "po")),
    KindInfo("Event", "events", "v1", True, ("event", "ev")),
    KindInfo("Service", "services", "v1", True, ("service", "svc")),
    KindInfo("Endpoints", "endpoints", "v1", True, ("ep",)),
    KindInfo("ConfigMap", "configmaps", "v1", True, ("configmap", "cm")),
    KindInfo("Secret", "secrets", "v1", True, ("secret",)),
    KindInfo("PersistentVolumeClaim", "persistentvolumeclaims", "v1", True,
             ("persistentvolumeclaim", "pvc")),
    KindInfo("PersistentVolume", "persistentvolumes", "v1", False, ("persistentvolume", "pv")),
    KindInfo("Node", "nodes", "v1", False, ("node", "no")),
    KindInfo("Namespace", "namespaces", "v1", False, ("namespace", "ns")),
    KindInfo("ServiceAccount", "serviceaccounts", "v1", True, ("serviceaccount", "sa")),
    KindInfo("Deployment", "deployments", "apps/v1", True, ("deployment", "deploy")),
    KindInfo("ReplicaSet", "replicasets", "apps/v1", True, ("replicaset", "rs")),
    KindInfo("StatefulSet", "statefulsets", "apps/v1", True, ("statefulset", "sts")),
    KindInfo("DaemonSet", "daemonsets", "apps/v1", True, ("daemonset", "ds")),
    KindInfo("Job", "jobs", "batch/v1", True, ("job",)),
    KindInfo("CronJob", "cronjobs", "batch/v1", True, ("cronjob", "cj")),
    KindInfo("ReplicationController", "replicationcontrollers", "v1", True,
             ("replicationcontroller", "rc")),
    KindInfo("EndpointSlice", "endpointslices", "discovery.k8s.io/v1", True, ("endpointslice",)),
    KindInfo("NetworkPolicy", "networkpolicies", "networking.k8s.io/v1", True,
             ("networkpolicy", "netpol")),
    KindInfo("Ingress", "ingresses", "networking.k8s.io/v1", True, ("ingress", "ing")),
    KindInfo("IngressClass", "ingressclasses", "networking.k8s.io/v1", False, ("ingressclass",)),
    KindInfo("StorageClass", "storageclasses", "storage.k8s.io/v1", False, ("storageclass", "sc")),
    KindInfo("ResourceQuota", "resourcequotas", "v1", True, ("resourcequota", "quota")),
    KindInfo("LimitRange", "limitranges", "v1", True, ("limitrange", "limits")),
    KindInfo("PodMetrics", "pods", "metrics.k8s.io/v1beta1", True, ()),
    KindInfo("NodeMetrics", "nodes", "metrics.k8s.io/v1beta1", False, ()),
)

BY_KIND: Dict[str, KindInfo] = {k.kind: k for k in KINDS}

# Every spelling kubectl accepts for a kind on the command line: Kind, plural, singular, short name
# (case-insensitive, optionally with the group: "deployments.apps").
_NAMES: Dict[str, KindInfo] = {}
for _k in KINDS:
    if _k.group_version.startswith("metrics."):
        continue
    group = _k.group_version.rpartition("/")[0]
    for spelling in (_k.kind.lower(), _k.resource, *_k.aliases):
        _NAMES[spelling] = _k
        if group:
            _NAMES[spelling + "." + group] = _k


def lookup(name: str) -> Optional[KindInfo]:
    """The kind a command-line spelling names (`deploy`, `Deployment`, `deployments.apps`), or None."""
    return _NAMES.get(name.lower())


def known_spellings():
    return sorted(n for n in _NAMES if "." not in n)
