#!/usr/bin/env bash
# Bring up a single-node Kubernetes cluster on 127.0.0.1 from the binaries build.sh made:
# registry stand-in, etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd,
# and one kubelet registered as node "127.0.0.1". Writes the admin kubeconfig to
# ~/.cache/kdebug-cluster/run/admin.kubeconfig. Every wait has a timeout; a component that does
# not come up is named with its log, and everything started is stopped again (cluster-down.sh).
set -euo pipefail
# shellcheck source=env.sh
. "$(dirname "$0")/env.sh"

[ "$(id -u)" = 0 ] || die "needs root (containerd, runc, the kubelet, CNI bridge)"
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl; do
  [ -x "$BIN/$b" ] || die "$BIN/$b missing: run tests/cluster/build.sh (make cluster-build) first"
done
need=""
for c in containerd:containerd runc:runc ctr:containerd openssl:openssl busybox:busybox-static \
         curl:curl ip:iproute2; do
  command -v "${c%%:*}" >/dev/null 2>&1 || need="$need ${c#*:}"
done
[ -e /usr/lib/cni/bridge ] || need="$need containernetworking-plugins"
[ -z "$need" ] || die "missing packages:$need (apt-get install$need)"

"$CLUSTER_DIR/cluster-down.sh" >/dev/null 2>&1 || true
mkdir -p "$RUN" "$LOGS" "$PIDS" "$RUN/pki"
trap 'rc=$?; if [ $rc != 0 ]; then log "cluster-up failed; stopping what was started"; "$CLUSTER_DIR/cluster-down.sh" --keep-logs || true; fi' EXIT
trap 'exit 143' TERM INT

start() { # NAME CMD... : run in its own session, log to $LOGS/NAME.log, pid to $PIDS/NAME.pid
  local name=$1; shift
  setsid "$@" >"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! >"$PIDS/$name.pid"
}
wait_for() { # NAME TIMEOUT_SECONDS CMD... : until CMD succeeds, else fail naming NAME and its log
  local name=$1 timeout=$2 t0=$SECONDS; shift 2
  until "$@" >/dev/null 2>&1; do
    if [ -e "$PIDS/$name.pid" ] && ! kill -0 "$(cat "$PIDS/$name.pid")" 2>/dev/null; then
      tail -n 30 "$LOGS/$name.log" >&2 || true
      die "$name exited while starting; its log: $LOGS/$name.log"
    fi
    if [ $((SECONDS - t0)) -ge "$timeout" ]; then
      tail -n 30 "$LOGS/$name.log" >&2 || true
      die "$name not ready after ${timeout}s; its log: $LOGS/$name.log"
    fi
    sleep 0.5
  done
  log "$name ready ($((SECONDS - t0))s)"
}

# --- certificates, tokens, kubeconfigs ---------------------------------------------------------
pki="$RUN/pki"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=kdebug-test-ca" \
  -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
  -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\n' >"$pki/apiserver.ext"
openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
  -days 2 -extfile "$pki/apiserver.ext" -out "$pki/apiserver.crt" 2>/dev/null
openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null

tok() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
admin_tok=$(tok) kubelet_tok=$(tok) cm_tok=$(tok) sched_tok=$(tok)
cat >"$pki/tokens.csv" <<EOF
$admin_tok,kubernetes-admin,uid-admin,"system:masters"
$kubelet_tok,system:node:$NODE_NAME,uid-node,"system:nodes"
$cm_tok,system:kube-controller-manager,uid-cm
$sched_tok,system:kube-scheduler,uid-sched
EOF
chmod 600 "$pki"/*.key "$pki/tokens.csv"
kubeconfig() { # FILE USER TOKEN
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kdebug-test
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $pki/ca.crt
users:
- name: $2
  user:
    token: $3
contexts:
- name: kdebug-test
  context: {cluster: kdebug-test, user: $2, namespace: default}
current-context: kdebug-test
EOF
  chmod 600 "$1"
}
kubeconfig "$KUBECONFIG_ADMIN" kubernetes-admin "$admin_tok"
kubeconfig "$RUN/kubelet.kubeconfig" "system:node:$NODE_NAME" "$kubelet_tok"
kubeconfig "$RUN/controller-manager.kubeconfig" system:kube-controller-manager "$cm_tok"
kubeconfig "$RUN/scheduler.kubeconfig" system:kube-scheduler "$sched_tok"

# --- registry stand-in ---------------------------------------------------------------------------
start registry python3 "$CLUSTER_DIR/registry.py" --port "$REGISTRY_PORT" --log "$LOGS/registry-requests.log"
wait_for registry 30 curl -fsS "http://127.0.0.1:$REGISTRY_PORT/v2/"

# --- etcd ----------------------------------------------------------------------------------------
start etcd "$BIN/etcd" --name kdebug --data-dir "$RUN/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "kdebug=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls "" \
  --unsafe-no-fsync --quota-backend-bytes 2147483648 --log-level warn
wait_for etcd 60 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

# --- kube-apiserver ------------------------------------------------------------------------------
start kube-apiserver "$BIN/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
  --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
  --client-ca-file "$pki/ca.crt" --token-auth-file "$pki/tokens.csv" \
  --authorization-mode Node,RBAC \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
  --service-cluster-ip-range "$SERVICE_CIDR" \
  --endpoint-reconciler-type none \
  --kubelet-preferred-address-types InternalIP,Hostname \
  --allow-privileged=true --profiling=false --v=1
kc() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" --request-timeout=10s "$@"; }
wait_for kube-apiserver 120 kc get --raw /readyz

# --- controller manager and scheduler ---------------------------------------------------------------
start kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig "$RUN/controller-manager.kubeconfig" \
  --authentication-kubeconfig "$RUN/controller-manager.kubeconfig" \
  --authorization-kubeconfig "$RUN/controller-manager.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$CM_PORT" --leader-elect=false \
  --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
  --use-service-account-credentials=true \
  --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
  --node-monitor-period 2s --node-monitor-grace-period 20s \
  --profiling=false --v=1
wait_for kube-controller-manager 60 curl -kfsS "https://127.0.0.1:$CM_PORT/healthz"
start kube-scheduler "$BIN/kube-scheduler" \
  --kubeconfig "$RUN/scheduler.kubeconfig" \
  --authentication-kubeconfig "$RUN/scheduler.kubeconfig" \
  --authorization-kubeconfig "$RUN/scheduler.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --leader-elect=false --profiling=false --v=1
wait_for kube-scheduler 60 curl -kfsS "https://127.0.0.1:$SCHED_PORT/healthz"

# --- CNI: a bridge with an address for the host (probes), no masquerade, no default route ---------
mkdir -p "$RUN/cni/net.d" "$RUN/cni/ipam"
ip link add "$BRIDGE" type bridge 2>/dev/null || true
ip addr replace "$POD_GATEWAY/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
cat >"$RUN/cni/net.d/10-kdebug.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "kdebug",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": false, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$RUN/cni/ipam",
              "ranges": [[{"subnet": "$POD_SUBNET", "rangeStart": "10.244.0.10"}]], "routes": []}},
    {"type": "loopback"}
  ]
}
EOF

# --- containerd: registry pulls go to the stand-in -------------------------------------------------
certs="$RUN/containerd/certs.d"
for host in docker.io registry-1.docker.io registry.k8s.io k8s.gcr.io gcr.io quay.io ghcr.io public.ecr.aws mcr.microsoft.com; do
  mkdir -p "$certs/$host"
  cat >"$certs/$host/hosts.toml" <<EOF
server = "http://127.0.0.1:$REGISTRY_PORT"
[host."http://127.0.0.1:$REGISTRY_PORT"]
  capabilities = ["pull", "resolve"]
EOF
done
mkdir -p "$certs/_default" && cp "$certs/docker.io/hosts.toml" "$certs/_default/hosts.toml"
cat >"$RUN/containerd/config.toml" <<EOF
version = 2
root = "$RUN/containerd/root"
state = "$RUN/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$RUN/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  enable_selinux = false
  # The kubelet asks for oom_score_adj -998 (sandboxes) and -997 (Guaranteed pods); lowering it
  # needs CAP_SYS_RESOURCE, which these machines' root does not have ("nsexec: failed to update
  # /proc/self/oom_score_adj: Permission denied"): clamp to containerd's own score instead.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$RUN/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$certs"
EOF
start containerd containerd --config "$RUN/containerd/config.toml"
wait_for containerd 60 ctr --address "$CONTAINERD_SOCK" version

# --- kubelet ------------------------------------------------------------------------------------
printf 'nameserver 127.0.0.1\n' >"$RUN/resolv.conf"   # hostNetwork/Default-DNS pods resolve nothing outside
cat >"$RUN/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
# only the API server on this machine reaches it (bound to 127.0.0.1)
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
# The node offers about 11Gi to pods, not the whole machine's 24Gi: scenario 07's 16Gi request is
# then really more than the node can offer, and the test pods cannot crowd out the rest of the machine.
systemReserved: {memory: 12Gi}
resolvConf: $RUN/resolv.conf
# a cluster DNS address as real clusters have (no kubelet MissingClusterDNS warnings); nothing
# answers there and pods have no route to it, so lookups fail at once and stay on the machine
clusterDNS: [10.96.0.10]
clusterDomain: cluster.local
podLogsDir: $RUN/pod-logs
staticPodPath: ""
nodeStatusUpdateFrequency: 4s
nodeStatusReportFrequency: 10s
syncFrequency: 10s
fileCheckFrequency: 10s
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "1%"
  nodefs.inodesFree: "1%"
  imagefs.available: "1%"
evictionPressureTransitionPeriod: 10s
localStorageCapacityIsolation: true
rotateCertificates: false
serverTLSBootstrap: false
protectKernelDefaults: false
EOF
start kubelet "$BIN/kubelet" --config "$RUN/kubelet.yaml" --kubeconfig "$RUN/kubelet.kubeconfig" \
  --hostname-override "$NODE_NAME" --root-dir "$RUN/kubelet" --cert-dir "$RUN/kubelet/pki" --v=1
wait_for kubelet 90 curl -fsS "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz"
wait_for kubelet 90 kc wait --for=condition=Ready "node/$NODE_NAME" --timeout=5s
wait_for kube-controller-manager 60 kc get serviceaccount default -n default
# a default StorageClass as kind has one ("standard"); no provisioner runs for it
kc apply -f - >/dev/null <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
EOF

trap - EXIT
log "cluster up: KUBECONFIG=$KUBECONFIG_ADMIN ($("$BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" version -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])'))"
