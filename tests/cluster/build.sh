#!/usr/bin/env bash
# Build the test cluster's binaries at the pinned Kubernetes release into
# ~/.cache/kdebug-cluster/<version>/bin (module cache and build cache beside them, never committed).
# A warm run (binaries present and built from this go.mod/go.sum) returns in well under a second.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"
CACHE="${KDEBUG_CLUSTER_CACHE:-$HOME/.cache/kdebug-cluster}/$K8S_VERSION"
BIN="$CACHE/bin"
export GOMODCACHE="$CACHE/gomod" GOCACHE="$CACHE/gocache" GOFLAGS="-buildvcs=false -mod=readonly ${GOFLAGS_EXTRA:--p=2}"
export CGO_ENABLED=0 GOTOOLCHAIN=local
mkdir -p "$BIN"
stamp="$BIN/.built-$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" | sha256sum | cut -c1-16)"
if [ -e "$stamp" ]; then exit 0; fi

cd "$here"
# the version variables k8s' own build sets (hack/lib/version.sh), so /version and `kubectl version` are right
minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
ldv=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldv="$ldv -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldv="$ldv -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z -X $pkg.gitCommit=0000000000000000000000000000000000000000"
done
build() { # NAME PACKAGE [extra ldflags]
  local t0=$SECONDS
  echo "build: $1 ($2)" >&2
  nice -n 10 go build -trimpath -ldflags "-s -w $3" -o "$BIN/$1.tmp" "$2"
  mv "$BIN/$1.tmp" "$BIN/$1"
  echo "build: $1 done in $((SECONDS - t0))s" >&2
}
etcdv="-X go.etcd.io/etcd/api/v3/version.GitSHA=${ETCD_VERSION}"
components="${KDEBUG_CLUSTER_COMPONENTS:-etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl}"
for c in $components; do
  case "$c" in
    etcd) build etcd go.etcd.io/etcd/server/v3 "$etcdv" ;;
    kube-*|kubelet|kubectl) build "$c" "k8s.io/kubernetes/cmd/$c" "$ldv" ;;
  esac
done
rm -f "$BIN"/.built-*
touch "$stamp"
