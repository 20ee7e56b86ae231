#!/usr/bin/env bash
# make capture: bring the test cluster up, apply every scenario that runs here, wait until each
# failure has really happened (and the crash loops are in their back-off), snapshot the cluster and
# write each scenario's objects, events and logs into its folder (tests/cluster/capture.py split),
# then tear the cluster down. Review the diff (git diff scenarios/) before committing: the renames
# of pods in the tests are in ~/.cache/kdebug-cluster/capture/renames.json.
set -euo pipefail
# shellcheck source=env.sh
. "$(dirname "$0")/env.sh"
# shellcheck source=scenarios.sh
. "$CLUSTER_DIR/scenarios.sh"
OUT="${KDEBUG_CAPTURE_DIR:-$CACHE_ROOT/capture}"

timeout "${KDEBUG_BUILD_TIMEOUT:-4200}" "$CLUSTER_DIR/build.sh" || die "build failed or timed out (see above)"
trap '"$CLUSTER_DIR/cluster-down.sh"' EXIT
trap "exit 143" TERM INT
timeout 600 "$CLUSTER_DIR/cluster-up.sh"
export PATH="$BIN:$VENV_BIN:$PATH" KUBECONFIG="$KUBECONFIG_ADMIN"
rm -rf "$OUT" && mkdir -p "$OUT"
manifests="$OUT/manifests"
apply_scenarios "$manifests"
wait_failures "$manifests" || die "some scenarios never reached their failure: nothing captured"
"$VENV_BIN/python" "$CLUSTER_DIR/capture.py" moment "$manifests" 300
"$VENV_BIN/python" "$CLUSTER_DIR/capture.py" snapshot "$OUT/snapshot"
# KDEBUG_CAPTURE_ONLY="09-init-container-crash ...": re-capture only those scenarios
# shellcheck disable=SC2086
"$VENV_BIN/python" "$CLUSTER_DIR/capture.py" split "$OUT/snapshot" "$manifests" ${KDEBUG_CAPTURE_ONLY:-}
log "captured into scenarios/ and tests/realcluster/scenarios/; renames: $OUT/snapshot/renames.json"
