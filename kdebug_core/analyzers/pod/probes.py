"""Liveness, readiness and startup probes: why they fail, what that does to the pod, what to change.

Detection, most direct evidence first:
* `Unhealthy` events (`Liveness probe failed: HTTP probe failed with statuscode: 404`, `... connect:
  connection refused`, `... context deadline exceeded`, exec output) give the probe, the cause and,
  through count and timestamps, how long it has been going on; `Killing` events (`Container app
  failed liveness probe, will be restarted`) the restarts it caused.
* Events expire after an hour. Status does not: a container that keeps being killed (last state exit
  137/143 with reason Error, not OOMKilled) and is not ready, and that has a liveness probe, is still
  reported, with what the status shows.
* The spec alone shows probes on ports the container does not have (a missing port *name* means the
  kubelet cannot run the probe at all), containers behind a Service with no readiness probe, and
  liveness probes identical to readiness probes.
* With `--probe-now` (live only) each HTTP probe is also requested once through the API server's
  pod proxy (kdebug_core/probe_now.py) and the answer is put next to what the events say.

A probe that fails because the app is still starting (refused or timed out, killed before it was
ever ready, each run about as long as the liveness budget) is reported as LivenessKillsSlowStart,
and the fix is a startupProbe, not a longer initialDelaySeconds (the runbook's advice for model
loading: periodSeconds 10, failureThreshold 30).

The code is split by concern: probe_evidence.py reads what the cluster says, probe_verdicts.py judges
each probe, probe_lint.py checks the configuration; this module puts the findings together.
"""

from typing import List

from ...findings import Finding
from ...probe_now import session as probe_now_session
from ...sanitize import clean
from . import probe_lint, probe_verdicts
from ..base import PodContext
from .probe_evidence import ProbeEvidence


def analyze(ctx: PodContext) -> List[Finding]:
    if ctx.status.get("phase") in ("Succeeded", "Failed"):
        return []
    session = probe_now_session(ctx.view)
    findings: List[Finding] = []
    for c in ctx.containers():
        if c.init and not c.sidecar:
            continue  # only app containers and native sidecars run probes
        findings.extend(container_findings(ProbeEvidence(ctx, c, session)))
    return findings


def container_findings(ev: ProbeEvidence) -> List[Finding]:
    """Every finding about one container's probes, each failure once."""
    out: List[Finding] = []
    mismatches = probe_lint.port_mismatches(ev)
    slow = probe_verdicts.slow_start(ev)
    for kind in ("startup", "liveness", "readiness"):
        if kind == "liveness" and slow is not None:
            out.append(slow)
            continue
        if kind == "readiness" and slow is not None and ev.fails.get(kind) and \
                set(ev.fails[kind].causes()) <= {"ConnectionRefused", "Timeout"}:
            continue  # not answering yet: the slow start explains it (its evidence shows it)
        f = probe_verdicts.failed(ev, kind, mismatches.get(kind))
        if f is not None:
            out.append(f)
    if slow is None:
        slow_warning = probe_verdicts.slow_start_near_budget(ev)
        if slow_warning is not None:
            out.append(slow_warning)
    out.extend(mismatches.values())
    for lint in (probe_lint.no_readiness_probe, probe_lint.liveness_equals_readiness):
        found = lint(ev)
        if found is not None:
            out.append(found)
    _note_probe_now(ev, out)
    return out


def _note_probe_now(ev: ProbeEvidence, found: List[Finding]):
    """--probe-now answers go with the finding about their probe, or into the report's notes."""
    covered = {f.details.get("probe") for f in found if "probeNow" in f.details}
    for kind, result in ev.now.items():
        if result is None or kind in covered:
            continue
        attached = next((f for f in found if f.details.get("probe") == kind
                         and f.reason != "LivenessEqualsReadiness"), None)
        if attached is not None:
            if not any(e.startswith("probe now:") for e in attached.evidence):
                attached.evidence.extend(ev.now_evidence(kind))
            attached.details["probeNow"] = result.to_dict()
            continue
        ev.ctx.view.note(f"pod/{clean(ev.ctx.name)} container {ev.c.name} {kind} "
                         f"{result.evidence('')}")
