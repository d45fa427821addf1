#!/usr/bin/env bash
# The Kubernetes manifests against the Kubernetes API's schema, offline (no
# cluster here): "kubectl kustomize k8s" renders every object, including the
# monitoring component, and the notebook hook's ConfigMap (contrib/jupyter);
# tests/tools/k8s-schema.mjs checks each one field
# by field against @kubernetes/client-node's models (an unknown or misspelt
# field fails, as the API server's strict validation would) and validates it
# with kubernetes-models (required fields, types, formats; the Prometheus
# Operator's CRDs for ServiceMonitor and PrometheusRule). A copy with a
# misspelt field and a mistyped value must fail, so the check is known to
# bite. The schema packages come from the npm registry, pinned, cached
# between runs.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
need_cmds python3 kubectl
command -v node >/dev/null && command -v npm >/dev/null ||
	{ echo "deploy_k8s_schema: node and npm are needed for the schema packages"; exit 77; }
make_tmp jcw-k8s-schema

CLIENT_NODE=1.3.0 MODELS=5.1.0 PROM_OPERATOR=6.0.0   # Kubernetes 1.33 schemas
cache=${XDG_CACHE_HOME:-$HOME/.cache}/jcw-tests/k8s-schema-$CLIENT_NODE-$MODELS-$PROM_OPERATOR
if [ ! -f "$cache/.complete" ]; then
	rm -rf "$cache" && mkdir -p "$cache"
	( cd "$cache" &&
	  timeout 180 npm install --no-audit --no-fund --no-save --loglevel=error \
		"kubernetes-models@$MODELS" "@kubernetes-models/prometheus-operator@$PROM_OPERATOR" &&
	  timeout 120 npm pack --silent "@kubernetes/client-node@$CLIENT_NODE" >/dev/null &&
	  mkdir client-node && tar -xzf kubernetes-client-node-$CLIENT_NODE.tgz -C client-node &&
	  rm kubernetes-client-node-$CLIENT_NODE.tgz ) >"$tmp/npm.log" 2>&1 || {
		tail -n 5 "$tmp/npm.log"; rm -rf "$cache"
		echo "deploy_k8s_schema: the npm registry did not deliver the schema packages"; exit 77; }
	touch "$cache/.complete"
fi
models=$cache/client-node/package/dist/gen/models
[ -f "$models/V1DaemonSet.js" ] || { echo "FAIL: no V1DaemonSet model in $models"; exit 1; }

HOME=$tmp KUBECONFIG=$tmp/none timeout 60 kubectl kustomize k8s >"$tmp/rendered.yaml"
# The notebook hook's ConfigMap for the students' namespace, and the
# uninstall DaemonSet, too.
{ echo ---; HOME=$tmp KUBECONFIG=$tmp/none timeout 60 kubectl kustomize contrib/jupyter; } >>"$tmp/rendered.yaml"
{ echo ---; HOME=$tmp KUBECONFIG=$tmp/none timeout 60 kubectl kustomize k8s/uninstall; } >>"$tmp/rendered.yaml"
python3 - "$tmp" <<'PY'
import json, sys, yaml
tmp = sys.argv[1]
objs = [d for d in yaml.safe_load_all(open(f"{tmp}/rendered.yaml")) if d]
json.dump(objs, open(f"{tmp}/objects.json", "w"))
kinds = sorted({o["kind"] for o in objs})
for k in ("DaemonSet", "PrometheusRule", "ServiceMonitor", "NetworkPolicy", "ConfigMap"):
    assert k in kinds, f"{k} not rendered: {kinds}"
bad = json.loads(json.dumps(objs))
ds = next(o for o in bad if o["kind"] == "DaemonSet")
ds["spec"]["template"]["spec"]["containers"][0]["securityContxt"] = {}
ds["spec"]["template"]["spec"]["containers"][1]["ports"][0]["containerPort"] = "3000"
json.dump(bad, open(f"{tmp}/bad.json", "w"))
PY
node tests/tools/k8s-schema.mjs "$models" "$cache/node_modules" "$tmp/objects.json" >"$tmp/check.out" ||
	{ cat "$tmp/check.out"; exit 1; }
if node tests/tools/k8s-schema.mjs "$models" "$cache/node_modules" "$tmp/bad.json" >"$tmp/bad.out"; then
	echo "FAIL: a misspelt field and a string port passed the schema check"; exit 1
fi
grep -q 'securityContxt: no such field in V1Container' "$tmp/bad.out" &&
	grep -q 'containerPort: must be a number' "$tmp/bad.out" ||
	{ cat "$tmp/bad.out"; echo "FAIL: the schema check missed a planted error"; exit 1; }
echo "NOTE $(cat "$tmp/check.out") against the Kubernetes 1.33 schema; planted errors caught"
