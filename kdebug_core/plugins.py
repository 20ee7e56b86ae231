"""The four plugins as data: name, what they take, what they show by default.

Front ends (`plugins/kubectl-*`, the console scripts) only name one of these; the shared CLI does
the rest, so the plugins differ in their analyzers and their default view and nothing else.
"""

from dataclasses import dataclass
from typing import Tuple

from .targets import WORKLOAD_KINDS


@dataclass(frozen=True)
class PluginSpec:
    name: str                       # "why", "endpoints-check"
    summary: str                    # one line for --help and the man page
    description: str                # a paragraph for --help
    target_kinds: Tuple[str, ...]   # kinds accepted as TARGET
    scan_without_target: bool       # no TARGET means "the namespace" (else it is an error)
    subject: str = "pod"            # what is analysed: "pod" or "service"
    default_output: str = "text"
    examples: Tuple[str, ...] = ()

    @property
    def command(self) -> str:
        return f"kubectl {self.name}"

    @property
    def executable(self) -> str:
        return "kubectl-" + self.name.replace("-", "_")


POD_TARGETS = ("Pod",) + WORKLOAD_KINDS + ("Service",)

PLUGINS = {
    "why": PluginSpec(
        name="why",
        summary="say why a pod or workload is broken and what to type next",
        description=(
            "Triage a pod or workload the way an operator would (status, events, previous logs, "
            "limits, references, scheduling, probes) and print the diagnosis with the commands to "
            "fix it. A workload target is judged itself as well as through its pods: pods the "
            "controller cannot create (quota, Pod Security, admission webhook, missing "
            "ServiceAccount, LimitRange), a rollout stuck past its deadline, a failed Job, a CronJob "
            "that does not fire; pods also get their claims (a PersistentVolumeClaim that is not "
            "bound) and their node (NotReady) checked, and -A judges the nodes. The same cause on "
            "several pods of one owner is shown once. Works on the live cluster or, with -f, on "
            "saved `kubectl get -o json` or `kubectl cluster-info dump` output."),
        target_kinds=POD_TARGETS,
        scan_without_target=False,
        examples=(
            "kubectl why broken-image-845fbd988f-kbm72",
            "kubectl why deploy/crasher -n shop",
            "kubectl why deploy/report-api -n team-a",
            "kubectl why job/schema-migrate -n batch",
            "kubectl why -A",
            "kubectl why -f cluster-dump/ -A -o json",
            "kubectl oomcheck -A -o name | kubectl why -",
        ),
    ),
    "endpoints-check": PluginSpec(
        name="endpoints-check",
        summary="say why a Service has no or not-ready endpoints",
        description=(
            "Check a Service against the pods it should reach: selector against labels, "
            "targetPort against container ports, readiness of the backends, pods in other "
            "namespaces and NetworkPolicies that isolate them. ingress/NAME follows an Ingress to "
            "its Services: backends (Service and port) that do not exist, an IngressClass that does "
            "not exist, a TLS Secret that does not exist (metadata only), then each Service."),
        target_kinds=("Service", "Ingress"),
        scan_without_target=True,
        subject="service",
        examples=("kubectl endpoints-check backend-service", "kubectl endpoints-check ingress/storefront -n web",
                  "kubectl endpoints-check -A"),
    ),
    "oomcheck": PluginSpec(
        name="oomcheck",
        summary="find memory kills, compare limits with usage, suggest limits",
        description=(
            "Scan pods for containers killed for memory (container limit, node OOM, memory-pressure "
            "eviction), compare limits and requests with observed usage, and suggest a limit."),
        target_kinds=POD_TARGETS + ("Node",),
        scan_without_target=True,
        examples=("kubectl oomcheck", "kubectl oomcheck -A", "kubectl oomcheck deploy/memory-hog"),
    ),
    "probecheck": PluginSpec(
        name="probecheck",
        summary="explain failing and misconfigured liveness, readiness and startup probes",
        description=(
            "Read probe failures from events, show what each probe is configured to do and the "
            "time budget it gives the app, and find probes on wrong ports or that kill slow "
            "starters."),
        target_kinds=POD_TARGETS,
        scan_without_target=True,
        examples=("kubectl probecheck deploy/probe-test", "kubectl probecheck -A"),
    ),
}
