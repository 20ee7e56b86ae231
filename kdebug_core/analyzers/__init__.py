"""The analyzer registry: which plugin runs which analyzers, in one table.

Each module owns one failure class and exposes `analyze(ctx) -> list[Finding]`. Adding a class is
adding a module and a line here.
"""

from . import (cannot_run, config_refs, crashloop, evicted, image_pull, init_containers, oom_killed,
               probes, unschedulable, volume_mount)

# Pod analyzers per plugin, in the order an operator checks things. `why` runs everything that
# explains a pod, including the classes the other plugins own, and merges their findings.
POD_ANALYZERS = {
    "why": [
        unschedulable.analyze,
        evicted.analyze,
        init_containers.analyze,
        image_pull.analyze,
        config_refs.analyze,
        volume_mount.analyze,
        cannot_run.analyze,
        oom_killed.analyze,
        probes.analyze,
        crashloop.analyze,
    ],
    "oomcheck": [
        oom_killed.analyze,
    ],
    "probecheck": [
        probes.analyze,
    ],
    "endpoints-check": [],
}

# Analyzers that look at a Service (endpoints-check) or a whole scope (node-level OOM events) rather
# than one pod: `analyze(view, obj, plugin) -> list[Finding]`.
from . import service_netpol, service_ports, service_readiness, service_selector  # noqa: E402
SERVICE_ANALYZERS = {"endpoints-check": [
    service_selector.analyze, service_readiness.analyze, service_ports.analyze, service_netpol.analyze]}
SCOPE_ANALYZERS = {"oomcheck": [], "why": []}

# When a container has the finding on the right, the one on the left only repeats its symptom:
# a container that is OOM-killed or cannot start also crash-loops, but the cause is the other one.
SUPERSEDED_BY = {
    "CrashLoopBackOff": {"OOMKilled", "ContainerCannotRun", "LivenessProbeFailed",
                         "LivenessKillsSlowStart", "StartupProbeFailed"},
    # The runbook's CreateContainerError for a missing ConfigMap is the config analyzer's case.
    "ContainerCannotRun": {"ConfigMapNotFound", "SecretNotFound", "ConfigMapKeyNotFound",
                           "SecretKeyNotFound", "VolumeMountFailed"},
    "ContainerExitedSIGKILL": {"OOMKilled", "LivenessProbeFailed", "LivenessKillsSlowStart",
                               "StartupProbeFailed", "Evicted"},
}


def pod_analyzers(plugin: str):
    return POD_ANALYZERS.get(plugin, [])
