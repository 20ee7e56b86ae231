#!/usr/bin/env bash
# make test-cluster: build (cached), bring the cluster up, apply every scenario that can run here,
# wait until each failure has really happened, capture `kubectl get -o json` + `cluster-info dump`,
# run tests/realcluster/ against the live cluster (kubectl plugin dispatch) and the captures (-f),
# then stop the kubelet for the NodeNotReady check, and tear everything down.
# Every step has a timeout; the cluster is always torn down (logs kept on failure).
set -euo pipefail
# shellcheck source=env.sh
. "$(dirname "$0")/env.sh"
REPO="$(cd "$CLUSTER_DIR/../.." && pwd)"
VENV_BIN="${VENV_BIN:-$REPO/.venv/bin}"
WAIT_TIMEOUT="${KDEBUG_WAIT_TIMEOUT:-420}"

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
"$VENV_BIN/python" "$CLUSTER_DIR/realize.py" "$manifests"
log "not run here: $("$VENV_BIN/python" "$CLUSTER_DIR/realize.py" --skipped | cut -d: -f1 | tr '\n' ' ')"
# scenarios about a second revision: the first one is applied and rolled out before
for f in "$manifests"/before/*.yaml; do
  [ -e "$f" ] || continue
  timeout 60 kubectl apply -f "$f" >/dev/null || die "kubectl apply -f $f failed"
  for d in $(kubectl get -f "$f" -o jsonpath='{range .items[?(@.kind=="Deployment")]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}'); do
    timeout 150 kubectl rollout status -n "${d%%/*}" "deployment/${d#*/}" --timeout=120s >/dev/null \
      || die "first revision of $d (from $f) did not roll out"
  done
done
for f in "$manifests"/*.yaml; do
  timeout 60 kubectl apply -f "$f" >/dev/null || die "kubectl apply -f $f failed"
done
log "applied $(ls "$manifests" | wc -l) scenarios; waiting up to ${WAIT_TIMEOUT}s for their failures"
wait_rc=0
timeout $((WAIT_TIMEOUT + 60)) "$VENV_BIN/python" "$CLUSTER_DIR/wait_scenarios.py" "$manifests" "$WAIT_TIMEOUT" || wait_rc=$?

# the captures the -f tests read: what `kubectl get -o json` and `cluster-info dump` print
cap="$RUN/capture"
mkdir -p "$cap"
timeout 120 kubectl get deploy,rs,sts,ds,pods,events,svc,endpoints,endpointslices,cm,secrets,nodes,jobs,cronjobs,pvc,pv,storageclasses,ingresses,ingressclasses,networkpolicies,resourcequotas,limitranges \
  -A -o json >"$cap/cluster-state.json"
timeout 300 kubectl cluster-info dump --all-namespaces --output-directory "$cap/dump" >/dev/null
"$BIN/kubectl" version -o json >"$cap/version.json"

rc=0
KDEBUG_REAL_CLUSTER=1 KDEBUG_CAPTURE="$cap" KDEBUG_MANIFESTS="$manifests" KDEBUG_CLUSTER_BIN="$BIN" \
  KDEBUG_CLUSTER_RUN="$RUN" KDEBUG_WAIT_RC="$wait_rc" \
  timeout 1200 "$VENV_BIN/python" -m pytest -q -p no:cacheprovider "$REPO/tests/realcluster" "$@" || rc=$?
[ "$rc" = 0 ] && ok=1
exit "$rc"
