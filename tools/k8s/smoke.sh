#!/usr/bin/env bash
# Smoke test of the control plane built by scripts/build-k8s.sh: etcd,
# kube-apiserver and kube-scheduler on loopback with a throwaway openssl PKI
# and a token-auth admin. It schedules a pod onto a fake Node, then stops
# everything and removes its temp dir (KEEP=1 keeps it).
#   tools/k8s/smoke.sh [BIN_DIR]      (default: $(scripts/build-k8s.sh))
set -euo pipefail
BIN=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && scripts/build-k8s.sh)}
W=$(mktemp -d /tmp/gg-k8s-smoke.XXXXXX)
ETCD_PORT=${ETCD_PORT:-23791}; ETCD_PEER=${ETCD_PEER:-23801}; API_PORT=${API_PORT:-26443}
TOKEN=$(openssl rand -hex 16)
now_ms() { date +%s%3N; }
stop() { if [[ -n ${1:-} ]]; then kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi; }
cleanup() {
  stop "${SCHED_PID:-}"; stop "${API_PID:-}"; stop "${ETCD_PID:-}"
  if [[ -n ${KEEP:-} ]]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

mkdir -p "$W/pki"
openssl genrsa -out "$W/pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$W/pki/sa.key" -pubout -out "$W/pki/sa.pub" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=kube-apiserver \
  -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
  -keyout "$W/pki/apiserver.key" -out "$W/pki/apiserver.crt" 2>/dev/null
printf '%s,admin,admin,system:masters\n' "$TOKEN" > "$W/pki/tokens.csv"

t0=$(now_ms)
"$BIN/etcd" --name gg --data-dir "$W/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
  --initial-cluster "gg=http://127.0.0.1:$ETCD_PEER" --unsafe-no-fsync --log-level warn \
  > "$W/etcd.log" 2>&1 &
ETCD_PID=$!
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$ETCD_PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "$ETCD_PID" 2>/dev/null || { cat "$W/etcd.log"; exit 1; }
  sleep 0.05
done
t1=$(now_ms)
echo "etcd ready in $((t1 - t0)) ms: $(curl -sS "http://127.0.0.1:$ETCD_PORT/health")"

API_FLAGS=(
  --etcd-servers="http://127.0.0.1:$ETCD_PORT"
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT"
  --tls-cert-file="$W/pki/apiserver.crt" --tls-private-key-file="$W/pki/apiserver.key"
  --cert-dir="$W/certs"
  --service-account-issuer=https://kubernetes.default.svc.cluster.local
  --service-account-key-file="$W/pki/sa.pub" --service-account-signing-key-file="$W/pki/sa.key"
  --service-cluster-ip-range=10.0.0.0/24
  --token-auth-file="$W/pki/tokens.csv"
  --authorization-mode=RBAC
  --endpoint-reconciler-type=none
)
t2=$(now_ms)
"$BIN/kube-apiserver" "${API_FLAGS[@]}" > "$W/apiserver.log" 2>&1 &
API_PID=$!
ok=
for _ in $(seq 1 1200); do
  if [[ $(curl -sk -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$API_PORT/readyz" 2>/dev/null) == ok ]]; then ok=1; break; fi
  kill -0 "$API_PID" 2>/dev/null || { tail -50 "$W/apiserver.log"; exit 1; }
  sleep 0.1
done
t3=$(now_ms)
[[ -n $ok ]] || { echo "apiserver not ready"; tail -50 "$W/apiserver.log"; exit 1; }
echo "kube-apiserver /readyz ok in $((t3 - t2)) ms (etcd+apiserver: $((t3 - t0)) ms)"
curl -sk -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$API_PORT/readyz"; echo
curl -sk -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$API_PORT/version" | tr -d '\n '; echo
echo "anonymous /api/v1/namespaces: $(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$API_PORT/api/v1/namespaces")"
echo "admin /api/v1/namespaces: $(curl -sk -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$API_PORT/api/v1/namespaces" | grep -o '"name": *"[^"]*"' | tr '\n' ' ')"
echo "errors in apiserver log: $(grep -c '^E' "$W/apiserver.log" || true)"; grep '^E' "$W/apiserver.log" | head -5 || true
cat > "$W/admin.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: gg
  cluster: {server: "https://127.0.0.1:$API_PORT", certificate-authority: "$W/pki/apiserver.crt"}
users:
- name: admin
  user: {token: "$TOKEN"}
contexts:
- name: gg
  context: {cluster: gg, user: admin}
current-context: gg
KC
SCHED_PORT=${SCHED_PORT:-26459}
t4=$(now_ms)
"$BIN/kube-scheduler" --kubeconfig="$W/admin.kubeconfig" --authentication-kubeconfig="$W/admin.kubeconfig" \
  --authorization-kubeconfig="$W/admin.kubeconfig" --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" \
  --leader-elect=false > "$W/scheduler.log" 2>&1 &
SCHED_PID=$!
for _ in $(seq 1 600); do
  [[ $(curl -sk "https://127.0.0.1:$SCHED_PORT/readyz" 2>/dev/null) == ok ]] && break
  kill -0 "$SCHED_PID" 2>/dev/null || { tail -30 "$W/scheduler.log"; exit 1; }
  sleep 0.1
done
t5=$(now_ms)
echo "kube-scheduler /readyz: $(curl -sk "https://127.0.0.1:$SCHED_PORT/readyz") in $((t5 - t4)) ms"
A=(-sk -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json")
U="https://127.0.0.1:$API_PORT"
curl "${A[@]}" -X POST "$U/api/v1/nodes" -d '{"metadata":{"name":"fake-node"},"status":{"capacity":{"cpu":"4","memory":"8Gi","pods":"110"},"allocatable":{"cpu":"4","memory":"8Gi","pods":"110"},"conditions":[{"type":"Ready","status":"True","reason":"Fake","lastHeartbeatTime":null}]}}' -o /dev/null -w 'create node: %{http_code}\n'
curl -sk -H "Authorization: Bearer $TOKEN" -X PATCH -H "Content-Type: application/merge-patch+json" "$U/api/v1/nodes/fake-node/status" -d '{"status":{"capacity":{"cpu":"4","memory":"8Gi","pods":"110"},"allocatable":{"cpu":"4","memory":"8Gi","pods":"110"},"conditions":[{"type":"Ready","status":"True","reason":"Fake"}]}}' -o /dev/null -w 'node status: %{http_code}\n'
curl "${A[@]}" -X POST "$U/api/v1/namespaces/default/serviceaccounts" -d '{"metadata":{"name":"default"}}' -o /dev/null -w 'create sa: %{http_code}\n'
curl "${A[@]}" -X POST "$U/api/v1/namespaces/default/pods" -d '{"metadata":{"name":"p1"},"spec":{"tolerations":[{"operator":"Exists"}],"containers":[{"name":"c","image":"none"}]}}' -o /dev/null -w 'create pod: %{http_code}\n'
echo "node taints: $(curl "${A[@]}" "$U/api/v1/nodes/fake-node" | tr -d '\n ' | grep -o '"taints":\[[^]]*\]')"
echo "anonymous /readyz: $(curl -sk "$U/readyz") /version: $(curl -sk -o /dev/null -w '%{http_code}' "$U/version")"
t6=$(now_ms)
for _ in $(seq 1 100); do
  n=$(curl "${A[@]}" "$U/api/v1/namespaces/default/pods/p1" | grep -o '"nodeName": *"[^"]*"' || true)
  [[ -n $n ]] && break; sleep 0.1
done
echo "pod p1 bound: ${n:-NO} after $(( $(now_ms) - t6 )) ms"
[[ -n $n ]] || exit 1
echo "smoke: ok"
