#!/usr/bin/env bash
# make test-cluster: build (cached), bring the cluster up, apply every scenario that can run here,
# wait until each failure has really happened, capture `kubectl get -o json` + `cluster-info dump`,
# run tests/realcluster/ against the live cluster (kubectl plugin dispatch) and the captures (-f),
# then stop the kubelet for the NodeNotReady check, and tear everything down.
# Every step has a timeout; the cluster is always torn down (logs kept on failure).
set -euo pipefail
# shellcheck source=env.sh
. "$(dirname "$0")/env.sh"
# shellcheck source=scenarios.sh
. "$CLUSTER_DIR/scenarios.sh"

timeout "${KDEBUG_BUILD_TIMEOUT:-4200}" "$CLUSTER_DIR/build.sh" || die "build failed or timed out (see above)"
ok=""
cleanup() {
  if [ -n "$ok" ]; then "$CLUSTER_DIR/cluster-down.sh"; else
    log "test-cluster failed; cluster logs: $LOGS (kept until the next cluster-up)"
    "$CLUSTER_DIR/cluster-down.sh" --keep-logs
  fi
}
trap cleanup EXIT
trap "exit 143" TERM INT
timeout 600 "$CLUSTER_DIR/cluster-up.sh"

# the plugins through the cluster's own kubectl (plugin dispatch finds kubectl-why in .venv/bin)
export PATH="$BIN:$VENV_BIN:$PATH" KUBECONFIG="$KUBECONFIG_ADMIN"
manifests="$RUN/manifests"
# snapshots every 10 s while the scenarios go from applied to failed (tests/realcluster/test_timeline.py)
timeline="$RUN/timeline"
mkdir -p "$timeline"
"$VENV_BIN/python" "$CLUSTER_DIR/capture.py" series "$timeline" 10 60 &
series_pid=$!
apply_scenarios "$manifests"
wait_rc=0
wait_failures "$manifests" || wait_rc=$?
touch "$timeline/stop"
wait "$series_pid" || log "timeline snapshots ended with an error (the test says what it has)"

# the captures the -f tests read: what `kubectl get -o json` and `cluster-info dump` print
cap="$RUN/capture"
"$VENV_BIN/python" "$CLUSTER_DIR/capture.py" snapshot "$cap"

rc=0
KDEBUG_REAL_CLUSTER=1 KDEBUG_CAPTURE="$cap" KDEBUG_TIMELINE="$timeline" KDEBUG_MANIFESTS="$manifests" KDEBUG_CLUSTER_BIN="$BIN" \
  KDEBUG_CLUSTER_RUN="$RUN" KDEBUG_WAIT_RC="$wait_rc" \
  timeout 1200 "$VENV_BIN/python" -m pytest -q -p no:cacheprovider "$REPO/tests/realcluster" "$@" || rc=$?
[ "$rc" = 0 ] && ok=1
exit "$rc"
