#!/usr/bin/env bash
# The embedded cluster's real node (ENGINE_NODES=real): a kubelet that runs real
# containers, so that `pulumi up` proves pods start, policies are enforced and
# data survives, none of which kwok's simulated nodes can show.
#
#   scripts/engine/node.sh start|stop|status
#
# Everything the node runs lives in a network namespace of its own
# ($NODE_NETNS), joined to the host by one veth pair:
#
#   host  pnode0 10.203.0.1 ── veth ── eth0 10.203.0.2  node netns
#                                         cni0 10.204.0.1 ── pods 10.204.0.0/24
#
#   containerd + runc    Debian's packages, cgroupfs driver (the VM has cgroup v1)
#   kubelet, kube-proxy  built from k8s.io/kubernetes like the control plane
#   bridge CNI           Debian's containernetworking-plugins, host-local IPAM
#   NetworkPolicy        kube-network-policies (SIG Network), nfqueue-based
#   cluster DNS          CoreDNS as a pod in kube-system behind kube-dns 10.0.0.10
#
# Pod traffic, kube-proxy's rules and the policy agent's nftables table all stay
# inside the namespace: `stop` deletes it and the host is as it was. The control
# plane stays on the host (kwokctl's binary runtime); the node reaches the API
# server at the veth's host address, verifying it by the name `localhost` that
# its certificate carries. Nothing leaves this machine: the namespace's only
# route out is the veth.
#
# The kubelet uses the cluster admin's client certificate and serves its own API
# to anyone who can reach 10.203.0.2 (only this host): a single-user dev node.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NODE_NAME=${ENGINE_NODE_NAME:-platform-node}
NODE_NETNS=${ENGINE_NODE_NETNS:-platform-node}
NODE_ZONE=${ENGINE_NODE_ZONE:-zone-a}
NODE_DIR=$CLUSTER_DIR/node
NODE_RUN=/run/platform-node
HOST_IF=pnode0
HOST_IP=$REAL_NODE_API_ADDRESS
NODE_IP=10.203.0.2
POD_CIDR=10.204.0.0/24
# kube-apiserver's default --service-cluster-ip-range is 10.0.0.0/24; kwokctl sets none.
SERVICE_CIDR=10.0.0.0/24
CLUSTER_DNS_IP=10.0.0.10
CONTAINERD_SOCK=$NODE_RUN/containerd/containerd.sock
# Where kube-controller-manager's hostpath provisioner creates volumes.
HOSTPATH_PV_DIR=/tmp/hostpath_pv
KWOK_CLUSTER_DIR=$CLUSTER_DIR/kwok/clusters/$CLUSTER_NAME
PKI=$KWOK_CLUSTER_DIR/pki

KUBELET=$KUBERNETES_TOOL_DIR/bin/kubelet
KUBE_PROXY=$KUBERNETES_TOOL_DIR/bin/kube-proxy
KNP=$KUBE_NETWORK_POLICIES_TOOL_DIR/bin/kube-network-policies

in_node() { nsenter --net="/run/netns/$NODE_NETNS" "$@"; }
kube() { KUBECONFIG=$CLUSTER_KUBECONFIG kubectl "$@"; }

apiserver_port() { sed -n 's#.*server: https://127.0.0.1:\([0-9]*\).*#\1#p' "$CLUSTER_KUBECONFIG" | head -n1; }

require_node_tools() {
  local missing=() t
  for t in containerd containerd-shim-runc-v2 runc ctr nsenter ip iptables nft conntrack; do
    command -v "$t" >/dev/null || missing+=("$t")
  done
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] || missing+=(containernetworking-plugins)
  ((${#missing[@]} == 0)) || engine_die "real node needs: ${missing[*]} (scripts/engine/toolchain.sh node installs them)"
  for t in "$KUBELET" "$KUBE_PROXY" "$KNP"; do
    [[ -x $t ]] || engine_die "missing $t: run scripts/engine/toolchain.sh node"
  done
}

# ------------------------------------------------------------------ network

setup_netns() {
  if [[ ! -e /run/netns/$NODE_NETNS ]]; then
    ip netns add "$NODE_NETNS"
  fi
  if ! ip link show "$HOST_IF" >/dev/null 2>&1; then
    ip link add "$HOST_IF" type veth peer name eth0 netns "$NODE_NETNS"
    ip addr add "$HOST_IP/24" dev "$HOST_IF"
    ip link set "$HOST_IF" up
    in_node ip addr add "$NODE_IP/24" dev eth0
    in_node ip link set eth0 up
    in_node ip link set lo up
    in_node ip route add default via "$HOST_IP"
  fi
  # The API server runs on the host and calls admission webhooks (cert-manager's, the operator's)
  # at their Service's cluster IP, like any control plane: pods and Services are reached through the
  # node, where kube-proxy translates Service addresses. Without these the host sends them to its
  # default route (and a proxy there answered for them).
  ip route replace "$POD_CIDR" via "$NODE_IP" dev "$HOST_IF"
  ip route replace "$SERVICE_CIDR" via "$NODE_IP" dev "$HOST_IF"
  # Sysctls under /proc/sys/net belong to the namespace of the process that writes them.
  in_node sysctl -qw net.ipv4.ip_forward=1
  in_node sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || true
  in_node sysctl -qw net.ipv4.conf.all.route_localnet=1
}

teardown_netns() {
  ip link del "$HOST_IF" 2>/dev/null || true
  [[ ! -e /run/netns/$NODE_NETNS ]] || ip netns del "$NODE_NETNS"
}

# ------------------------------------------------------------------ configs

write_configs() {
  local port
  port=$(apiserver_port)
  [[ -n $port ]] || engine_die "cannot read the API server port from $CLUSTER_KUBECONFIG"
  mkdir -p "$NODE_DIR"/{cni/net.d,cni/ipam,kubelet,logs,pids,containerd} "$NODE_RUN"

  # The API server's certificate names localhost but not the veth address.
  cat >"$NODE_DIR/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: platform
  cluster:
    server: https://$HOST_IP:$port
    tls-server-name: localhost
    certificate-authority: $PKI/ca.crt
users:
- name: node
  user:
    client-certificate: $PKI/admin.crt
    client-key: $PKI/admin.key
contexts:
- name: node
  context: {cluster: platform, user: node}
current-context: node
EOF

  cat >"$NODE_DIR/containerd.toml" <<EOF
version = 2
root = "$NODE_DIR/containerd/root"
state = "$NODE_RUN/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # This VM's root lacks CAP_SYS_RESOURCE, so no process may lower its OOM score
  # (the kubelet asks -998 for sandboxes): keep every score at or above containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$(command -v runc)"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$NODE_DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ""
EOF

  cat >"$NODE_DIR/cni/net.d/10-platform.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "platform",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$POD_CIDR" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$NODE_DIR/cni/ipam"
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF

  # Offline: the node resolves nothing outside the cluster.
  printf 'nameserver %s\n' "$CLUSTER_DNS_IP" >"$NODE_DIR/resolv.conf"

  cat >"$NODE_DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
failSwapOn: false
address: $NODE_IP
readOnlyPort: 0
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
clusterDNS: [$CLUSTER_DNS_IP]
clusterDomain: cluster.local
resolvConf: $NODE_DIR/resolv.conf
podCIDR: $POD_CIDR
maxPods: 110
serializeImagePulls: false
# The images are imported, never pulled: garbage collection must not remove them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 200Mi
  nodefs.available: 2%
  imagefs.available: 2%
  nodefs.inodesFree: 2%
evictionPressureTransitionPeriod: 30s
rotateCertificates: false
serverTLSBootstrap: false
EOF

  cat >"$NODE_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $NODE_DIR/kubeconfig
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
clusterCIDR: $POD_CIDR
mode: iptables
conntrack:
  maxPerCore: 0
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
EOF
}

# ---------------------------------------------------------------- processes

pidfile() { printf '%s/pids/%s.pid' "$NODE_DIR" "$1"; }

running() { # running NAME
  local f
  f=$(pidfile "$1")
  [[ -f $f ]] && kill -0 "$(cat "$f")" 2>/dev/null
}

launch() { # launch NAME CMD...: start CMD in the node namespace, logging to logs/NAME.log
  local name=$1
  shift
  if running "$name"; then return 0; fi
  # nsenter execs the command, so $! is the process itself (a function here would add a subshell).
  nsenter --net="/run/netns/$NODE_NETNS" "$@" >>"$NODE_DIR/logs/$name.log" 2>&1 &
  echo $! >"$(pidfile "$name")"
}

wait_for() { # wait_for SECONDS WHAT CMD...
  local secs=$1 what=$2 i
  shift 2
  for ((i = 0; i < secs; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  engine_die "$what did not come up in ${secs}s (logs: $NODE_DIR/logs)"
}

start_containerd() {
  # Pod namespaces that exist before containerd starts are not the node's (release_pod_netns).
  running containerd || ip netns list 2>/dev/null | awk '{print $1}' >"$NODE_DIR/netns-before"
  launch containerd containerd --config "$NODE_DIR/containerd.toml"
  wait_for 30 containerd ctr --address "$CONTAINERD_SOCK" version
}

start_kubelet() {
  launch kubelet "$KUBELET" --config "$NODE_DIR/kubelet.yaml" --kubeconfig "$NODE_DIR/kubeconfig" \
    --root-dir "$NODE_DIR/kubelet" --cert-dir "$NODE_DIR/kubelet/pki" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
    --node-labels "type=real,topology.kubernetes.io/region=local,topology.kubernetes.io/zone=$NODE_ZONE,node.kubernetes.io/instance-type=local.real" \
    --v=1
}

start_kube_proxy() { launch kube-proxy "$KUBE_PROXY" --config "$NODE_DIR/kube-proxy.yaml" --v=1; }

# fail-open is off: a packet the agent cannot judge is dropped, as in production.
start_network_policies() {
  launch kube-network-policies env KUBECONFIG="$NODE_DIR/kubeconfig" "$KNP" \
    --hostname-override "$NODE_NAME" --disable-nri --metrics-bind-address 127.0.0.1:9080 --v=1
}

# kube-controller-manager's hostpath provisioner makes each volume's directory
# root-owned 0750, which the platform's non-root data stores cannot write (the
# kubelet applies fsGroup to no hostPath volume). Opening new directories to
# 0777, as Rancher's local-path-provisioner (kind's default) does, gives them
# the same start they get from a real CSI driver's fsGroup handling.
start_volume_permissions() {
  if running volume-permissions; then return 0; fi
  mkdir -p "$HOSTPATH_PV_DIR"
  (
    while true; do
      find "$HOSTPATH_PV_DIR" -mindepth 1 -maxdepth 1 -type d -perm 0750 -exec chmod 0777 {} + 2>/dev/null || true
      sleep 0.5
    done
  ) >/dev/null 2>&1 &
  echo $! >"$(pidfile volume-permissions)"
}

stop_process() {
  local f pid
  f=$(pidfile "$1")
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$f"
}

# ------------------------------------------------------------------ cluster DNS

apply_cluster_dns() {
  local port ca crt key
  port=$(apiserver_port)
  ca=$(base64 -w0 <"$PKI/ca.crt")
  crt=$(base64 -w0 <"$PKI/admin.crt")
  key=$(base64 -w0 <"$PKI/admin.key")
  kube apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
    .:53 {
        errors
        health :8080
        ready :8181
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            kubeconfig /etc/coredns/kubeconfig
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
        }
        cache 30
        loadbalance
    }
---
apiVersion: v1
kind: Secret
metadata: {name: coredns-kubeconfig, namespace: kube-system}
type: Opaque
stringData:
  kubeconfig: |
    apiVersion: v1
    kind: Config
    clusters:
    - name: platform
      cluster: {server: "https://$HOST_IP:$port", tls-server-name: localhost, certificate-authority-data: $ca}
    users:
    - name: coredns
      user: {client-certificate-data: $crt, client-key-data: $key}
    contexts:
    - name: coredns
      context: {cluster: platform, user: coredns}
    current-context: coredns
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      automountServiceAccountToken: false
      dnsPolicy: Default
      containers:
      - name: coredns
        image: $COREDNS_IMAGE
        imagePullPolicy: Never
        args: ["-conf", "/etc/coredns/Corefile"]
        ports:
        - {containerPort: 53, name: dns, protocol: UDP}
        - {containerPort: 53, name: dns-tcp, protocol: TCP}
        readinessProbe: {httpGet: {path: /ready, port: 8181}, periodSeconds: 2}
        livenessProbe: {httpGet: {path: /health, port: 8080}, periodSeconds: 10}
        resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {memory: 128Mi}}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
        volumeMounts:
        - {name: config, mountPath: /etc/coredns/Corefile, subPath: Corefile, readOnly: true}
        - {name: kubeconfig, mountPath: /etc/coredns/kubeconfig, subPath: kubeconfig, readOnly: true}
      volumes:
      - {name: config, configMap: {name: coredns}}
      - {name: kubeconfig, secret: {secretName: coredns-kubeconfig}}
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  clusterIP: $CLUSTER_DNS_IP
  selector: {k8s-app: kube-dns}
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: 53}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}
EOF
}

# ------------------------------------------------------------------- verbs

cmd_start() {
  require_node_tools
  [[ -f $CLUSTER_KUBECONFIG ]] || engine_die "start the control plane first (scripts/engine/cluster.sh start)"
  local t0
  t0=$(date +%s)
  setup_netns
  write_configs
  start_containerd
  "$ENGINE_DIR/images.sh" import "$CONTAINERD_SOCK"
  start_volume_permissions
  start_kubelet
  start_kube_proxy
  start_network_policies
  wait_for 90 "the kubelet's registration of node $NODE_NAME" kube get node "$NODE_NAME"
  kube wait --for=condition=Ready "node/$NODE_NAME" --timeout=120s >/dev/null
  apply_cluster_dns
  kube -n kube-system rollout status deployment/coredns --timeout=120s >/dev/null
  engine_log "real node '$NODE_NAME' ready in $(($(date +%s) - t0))s (netns $NODE_NETNS, pods $POD_CIDR, logs $NODE_DIR/logs)"
}

# Pods' containers outlive the kubelet (their shims are children of no one), so
# they are killed explicitly, then their mounts released, before the namespace goes.
cmd_stop() {
  local p
  for p in kube-network-policies kube-proxy kubelet; do stop_process "$p"; done
  if running containerd; then
    local ns id
    for ns in k8s.io; do
      for id in $(ctr --address "$CONTAINERD_SOCK" -n "$ns" tasks ls -q 2>/dev/null); do
        ctr --address "$CONTAINERD_SOCK" -n "$ns" tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
      done
    done
    sleep 1
  fi
  stop_process containerd
  pkill -9 -f "containerd-shim-runc-v2 .*$CONTAINERD_SOCK" 2>/dev/null || true
  stop_process volume-permissions
  release_mounts
  release_pod_netns
  teardown_netns
  engine_log "real node stopped; netns $NODE_NETNS removed"
}

# Volumes, rootfs and secrets the kubelet and containerd mounted under the node's directories.
release_mounts() {
  local m pass
  for pass in 1 2 3; do
    while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(awk -v a="$NODE_DIR" -v b="$NODE_RUN" \
      'index($2, a) == 1 || index($2, b) == 1 {print $2}' /proc/mounts | sort -r)
    awk -v a="$NODE_DIR" -v b="$NODE_RUN" 'index($2, a) == 1 || index($2, b) == 1 {f=1} END {exit !f}' /proc/mounts || return 0
    sleep "$pass"
  done
}

# containerd pins each pod's network namespace under /run/netns (cni-…); those it made, now empty, go.
release_pod_netns() {
  local ns
  [[ -f $NODE_DIR/netns-before ]] || return 0
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^cni-/ {print $1}'); do
    grep -qx "$ns" "$NODE_DIR/netns-before" && continue
    [[ -z $(ip netns pids "$ns" 2>/dev/null) ]] && ip netns del "$ns" 2>/dev/null || true
  done
}

cmd_status() {
  local p
  for p in containerd kubelet kube-proxy kube-network-policies volume-permissions; do
    if running "$p"; then echo "$p: running"; else echo "$p: stopped"; fi
  done
  [[ -e /run/netns/$NODE_NETNS ]] && echo "netns $NODE_NETNS: present" || echo "netns $NODE_NETNS: absent"
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*) engine_die "usage: $0 start|stop|status" ;;
esac
