#!/usr/bin/env bash
# Checks docker/ without a container engine (none runs on the build machines):
#  1. the compose file is valid: `docker compose config` (Compose v2) when the plugin is
#     installed, else `docker-compose config` (Debian 12's Compose v1, package docker-compose);
#  2. the runtime image installs every shared library the binaries need: each package that
#     owns a library `ldd` lists for build/bin/* must be among the runtime stage's packages or
#     their dependencies (apt-cache depends --recurse), or be in debian:12-slim already
#     (skipped for a SANITIZE build: the image is built without sanitizers).
#  3. docker/grafana/: the alert rules pass `promtool check rules` and their unit tests
#     (`promtool test rules`); the dashboard is valid JSON whose panels use the provisioned
#     data source and whose every query is valid PromQL (promtool checks them as rules).
# A tool that is missing is reported and its check skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD:-build}"
status=0

export GRAFANA_ADMIN_PASSWORD="${GRAFANA_ADMIN_PASSWORD:-check-only}"
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  compose=()
  echo "check-docker: neither docker compose nor docker-compose installed, compose file not validated"
fi
if [ "${#compose[@]}" -gt 0 ]; then
  if "${compose[@]}" -f docker/compose.yaml config -q; then
    echo "check-docker: docker/compose.yaml is valid (${compose[*]} config)"
  else
    echo "check-docker: docker/compose.yaml is invalid" >&2
    status=1
  fi
fi

grafana=docker/grafana
if command -v promtool >/dev/null 2>&1; then
  queries="$(mktemp)"
  trap 'rm -f "$queries"' EXIT
  # Every panel and variable query of the dashboard, as recording rules promtool can parse
  # ($__rate_interval is Grafana's; any range stands in for it).
  if ! python3 - "$grafana" >"$queries" <<'PY'
import json, re, sys
root = sys.argv[1]
dash = json.load(open(root + "/dashboards/bundled.json"))
uid = re.search(r"^\s*uid:\s*(\S+)", open(root + "/datasources/prometheus.yaml").read(), re.M).group(1)
bad, exprs = [], []
def walk(panels):
    for p in panels:
        walk(p.get("panels", []))
        if p.get("type") == "row":
            continue
        if p.get("datasource", {}).get("uid") != uid:
            bad.append("panel %r does not use data source %s" % (p.get("title"), uid))
        for t in p.get("targets", []):
            exprs.append(t["expr"])
walk(dash["panels"])
if not exprs:
    bad.append("no queries")
for m in bad:
    print("check-docker: dashboard: " + m, file=sys.stderr)
print("groups:\n  - name: dashboard\n    rules:")
for i, e in enumerate(exprs):
    e = e.replace("$__rate_interval", "5m").replace("$instance", ".*")
    print("      - record: dashboard_query_%d\n        expr: %s" % (i, json.dumps(e)))
sys.exit(1 if bad else 0)
PY
  then
    status=1
  elif promtool check rules "$queries" >/dev/null && promtool check rules "$grafana"/*.rules.yml >/dev/null &&
      promtool test rules "$grafana"/*.rules.test.yml >/dev/null; then
    echo "check-docker: $grafana: alert rules valid and their tests pass, dashboard queries valid PromQL"
  else
    echo "check-docker: $grafana: promtool found errors (run promtool check rules / test rules on it)" >&2
    status=1
  fi
else
  echo "check-docker: promtool not installed, $grafana not checked (scripts/install-deps.sh installs prometheus)"
fi

if [ -n "${SANITIZE:-}" ]; then
  # The image is built without sanitizers; these binaries also link the sanitizer runtimes.
  echo "check-docker: sanitizer build, runtime libraries not checked (the image has none)"
elif command -v apt-cache >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; then
  # The runtime stage's packages: the apt-get install after the last FROM.
  runtime="$(awk '/^FROM /{s=""} {s=s $0 "\n"} END{printf "%s", s}' docker/Dockerfile |
    sed -n '/apt-get install/,/&&\|\\$/p' | tr ' \\' '\n\n' |
    grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|useradd|ca-certificates)$' || true)"
  closure="$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances $runtime 2>/dev/null | grep -E '^[a-z0-9]' | sort -u)"
  # Essential and required packages are in every Debian image, the slim one included.
  base="$(dpkg-query -W -f='${Package} ${Essential} ${Priority}\n' | awk '$2=="yes" || $3=="required"{print $1}')"
  missing=()
  for lib in $(ldd "$build"/bin/* | awk '/=>/{print $3}' | sort -u); do
    pkg="$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | cut -d: -f1 | head -1)" || true
    [ -n "$pkg" ] || continue
    grep -qx "$pkg" <<<"$closure" || grep -qx "$pkg" <<<"$base" || missing+=("$pkg ($lib)")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    printf 'check-docker: the runtime image lacks %s\n' "${missing[@]}" >&2
    status=1
  else
    echo "check-docker: the runtime stage's packages ($(echo $runtime)) provide every library the binaries link"
  fi
else
  echo "check-docker: no apt-cache/dpkg, runtime libraries not checked"
fi
exit "$status"
