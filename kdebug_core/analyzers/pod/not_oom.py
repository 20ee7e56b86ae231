"""Exit 137 that is not an OOM kill, as oomcheck reports it.

`kubectl get pods` shows exit 137 for every SIGKILL; only `reason: OOMKilled` says the kernel killed
the container at its memory limit. Anything else — a liveness or startup probe kill, an external
`kill -9`, the grace period running out on deletion — must not be called OOM, and oomcheck should
say so rather than stay silent about the 137 a person came to ask about.

One source of truth: crashloop.py judges these terminations (ContainerExitedSIGKILL for a container
that is not looping, CrashLoopBackOff with exit 137 for one that is) and probes.py judges probe
kills. This module only picks, for oomcheck, the findings of theirs that explain a non-OOM exit 137,
and adds the container's memory limit and request for the table. Evicted pods are left to the
eviction analyzers, and node-level OOM kills to node_oom (SystemOOM supersedes these findings).
"""

from typing import List

from ...findings import Finding
from ...timeutil import age
from . import crashloop, probes
from ..base import Container, PodContext
from .memory import memory_resources

PROBE_KILLS = {"LivenessProbeFailed", "LivenessKillsSlowStart", "StartupProbeFailed"}


def sigkill_not_oom(c: Container) -> bool:
    term = c.terminated or c.last_terminated or {}
    return str(term.get("exitCode")) == "137" and term.get("reason") != "OOMKilled"


def analyze(ctx: PodContext) -> List[Finding]:
    if ctx.status.get("reason") == "Evicted":
        return []
    killed = {c.name: c for c in ctx.containers(init=False) if sigkill_not_oom(c)}
    if not killed:
        return []  # crashloop reads previous logs: only ask it about the pods that matter here
    out = []
    for f in crashloop.analyze(ctx):
        if f.container in killed and (f.reason == "ContainerExitedSIGKILL" or (
                f.reason == "CrashLoopBackOff" and f.details.get("exitCode") == 137)):
            out.append(_with_resources(ctx, f, killed[f.container]))
    left = set(killed) - {f.container for f in out}
    if left:
        for f in probes.analyze(ctx):
            if f.container in left and f.reason in PROBE_KILLS:
                out.append(_with_resources(ctx, f, killed[f.container]))
                left.discard(f.container)
    return out


def _with_resources(ctx: PodContext, f: Finding, c: Container) -> Finding:
    term = c.terminated or c.last_terminated or {}
    limit, request = memory_resources(c)
    f.details.setdefault("restartCount", c.restarts)
    f.details.setdefault("finishedAt", term.get("finishedAt"))
    f.details.update(exitCode=137, lastReason=term.get("reason"), limit=limit, request=request,
                     lastKillAgo=age(term.get("finishedAt"), ctx.view.now), notOOM=True)
    return f
