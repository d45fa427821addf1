#!/usr/bin/env bash
# k8s/monitoring: the PrometheusRule's spec passes "promtool check rules"
# and the unit tests in tests/monitoring/rules_test.yml ("promtool test
# rules"), where every alert has a case that fires and one that must not and
# every recording rule a checked value; every alert has a runbook in the
# docs/operations.md; every metric the rules and the dashboard use is one the forwarder
# serves (the metric table of docs/operations.md, which readme_metrics.sh checks against
# the forwarder); and every dashboard query parses as PromQL.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
need_cmds python3 promtool
python3 -c 'import yaml' 2>/dev/null || { echo "python3-yaml missing (make deps)"; exit 1; }
make_tmp jcw-monitoring

python3 - "$tmp" <<'PY'
import json, re, sys, yaml
tmp = sys.argv[1]
rule = yaml.safe_load(open("k8s/monitoring/prometheusrule.yaml"))
assert rule["kind"] == "PrometheusRule", rule["kind"]
yaml.safe_dump(rule["spec"], open(f"{tmp}/rules.yml", "w"), sort_keys=False)
tests = yaml.safe_load(open("tests/monitoring/rules_test.yml"))
yaml.safe_dump(tests, open(f"{tmp}/rules_test.yml", "w"), sort_keys=False)

errors = []
rules = [r for g in rule["spec"]["groups"] for r in g["rules"]]
alerts = [r["alert"] for r in rules if "alert" in r]
records = [r["record"] for r in rules if "record" in r]
fires, quiet, checked = set(), set(), set()
for t in tests["tests"]:
    for a in t.get("alert_rule_test", []):
        (fires if a.get("exp_alerts") else quiet).add(a["alertname"])
    for e in t.get("promql_expr_test", []):
        checked.add(e["expr"])
for a in alerts:
    if a not in fires: errors.append(f"alert {a}: no test case where it fires")
    if a not in quiet: errors.append(f"alert {a}: no test case where it must not fire")
for r in rules:
    if "alert" in r:
        ann = r.get("annotations", {})
        if not ann.get("summary"): errors.append(f"alert {r['alert']}: no summary")
        if r.get("labels", {}).get("severity") not in ("warning", "critical"):
            errors.append(f"alert {r['alert']}: severity must be warning or critical")
for r in records:
    if r not in checked: errors.append(f"recording rule {r}: no promql_expr_test")

# Runbooks: one "### Name" heading per alert in docs/operations.md's section.
readme = open("docs/operations.md").read()
m = re.search(r"^### Alerts and runbooks\n(.*?)(?=^## |^### )", readme, re.M | re.S)
book = m.group(1) if m else ""
if not book: errors.append("docs/operations.md has no '### Alerts and runbooks' section")
heads = re.findall(r"^#### `?(Jcw\w+)`?", book, re.M)
for a in alerts:
    if a not in heads: errors.append(f"alert {a}: no runbook heading in docs/operations.md")
for h in heads:
    if h not in alerts: errors.append(f"docs/operations.md runbook {h}: no such alert")

# Metric names: the table of docs/operations.md lists every metric the forwarder serves.
served = set()
for row in re.findall(r"^\| (`[a-z_]+`(?:, `[a-z_]+`)*) \|", readme, re.M):
    served |= set(re.findall(r"`([a-z_]+)`", row))
def names(expr):
    # Label lists and matchers name labels, not metrics (process_type).
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    return {re.sub(r"_(bucket|sum|count)$", "", n) for n in re.findall(r"\b((?:jcw|process)_[a-z_]+)", expr)}
dash = json.load(open("k8s/monitoring/dashboard.json"))
queries = []
def walk(panels):
    for p in panels:
        walk(p.get("panels", []))
        for t in p.get("targets", []):
            queries.append((p["title"], t["expr"]))
        if p.get("type") != "row" and p.get("datasource", {}).get("uid") != "${datasource}":
            errors.append(f"dashboard panel {p.get('title')}: datasource must be the ${{datasource}} variable")
walk(dash["panels"])
ids = [p["id"] for p in dash["panels"]]
if len(ids) != len(set(ids)): errors.append("dashboard: panel ids repeat")
if len(queries) < 10: errors.append(f"dashboard: only {len(queries)} queries")
for where, expr in [(r.get("alert") or r["record"], r["expr"]) for r in rules] + queries:
    for n in names(expr) - served:
        errors.append(f"{where}: metric {n} is not one the forwarder serves (the table of docs/operations.md)")
# Dashboard queries as recording rules: promtool parses every one.
subst = lambda e: e.replace("$__rate_interval", "5m").replace("$node", ".*")
yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
    {"record": f"dashboard:query_{i}", "expr": subst(e)} for i, (_, e) in enumerate(queries)]}]},
    open(f"{tmp}/dashboard_rules.yml", "w"))
for e in errors:
    print("FAIL:", e)
if errors:
    sys.exit(1)
print(f"NOTE {len(alerts)} alerts (each with a firing and a quiet case and a runbook), "
      f"{len(records)} recording rules, {len(queries)} dashboard queries")
PY
cd "$tmp"
promtool check rules rules.yml >check.out 2>&1 || { cat check.out; echo "FAIL: promtool check rules"; exit 1; }
promtool check rules dashboard_rules.yml >dcheck.out 2>&1 ||
	{ cat dcheck.out; echo "FAIL: a dashboard query does not parse"; exit 1; }
promtool test rules rules_test.yml >test.out 2>&1 || { cat test.out; echo "FAIL: promtool test rules"; exit 1; }
echo "NOTE promtool check rules and test rules: SUCCESS ($(promtool --version 2>&1 | head -n1 | awk '{print $3}'))"
