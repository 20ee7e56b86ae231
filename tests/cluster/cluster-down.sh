#!/usr/bin/env bash
# Stop the test cluster that cluster-up.sh started: each process by the pid it recorded, the pods'
# containers through containerd, then the mounts, the bridge and the run directory.
# --keep-logs keeps ~/.cache/kdebug-cluster/run (logs, kubeconfig) for a look after a failure.
set -uo pipefail
# shellcheck source=env.sh
. "$(dirname "$0")/env.sh"
keep=""
[ "${1:-}" = "--keep-logs" ] && keep=1
[ -d "$RUN" ] || exit 0

stop() { # NAME: TERM the recorded pid, KILL it after 15 s
  local f="$PIDS/$1.pid" pid
  [ -e "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { log "$1 (pid $pid) ignored TERM; killing"; kill -KILL "$pid" 2>/dev/null; }
  fi
  rm -f "$f"
}

stop kubelet
if [ -S "$CONTAINERD_SOCK" ] && [ -e "$PIDS/containerd.pid" ]; then
  c() { timeout 20 ctr --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }
  for t in $(c tasks ls -q 2>/dev/null); do c tasks kill -s SIGKILL "$t" >/dev/null 2>&1; done
  sleep 1
  for t in $(c tasks ls -q 2>/dev/null); do c tasks delete -f "$t" >/dev/null 2>&1; done
  for t in $(c containers ls -q 2>/dev/null); do c containers delete "$t" >/dev/null 2>&1; done
fi
stop containerd
# containerd's shims outlive it; they are ours when their command line names our socket
for p in /proc/[0-9]*; do
  if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q -- "-address $CONTAINERD_SOCK"; then
    kill -KILL "${p#/proc/}" 2>/dev/null
  fi
done
for n in kube-scheduler kube-controller-manager kube-apiserver etcd registry; do stop "$n"; done

# kubelet volume and containerd snapshot mounts below the run directory, deepest first
grep -o " $RUN[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
# the pods' network namespaces containerd left behind
ip link del "$BRIDGE" 2>/dev/null
if [ -n "$keep" ]; then
  log "stopped; logs kept in $LOGS"
else
  rm -rf "$RUN"
  log "stopped and removed $RUN"
fi
