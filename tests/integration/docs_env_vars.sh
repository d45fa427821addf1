#!/usr/bin/env bash
# Every environment variable of both daemons' --help appears in the English
# options of docs/configuration.md and in the Korean guide (docs/ko/README.md); the Korean guide has
# its sections (quick start; deployment with compose, Kubernetes, systemd;
# operation: metrics, alerts, troubleshooting), names every alert of
# k8s/monitoring, and is written in Korean, not left in English.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
need_bins "$BUILD/jcw-collector" "$BUILD/jcw-forwarder"
need_cmds python3
make_tmp jcw-docs
for d in collector forwarder; do
	"$BUILD/jcw-$d" --help >"$tmp/$d.help"
done
python3 - "$tmp" <<'PY'
import re, sys, yaml
tmp = sys.argv[1]
docs = {"docs/configuration.md": open("docs/configuration.md").read(), "docs/ko/README.md": open("docs/ko/README.md").read()}
errors, count = [], 0
for d in ("collector", "forwarder"):
    # "[NAME]" at the end of an option's line, or before its default.
    names = re.findall(r"\[([A-Z][A-Z0-9_]+)\](?= \(default:|$)", open(f"{tmp}/{d}.help").read(), re.M)
    if len(names) < 10:
        errors.append(f"jcw-{d} --help lists only {len(names)} variables")
    count += len(names)
    for path, text in docs.items():
        for n in names:
            if f"`{n}`" not in text:
                errors.append(f"{path}: jcw-{d}'s {n} is not documented")
ko = docs["docs/ko/README.md"]
heads = re.findall(r"^#+ (.*)$", ko, re.M)
for want in ("빠른 시작", "배포", "Docker Compose", "Kubernetes", "systemd", "설정", "운영", "메트릭", "알림", "문제 해결"):
    if not any(want in h for h in heads):
        errors.append(f"docs/ko/README.md: no section on {want}")
rule = yaml.safe_load(open("k8s/monitoring/prometheusrule.yaml"))
for g in rule["spec"]["groups"]:
    for r in g["rules"]:
        if "alert" in r and f"`{r['alert']}`" not in ko:
            errors.append(f"docs/ko/README.md: alert {r['alert']} is not described")
# Prose outside code blocks and tables must be Korean: Hangul syllables
# outnumber Latin letters there.
prose = re.sub(r"```.*?```", "", ko, flags=re.S)
prose = "\n".join(l for l in prose.splitlines() if not l.startswith("|"))
prose = re.sub(r"`[^`]*`", "", prose)
hangul = len(re.findall(r"[\uac00-\ud7a3]", prose))
latin = len(re.findall(r"[A-Za-z]", prose))
if hangul < 2 * latin:
    errors.append(f"docs/ko/README.md: prose is not mostly Korean ({hangul} Hangul, {latin} Latin letters)")
for e in errors:
    print("FAIL:", e)
if errors:
    sys.exit(1)
print(f"NOTE {count} environment variables of both daemons in docs/configuration.md and docs/ko/README.md; "
      f"Korean guide: {len(heads)} sections, {hangul} Hangul to {latin} Latin letters in its prose")
PY
