"""Every reason code kdebug can report, its severity and what it means — in one place, as data.

Analyzers name a code and fill in the specifics; renderers and the README read the explanation from
here. Codes are part of the output contract (SPEC.md): add new ones, never rename these.
"""

from dataclasses import dataclass
from typing import Dict


@dataclass(frozen=True)
class Reason:
    code: str
    severity: str      # "error" broken now, "warning" will break or degrades, "info" advice
    plugins: tuple     # plugins that report it; the first owns the class ("why" merges the rest)
    explanation: str   # one line, plain words: what is going on

    @property
    def anchor(self) -> str:
        """README section that documents this reason."""
        return "#" + self.code.lower()


_TABLE = [
    # kubectl why
    ("ImagePullBackOff", "error", "why",
     "the kubelet cannot pull the container image and is backing off between attempts"),
    ("InvalidImageName", "error", "why",
     "the image reference is not a valid image name, so no pull is even attempted"),
    ("CrashLoopBackOff", "error", "why oomcheck",
     "the container keeps exiting and the kubelet waits longer before each restart"),
    ("OOMKilled", "error", "why oomcheck",
     "the container used more memory than its limit and the kernel killed it"),
    ("ConfigMapNotFound", "error", "why",
     "the pod references a ConfigMap that does not exist, so the container cannot be created"),
    ("SecretNotFound", "error", "why",
     "the pod references a Secret that does not exist, so the container cannot be created"),
    ("ConfigMapKeyNotFound", "error", "why",
     "the pod references a key that the ConfigMap does not have"),
    ("SecretKeyNotFound", "error", "why",
     "the pod references a key that the Secret does not have"),
    ("VolumeMountFailed", "error", "why",
     "a volume cannot be attached or mounted, so the pod stays in ContainerCreating"),
    ("Unschedulable", "error", "why",
     "no node can take the pod, so it stays Pending"),
    ("Evicted", "error", "why",
     "the kubelet evicted the pod to relieve pressure on its node"),
    ("InitContainerFailed", "error", "why",
     "an init container fails, so the app containers never start"),
    ("ContainerCannotRun", "error", "why",
     "the runtime cannot create or start the container process"),
    ("ContainerExitedSIGKILL", "warning", "why oomcheck",
     "the container was killed with SIGKILL (exit 137) by something other than the OOM killer"),
    ("ContainerFailed", "error", "why",
     "a container exited with an error and its restartPolicy does not restart it, so the pod failed"),
    ("PodNotReady", "warning", "why",
     "the pod is running but not ready, so Services send it no traffic"),
    ("PodNotHealthy", "warning", "why oomcheck probecheck",
     "the pod is not Running and ready (nor Succeeded) and no more specific cause explains it"),
    # workload level: the controller, not its pods
    ("PodCreationFailed", "error", "why",
     "the controller cannot create its pods (quota, Pod Security, admission webhook, ...)"),
    ("RolloutStuck", "error", "why",
     "the rollout is not progressing: the new pods never become available"),
    ("JobFailed", "error", "why",
     "the Job has failed (backoff limit or deadline exceeded, or a pod failure policy)"),
    ("CronJobNotScheduling", "warning", "why",
     "the CronJob is not starting Jobs when its schedule says it should"),
    ("PersistentVolumeClaimPending", "error", "why",
     "a PersistentVolumeClaim the pod mounts is not bound, so the pod cannot be scheduled or started"),
    ("NodeNotReady", "error", "why",
     "the pod's node is not Ready, so its pods are stuck or not serving"),
    # kubectl endpoints-check
    ("SelectorMismatch", "error", "endpoints-check",
     "no pod carries every label of the Service selector, so the Service has no endpoints"),
    ("EndpointsNotReady", "error", "endpoints-check",
     "pods match the Service but are not ready, so they receive no traffic"),
    ("TargetPortMismatch", "error", "endpoints-check",
     "the Service's targetPort is not a port the backend containers expose"),
    ("PodsInOtherNamespace", "error", "endpoints-check",
     "pods matching the selector exist, but in another namespace than the Service"),
    ("NetworkPolicyIsolated", "warning", "endpoints-check",
     "NetworkPolicies select the backend pods and admit no traffic to them"),
    ("NoSelectorNoEndpoints", "error", "endpoints-check",
     "the Service has no selector and nobody manages its Endpoints"),
    ("IngressBackendMissing", "error", "endpoints-check",
     "the Ingress sends traffic to a Service or port that does not exist"),
    ("IngressClassMissing", "error", "endpoints-check",
     "the Ingress names an IngressClass that does not exist, so no controller serves it"),
    ("IngressTLSSecretMissing", "error", "endpoints-check",
     "the Ingress names a TLS Secret that does not exist"),
    # kubectl oomcheck
    ("SystemOOM", "error", "oomcheck",
     "the node ran out of memory and the kernel killed a process on it"),
    ("EvictedMemoryPressure", "error", "oomcheck",
     "the pod was evicted because its node was low on memory"),
    ("MemoryNearLimit", "warning", "oomcheck",
     "the container's memory use is at or above 90% of its limit"),
    ("NoMemoryLimit", "info", "oomcheck",
     "the container has no memory limit; the node's OOM killer picks such containers first"),
    # kubectl probecheck
    ("LivenessProbeFailed", "error", "probecheck",
     "the liveness probe fails, so the kubelet keeps restarting the container"),
    ("ReadinessProbeFailed", "error", "probecheck",
     "the readiness probe fails, so the pod gets no traffic from Services"),
    ("StartupProbeFailed", "error", "probecheck",
     "the startup probe fails, so the container is restarted before it finishes starting"),
    ("ProbePortMismatch", "error", "probecheck",
     "the probe checks a port the container does not expose"),
    ("LivenessKillsSlowStart", "error", "probecheck",
     "the liveness probe kills the container before the app has finished starting"),
    ("NoReadinessProbe", "warning", "probecheck",
     "the container is behind a Service but has no readiness probe"),
    ("LivenessEqualsReadiness", "info", "probecheck",
     "liveness and readiness probes are identical: a slow dependency will restart the app"),
]

REASONS: Dict[str, Reason] = {
    code: Reason(code, severity, tuple(plugins.split()), explanation)
    for code, severity, plugins, explanation in _TABLE
}

SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


def reason(code: str) -> Reason:
    return REASONS[code]
