#!/usr/bin/env bash
# Checks that the cluster cluster.sh points at runs what the platform needs:
# Ready nodes in 3 zones, a Deployment with a zone spread constraint becomes
# Available, a Job completes, a StatefulSet with a volumeClaimTemplate becomes
# ready (PVCs bound), a LoadBalancer Service and an Ingress get an address.
# Cleans up its namespace. Exit 0 only when every check passed.
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ $(cat "$CLUSTER_MODE_FILE" 2>/dev/null) == "$ENGINE_NODES" ]]; then export KUBECONFIG=$CLUSTER_KUBECONFIG; fi
NS=engine-smoke
PASS=0
FAIL=0
check() { # check NAME CMD...
  local name=$1 t0=$SECONDS
  shift
  if "$@" >/tmp/engine-smoke.$$.log 2>&1; then
    PASS=$((PASS + 1))
    printf 'ok    %-48s %3ss\n' "$name" $((SECONDS - t0))
  else
    FAIL=$((FAIL + 1))
    printf 'FAIL  %-48s %3ss\n' "$name" $((SECONDS - t0))
    sed 's/^/      /' /tmp/engine-smoke.$$.log
  fi
  rm -f /tmp/engine-smoke.$$.log
}

zones() { [[ $(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.labels.topology\.kubernetes\.io/zone}{"\n"}{end}' | sort -u | grep -c .) -ge 3 ]]; }
lb_address() { [[ -n $(kubectl -n $NS get "$1" -o jsonpath='{.status.loadBalancer.ingress[0].ip}') ]]; }
wait_lb() { local i; for ((i = 0; i < 60; i++)); do lb_address "$1" && return 0; sleep 1; done; return 1; }

check "nodes Ready" kubectl wait --for=condition=Ready node --all --timeout=60s
check "nodes span 3 zones" zones
check "default StorageClass" bash -c "kubectl get sc -o jsonpath='{.items[*].metadata.annotations}' | grep -q 'is-default-class\":\"true'"
kubectl delete namespace $NS --ignore-not-found --wait=true >/dev/null 2>&1
check "apply workloads" kubectl apply -f "$ENGINE_DIR/kwok/smoke.yaml"
check "Deployment with zone spread Available" kubectl -n $NS wait --for=condition=Available deploy/web --timeout=120s
check "Deployment pods spread over 3 zones" bash -c "[[ \$(kubectl -n $NS get pods -l app=web -o jsonpath='{range .items[*]}{.spec.nodeName}{\"\\n\"}{end}' | sed 's/-[0-9]*\$//' | sort -u | grep -c .) -eq 3 ]]"
check "Job complete" kubectl -n $NS wait --for=condition=Complete job/migrate --timeout=120s
check "StatefulSet PVCs Bound" kubectl -n $NS wait --for=jsonpath='{.status.phase}'=Bound pvc -l app=db --timeout=120s
check "StatefulSet ready" kubectl -n $NS rollout status sts/db --timeout=120s
check "LoadBalancer Service has an address" wait_lb service/web-lb
check "Ingress has an address" wait_lb ingress/web
check "delete namespace" kubectl delete namespace $NS --wait=true --timeout=120s

echo "smoke: $PASS passed, $FAIL failed"
((FAIL == 0))
