#!/usr/bin/env bash
# Installs the Debian packages the marketplace needs, only those that are missing, so running it
# again is cheap. Needs root (or passwordless sudo) the first time on a fresh machine.
#   base : what `make run` needs (PDF rendering with CJK fonts)
#   test : what `make test` adds (PostgreSQL, Redis, headless Chromium, pdftotext, wrk, and Java 17 for
#          the pipeline tests on Apache Spark)
set -euo pipefail
want=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk fontconfig tzdata)
# Debian's own python3 needs python3-venv for `python3 -m venv`
python3 -c "import ensurepip" 2>/dev/null || want+=(python3-venv)
if [[ "${1:-base}" == "test" ]]; then
  want+=(postgresql postgresql-contrib redis-server chromium poppler-utils wrk openjdk-17-jre-headless)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
