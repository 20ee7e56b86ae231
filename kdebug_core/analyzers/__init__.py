"""The analyzer registry: which plugin runs which analyzers, in one table.

Analyzers are grouped by the subject they judge: `pod/`, `service/`, `workload/`, `node/`,
`ingress/`. Each module owns one failure class and exposes `analyze(...) -> list[Finding]`; shared
helpers sit in `base.py` (every subject) and in each group's own base modules. Adding a class is
adding a module and a line here.
"""

from .pod import (cannot_run, config_refs, container_failed, crashloop, evicted, image_pull,
               init_containers, not_ready, oom_killed, probes, unschedulable, volume_mount)
from .pod import memory_pressure, memory_usage, node_oom, not_oom  # noqa: E402  (oomcheck)
from .pod import pvc_pending  # noqa: E402
from .workload import job as workload_job  # noqa: E402
from .node import not_ready as node_not_ready  # noqa: E402

# Pod analyzers per plugin, in the order an operator checks things. `why` runs everything that
# explains a pod, including the classes the other plugins own, and merges their findings.
POD_ANALYZERS = {
    "why": [
        node_not_ready.analyze,
        unschedulable.analyze,
        pvc_pending.analyze,
        workload_job.analyze_pod,   # a failed run of a failed Job: its exit, under the Job's JobFailed
        evicted.analyze,
        init_containers.analyze,
        image_pull.analyze,
        config_refs.analyze,
        volume_mount.analyze,
        cannot_run.analyze,
        oom_killed.analyze,
        node_oom.analyze,
        memory_usage.analyze_for_why,   # oomcheck's MemoryNearLimit: why merges the other plugins
        probes.analyze,
        crashloop.analyze,
        container_failed.analyze,   # a run that failed and is not restarted (restartPolicy Never)
        not_ready.analyze,
    ],
    "oomcheck": [
        oom_killed.analyze,
        node_oom.analyze,
        memory_pressure.analyze,
        memory_usage.analyze,
        not_oom.analyze,
    ],
    "probecheck": [
        probes.analyze,
    ],
    "endpoints-check": [],
}

# Analyzers that look at a Service (endpoints-check) or a whole scope (node-level OOM events) rather
# than one pod: `analyze(view, obj, plugin) -> list[Finding]`.
from .service import service_netpol, service_ports, service_readiness, service_selector  # noqa: E402
SERVICE_ANALYZERS = {"endpoints-check": [
    service_selector.analyze, service_readiness.analyze, service_ports.analyze, service_netpol.analyze]}
SCOPE_ANALYZERS = {"oomcheck": [node_oom.analyze_scope, memory_usage.analyze_scope], "why": []}

# The other subjects (see kdebug_core/subjects.py): a workload itself (`analyze(ctx:
# WorkloadContext)`), a node and an Ingress (`analyze(view, obj, plugin)`).
from .workload import creation, cronjob, job, rollout  # noqa: E402
from .ingress import backend as ingress_backend, ingress_class, tls as ingress_tls  # noqa: E402
WORKLOAD_ANALYZERS = {"why": [creation.analyze, rollout.analyze, job.analyze, cronjob.analyze]}
NODE_ANALYZERS = {"why": [node_not_ready.analyze_node]}
INGRESS_ANALYZERS = {"endpoints-check": [ingress_class.analyze, ingress_backend.analyze, ingress_tls.analyze]}

# When a container has the finding on the right, the one on the left only repeats its symptom:
# a container that is OOM-killed or cannot start also crash-loops, but the cause is the other one.
SUPERSEDED_BY = {
    "CrashLoopBackOff": {"OOMKilled", "ContainerCannotRun", "LivenessProbeFailed",
                         "LivenessKillsSlowStart", "StartupProbeFailed", "SystemOOM",
                         "ProbePortMismatch"},
    # The runbook's CreateContainerError for a missing ConfigMap is the config analyzer's case.
    "ContainerCannotRun": {"ConfigMapNotFound", "SecretNotFound", "ConfigMapKeyNotFound",
                           "SecretKeyNotFound", "VolumeMountFailed"},
    "ContainerExitedSIGKILL": {"OOMKilled", "LivenessProbeFailed", "LivenessKillsSlowStart",
                               "StartupProbeFailed", "Evicted", "SystemOOM"},
    # node_oom ties a kill to a container only when it died at that moment: the node's OOM killer
    # (the kubelet records SystemOOM only for the root cgroup), not the container's own limit.
    "OOMKilled": {"SystemOOM"},
    # a failed run's exit is ContainerFailed's; another class that explains it wins
    "ContainerFailed": {"OOMKilled", "SystemOOM", "ContainerCannotRun", "Evicted", "JobFailed",
                        "ContainerExitedSIGKILL", "CrashLoopBackOff", "LivenessProbeFailed"},
    # The scheduler only says "pod has unbound immediate PersistentVolumeClaims" (or that the claim
    # is missing, or that provisioning failed in PreBind); the claim's own state says why.
    "Unschedulable": {"PersistentVolumeClaimPending"},
    # A pod on a node that stopped reporting: its status is stale, the node is the cause.
    "PodNotReady": {"NodeNotReady"},
    "PodNotHealthy": {"NodeNotReady", "PersistentVolumeClaimPending"},
}


def pod_analyzers(plugin: str):
    return POD_ANALYZERS.get(plugin, [])

# Causes that explain the symptoms of every container of the pod, not only their own: an eviction
# kills all containers, though its message names only the one that used most.
POD_WIDE_CAUSES = {"Evicted", "NodeNotReady", "PersistentVolumeClaimPending"}
