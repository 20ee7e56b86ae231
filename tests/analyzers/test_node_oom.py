"""SystemOOM: node-level OOM kills read from the Node's events and tied to the containers they hit."""

from kdebug_core import engine
from kdebug_core.analyzers.pod import node_oom
from kdebug_core.view import meta
from tests.helpers import fixture, only, pod_context, view_of


def view(name: str, **kw):
    return view_of(fixture("node_oom", name), **kw)


def diagnose(name: str, pod: str, plugin: str = "oomcheck"):
    return node_oom.analyze(pod_context(view(name), pod, plugin))


def scope(name: str, plugin: str = "oomcheck"):
    v = view(name)
    return node_oom.analyze_scope(v, v.list("Pod", None), plugin)


def event(reason: str, message: str, source: str = "kubelet") -> dict:
    return {"reason": reason, "message": message, "type": "Warning", "count": 1,
            "involvedObject": {"kind": "Node", "name": "n1", "uid": "n1"},
            "firstTimestamp": "2024-09-12T14:18:52Z", "lastTimestamp": "2024-09-12T14:18:52Z",
            "source": {"component": source, "host": "n1"}}


# ---- the kubelet's SystemOOM and node-problem-detector's OOMKilling for one kill -----------------

def test_python_worker_killed_by_the_node_is_diagnosed_on_its_container_with_both_events():
    f = only(diagnose("systemoom-kubelet-and-npd-python-worker-no-limit.json",
                      "report-worker-6c9f7d8b5-q2x7d"), "SystemOOM")
    assert f.severity == "error" and f.plugin == "oomcheck"
    assert f.container == "worker" and f.owner.name == "report-worker"
    assert 'node "ip-10-0-3-41.eu-west-1.compute.internal" ran out of memory' in f.summary
    assert 'process "python" (pid 48213) in container worker' in f.summary
    node = "node ip-10-0-3-41.eu-west-1.compute.internal: "
    assert f.evidence[0] == (node + "event SystemOOM (12m ago): System OOM encountered, victim process: "
                                    "python, pid: 48213")
    assert f.evidence[1].startswith(node + "event OOMKilling (12m ago): Out of memory: Killed process 48213 (python)")
    assert "the victim held 2.9Gi of memory (anon-rss) when it was killed" in f.evidence
    assert "container worker terminated: Error, exit code 137, at 14:18:52 UTC, 0s from the node's OOM event" \
        in f.evidence
    assert any("has no memory limit (request 256Mi, QoS class Burstable)" in e for e in f.evidence)
    assert any("MemoryPressure is False" in e for e in f.evidence)
    assert f.details["tiedBy"] == "time+name" and f.details["victimPid"] == 48213


def test_the_suggested_limit_comes_from_the_victims_memory_at_the_kill():
    f = only(diagnose("systemoom-kubelet-and-npd-python-worker-no-limit.json",
                      "report-worker-6c9f7d8b5-q2x7d"), "SystemOOM")
    # anon-rss 3012440kB (2.9Gi) x 1.25 = 3.6Gi, rounded up to 256Mi steps; request: what it used.
    assert f.suggestions[0] == ("kubectl set resources deployment/report-worker -n analytics -c worker "
                                "--limits=memory=3840Mi --requests=memory=3Gi")
    assert f.details["suggestedLimit"] == "3840Mi" and f.details["suggestedRequest"] == "3Gi"
    assert "kubectl describe node ip-10-0-3-41.eu-west-1.compute.internal" in f.suggestions


def test_a_healthy_neighbour_on_the_same_node_is_not_blamed():
    assert diagnose("systemoom-kubelet-and-npd-python-worker-no-limit.json", "dashboard-7d9c5b6f4-h8k2p") == []
    # the one kill is explained by the worker: no node-level finding besides
    assert scope("systemoom-kubelet-and-npd-python-worker-no-limit.json") == []


# ---- message variants -------------------------------------------------------------------------

def test_an_older_kubelets_systemoom_without_victim_is_tied_by_time_to_the_container_without_limit():
    f = only(diagnose("systemoom-no-victim-oomkilled-container-without-limit.json",
                      "etl-loader-5f7b9c6d8-wq4zn"), "SystemOOM")
    assert "killed a process in container loader" in f.summary
    assert "the event names no victim process: tied by the time of the kill" in f.evidence
    assert any(e.startswith("the runtime recorded OOMKilled, but the kill came from the node") for e in f.evidence)
    assert f.details["tiedBy"] == "time"
    # without usage, the limit is for the user to measure; the request is kept
    assert f.suggestions[1] == ("kubectl set resources deployment/etl-loader -n data -c loader "
                                "--limits=memory=LIMIT --requests=memory=1Gi")
    assert "suggestedLimit" not in f.details


def test_a_container_oomkilled_at_its_own_limit_half_a_minute_later_is_not_the_nodes_kill():
    assert diagnose("systemoom-no-victim-oomkilled-container-without-limit.json", "etl-api-79c8d6b5f4-2mkpt") == []


def test_node_problem_detectors_memory_cgroup_kill_is_the_containers_limit_not_a_node_oom():
    assert diagnose("npd-memory-cgroup-kill-is-the-containers-own-limit.json", "memory-hog-5c8d7f9b-xm4k2") == []
    assert scope("npd-memory-cgroup-kill-is-the-containers-own-limit.json") == []


def test_kernel_message_forms_are_parsed_with_their_scope():
    kubelet = node_oom._parse(event("SystemOOM", "System OOM encountered, victim process: python, pid: 12345"), "n1")
    assert (kubelet.name, kubelet.pid, kubelet.scope) == ("python", 12345, "node")
    bare = node_oom._parse(event("SystemOOM", "System OOM encountered"), "n1")
    assert (bare.name, bare.pid, bare.scope) == (None, None, "node")
    new = node_oom._parse(event("OOMKilling", "Out of memory: Killed process 48213 (python) total-vm:3871204kB, "
                                "anon-rss:3012440kB, file-rss:5120kB, shmem-rss:0kB, UID:1000 pgtables:6120kB "
                                "oom_score_adj:984", "kernel-monitor"), "n1")
    assert (new.name, new.pid, new.scope, new.anon_rss) == ("python", 48213, "node", 3012440 * 1024)
    memcg = node_oom._parse(event("OOMKilling", "Memory cgroup out of memory: Killed process 3504804 (kubectl) "
                                  "total-vm:753508kB, anon-rss:58776kB, file-rss:29400kB, shmem-rss:0kB, UID:0 "
                                  "pgtables:288kB oom_score_adj:999", "kernel-monitor"), "n1")
    assert memcg.scope == "cgroup"
    old = node_oom._parse(event("OOMKilling", "Out of memory: Kill process 2231 (dockerd) score 3 or sacrifice "
                                "child\nKilled process 2231 (dockerd) total-vm:2841056kB, anon-rss:96012kB, "
                                "file-rss:0kB, shmem-rss:0kB", "kernel-monitor"), "n1")
    assert (old.name, old.pid, old.scope) == ("dockerd", 2231, "node")
    alone = node_oom._parse(event("OOMKilling", "Killed process 9120 (python3) total-vm:1204476kB, "
                                  "anon-rss:802312kB, file-rss:0kB", "kernel-monitor"), "n1")
    assert (alone.name, alone.scope) == ("python3", "unknown")
    assert node_oom._parse(event("OOMKilling", "Task in /kubepods killed"), "n1") is None
    assert node_oom._parse(event("NodeHasInsufficientMemory", "Node n1 status is now: ..."), "n1") is None


def test_process_names_follow_the_kernels_15_characters_and_interpreters():
    names = {"kube-controller-manager"}
    assert node_oom.name_matches("kube-controller", names)      # comm keeps 15 characters
    assert node_oom.name_matches("python3", {"python"})           # python3 runs as python
    assert not node_oom.name_matches("java", {"python", "stress"})
    c = next(pod_context(view("npd-old-kernel-system-process-and-child-process-killed.json"),
                         "batch-runner-7f6d5c4b3-9xq2w").containers())
    # `/bin/sh -c "exec ./run-all.sh"`: the shell and the script it runs
    assert {"sh", "run-all.sh", "batch-runner", "batch"} <= node_oom.process_names(c)


# ---- kills tied to no pod: a finding on the Node --------------------------------------------------

def test_a_system_process_killed_on_an_old_kernel_is_reported_on_the_node_with_its_limitless_pods():
    v = view("npd-old-kernel-system-process-and-child-process-killed.json")
    for p in v.list("Pod", None):
        assert node_oom.analyze(pod_context(v, meta(p)["name"])) == []
    f = only(scope("npd-old-kernel-system-process-and-child-process-killed.json"), "SystemOOM")
    assert f.object.kind == "Node" and f.object.name == "ip-172-31-20-7.ec2.internal" and f.container is None
    assert 'killed process "dockerd" (pid 2231), process "python3" (pid 9120) (2 kills)' in f.summary
    assert any("Out of memory: Kill process 2231 (dockerd) score 3 or sacrifice child" in e for e in f.evidence)
    # the python3 kill matches the scraper's command, but the scraper did not restart: not claimed
    assert any(e.startswith('process "python3" (pid 9120) has the name of a process of '
                            'crawl/scraper-68b7d9f5c-vx2lm (scraper), which did not restart') for e in f.evidence)
    assert ("containers without a memory limit on this node: crawl/batch-runner-7f6d5c4b3-9xq2w (batch), "
            "crawl/cache-5d4c7b8f9-k2j8r (redis)") in f.evidence
    assert "kubectl oomcheck node/ip-172-31-20-7.ec2.internal" in f.suggestions


def test_the_same_kill_recorded_by_every_kind_node_is_explained_by_the_container_it_hit():
    name = "kind-nodes-share-the-hosts-kernel-same-systemoom-on-each.json"
    f = only(diagnose(name, "batch-import-7xk4d9bfwq-h2xnr"), "SystemOOM")
    assert f.details["node"] == "kind-worker2" and f.details["victimPid"] == 2846233
    assert diagnose(name, "docs-w9c7kbnt5s-hq6rd") == []
    # kind-worker's kubelet saw the same kernel line: not a second, unexplained node OOM
    assert scope(name) == []


# ---- cgroup v2: OOMKilled recorded for a node-level kill -----------------------------------------

def test_a_container_with_a_limit_recorded_as_oomkilled_by_a_node_oom_is_the_nodes_kill():
    f = only(diagnose("systemoom-victim-java-recorded-as-oomkilled-cgroup-v2.json",
                      "orders-api-84f6b9c7d5-m5x8t"), "SystemOOM")
    assert 'process "java" (pid 77120) in container api' in f.summary
    assert any("the node ran out before the container reached its limit" in e for e in f.evidence)
    # the limit is not the problem: a request equal to it stops the scheduler from overcommitting
    assert f.suggestions[0] == ("kubectl set resources deployment/orders-api -n shop -c api "
                                "--limits=memory=2Gi --requests=memory=2Gi")


def test_why_reports_the_node_oom_instead_of_the_oomkilled_record_it_explains():
    v = view("systemoom-victim-java-recorded-as-oomkilled-cgroup-v2.json")
    pod = v.list("Pod", None)[0]
    for plugin in ("why", "oomcheck"):
        reasons = [f.reason for f in engine.analyze_pod(v, pod, plugin)]
        assert reasons == ["SystemOOM"], (plugin, reasons)


def test_a_pod_on_a_node_without_oom_events_gives_nothing_in_single_pod_mode():
    v = view("npd-memory-cgroup-kill-is-the-containers-own-limit.json", scan=False)
    assert node_oom.analyze(pod_context(v, "memory-hog-5c8d7f9b-xm4k2", "why")) == []
    unscheduled = pod_context(v, "memory-hog-5c8d7f9b-xm4k2")
    unscheduled.pod = dict(unscheduled.pod, spec=dict(unscheduled.pod["spec"], nodeName=None))
    assert node_oom.analyze(unscheduled) == []


# ---- Nodes as subjects of their own (issue 9 §2) -------------------------------------------------

def test_a_named_node_is_read_from_its_own_events_with_no_pod_of_it_in_scope():
    """kubernetes/kubernetes#78174: `System OOM encountered` x3 on node1, no pods at all."""
    v = view("node-systemoom-no-pods-before-1-16.yaml", namespace="default")
    f = only(node_oom.analyze_scope(v, [], "oomcheck", nodes=["node1"]), "SystemOOM")
    assert f.object.kind == "Node" and f.object.name == "node1"
    assert f.summary.startswith('node "node1" ran out of memory')
    assert f.details["kills"] >= 1
    assert any(e.startswith("node node1: event SystemOOM") for e in f.evidence)
    assert "node node1: MemoryPressure is False (since" in " ".join(f.evidence)
    assert "kubectl describe node node1" in f.suggestions


def test_a_cluster_wide_scan_makes_every_node_a_subject():
    v = view("node-systemoom-no-pods-before-1-16.yaml", namespace=None)
    assert node_oom.subject_nodes(v, []) == ["node1"]
    assert [f.object.name for f in node_oom.analyze_scope(v, [], "oomcheck")] == ["node1"]


def test_a_namespaced_scan_without_pods_on_the_node_does_not_go_looking_for_nodes():
    v = view("node-systemoom-no-pods-before-1-16.yaml", namespace="default")
    assert node_oom.subject_nodes(v, []) == []
    assert node_oom.analyze_scope(v, [], "oomcheck") == []
