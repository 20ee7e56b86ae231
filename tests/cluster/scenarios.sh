# Applying the scenarios to the test cluster (sourced by test-cluster.sh and capture.sh, after env.sh,
# with PATH and KUBECONFIG set to the cluster's kubectl and admin kubeconfig before the functions run).
# shellcheck shell=bash
REPO="$(cd "$CLUSTER_DIR/../.." && pwd)"
VENV_BIN="${VENV_BIN:-$REPO/.venv/bin}"
WAIT_TIMEOUT="${KDEBUG_WAIT_TIMEOUT:-420}"

# apply_scenarios MANIFEST_DIR: realize.py's manifests, the first revisions rolled out before the rest
apply_scenarios() {
  local manifests="$1" f d
  "$VENV_BIN/python" "$CLUSTER_DIR/realize.py" "$manifests"
  log "not run here: $("$VENV_BIN/python" "$CLUSTER_DIR/realize.py" --skipped | cut -d: -f1 | tr '\n' ' ')"
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
}

# wait_failures MANIFEST_DIR: 0 when every scenario's failure really happened
wait_failures() {
  timeout $((WAIT_TIMEOUT + 60)) "$VENV_BIN/python" "$CLUSTER_DIR/wait_scenarios.py" "$1" "$WAIT_TIMEOUT"
}
