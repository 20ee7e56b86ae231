"""PodNotHealthy's specific forms: a pod the kubelet rejected at admission (OutOfcpu, OutOfmemory).

Fixtures are the corpus cases, converted verbatim from the public reports their case.yaml names.
"""

import glob
import os

from kdebug_core.analyzers.pod import pod_health
from tests.helpers import ROOT, only, pod_context, view_of

CORPUS = os.path.join(ROOT, "tests", "corpus")


def case(prefix: str) -> str:
    return glob.glob(os.path.join(CORPUS, prefix + "-*"))[0]


def test_outofcpu_from_the_kubelets_event_names_the_node_and_the_numbers():
    # corpus 130: phase Failed, reason OutOfcpu; kubelet event "Node didn't have enough resource".
    ctx = pod_context(view_of(case("130")), "vm-stress-0050-dz557")
    f = only(pod_health.analyze(ctx, []), "PodNotHealthy")
    assert f.cause == "RejectedByKubelet" and f.severity == "error"
    assert "node i-08d5967318f466dd4.eu-west-1.compute.internal rejected the pod" in f.summary
    assert "requested: 1000, used: 94939, capacity: 95690" in f.summary
    assert f.suggestions[0] == "kubectl describe node i-08d5967318f466dd4.eu-west-1.compute.internal"


def test_outofmemory_in_the_status_alone_is_enough():
    # corpus 129: only the status (reason OutOfMemory, the pre-1.2x spelling) survives.
    view = view_of(case("129"))
    pod = next(p for p in view.list("Pod", None))
    ctx = pod_context(view, pod["metadata"]["name"])
    f = only(pod_health.analyze(ctx, []), "PodNotHealthy")
    assert f.cause == "RejectedByKubelet" and f.details["admissionReason"] == "OutOfMemory"


def test_a_failed_pod_for_another_reason_is_not_called_rejected():
    ctx = pod_context(view_of(case("130")), "vm-stress-0050-dz557")
    ctx.pod["status"]["reason"] = "DeadlineExceeded"
    ctx._events = [e for e in ctx.events() if e.get("reason") != "OutOfcpu"]
    found = pod_health.analyze(ctx, [])
    assert [f.cause for f in found] != ["RejectedByKubelet"]
