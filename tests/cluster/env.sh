# Shared settings of the test cluster scripts (sourced, not run).
# shellcheck shell=bash
CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$CLUSTER_DIR/versions.env"
CACHE_ROOT="${KDEBUG_CLUSTER_CACHE:-$HOME/.cache/kdebug-cluster}"
BIN="$CACHE_ROOT/$K8S_VERSION/bin"
RUN="$CACHE_ROOT/run"               # this run's state, certificates, logs; removed by cluster-down
LOGS="$RUN/logs"
PIDS="$RUN/pids"
KUBECONFIG_ADMIN="$RUN/admin.kubeconfig"

# Everything binds 127.0.0.1. Ports away from the usual defaults, so that a developer's own
# cluster on the same machine is not disturbed.
REGISTRY_PORT="${KDEBUG_REGISTRY_PORT:-15000}"
ETCD_PORT=23790
ETCD_PEER_PORT=23800
APISERVER_PORT=16443
CM_PORT=10257
SCHED_PORT=10259
KUBELET_PORT=10250
KUBELET_HEALTHZ_PORT=10248
# The node's name and address: the kubelet rejects a loopback --node-ip ("nodeIP can't be
# loopback address"), but takes an IP given as --hostname-override as the node's InternalIP
# without that check, so the API server reaches the kubelet (logs, exec) on 127.0.0.1.
NODE_NAME=127.0.0.1
POD_SUBNET=10.244.0.0/24
POD_GATEWAY=10.244.0.1
BRIDGE=kdebug0
SERVICE_CIDR=10.96.0.0/16
CONTAINERD_SOCK="$RUN/containerd/containerd.sock"

log() { printf '%s cluster: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
