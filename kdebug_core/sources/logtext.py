"""Text that arrives where a container's log should be but is not its output.

* The kubelet's own error, written into an answer it had already started as 200 when the runtime
  no longer has that container (pkg/kubelet/kubelet_pods.go GetKubeletContainerLogs; seen on
  kube-apiserver v1.34.4, and in `cluster-info dump` logs of evicted pods):
  `unable to retrieve container logs for containerd://...`.
* `kubectl cluster-info dump`'s own failure to read a log, written in the log's place
  (staging/src/k8s.io/kubectl/pkg/cmd/clusterinfo/clusterinfo_dump.go): `Request log error: ...`
  or `Create log request error: ...`, e.g. for a container that never started.
"""

import re

KUBELET_LOG_ERROR = re.compile(r"unable to retrieve container logs for \S+")
_DUMP_LOG_ERROR = re.compile(r"^(?:Request log error|Create log request error): .*\n?\Z", re.M)


def container_output(text: str):
    """The container's own output in `text`, or None when it holds none."""
    if KUBELET_LOG_ERROR.fullmatch(text.strip()):
        return None
    text = _DUMP_LOG_ERROR.sub("", text)
    return text if text.strip() else None
