#!/usr/bin/env bash
# Starts what the test suite's second pass needs, if it is not already running, and creates the
# test role and database. Safe to run again and again.
#   PostgreSQL on 127.0.0.1:5432 with role market/market and database market_test
#   Redis on 127.0.0.1:6379
set -euo pipefail
PG_DB=${PG_DB:-market_test}

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

wait_for() {  # wait_for <what> <command…>
  local what=$1; shift
  for _ in $(seq 1 60); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "$what did not come up" >&2; return 1
}

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  ver=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
  if [[ -z "$ver" ]]; then
    ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
    pg_createcluster "$ver" main >/dev/null
  fi
  # exits 2 when the cluster is already running; that is fine
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || [[ $? -eq 2 ]]
  wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432 -q
fi
if ! as_postgres psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname='market'" | grep -q 1; then
  as_postgres psql -qc "CREATE ROLE market LOGIN PASSWORD 'market' CREATEDB"
fi
if ! as_postgres psql -qtAc "SELECT 1 FROM pg_database WHERE datname='$PG_DB'" | grep -q 1; then
  as_postgres createdb -O market "$PG_DB"
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /tmp/market-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /tmp/market-redis \
    --logfile /tmp/market-redis/redis.log
  wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping
fi
