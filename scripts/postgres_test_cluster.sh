#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests (and for trying
# --registry_url by hand): initdb in a temp folder, started on a free
# loopback port with trust authentication for the `modelhost` role. As root
# it runs the server as the `postgres` user (PostgreSQL refuses to run as
# root). Used by .ci/run; developers run it the same way:
#
#   eval "$(scripts/postgres_test_cluster.sh start)"   # exports MODELHOST_TEST_POSTGRES_URL and MODELHOST_TEST_POSTGRES_DIR
#   npx vitest run test/registry/store.test.ts
#   scripts/postgres_test_cluster.sh stop "$MODELHOST_TEST_POSTGRES_DIR"
#
# Needs Debian's postgresql server binaries (apt-get install -y postgresql).
set -euo pipefail

bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$d" ] && command -v pg_config >/dev/null 2>&1; then d=$(pg_config --bindir); fi
  if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
    echo "postgres_test_cluster: no PostgreSQL server binaries found (apt-get install -y postgresql, or set PG_BINDIR)" >&2
    exit 1
  fi
  echo "$d"
}

# Runs a command as the cluster's owner: ourselves, or `postgres` when we are root.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

start() {
  local bin dir port
  bin=$(bindir)
  dir=${1:-$(mktemp -d "${TMPDIR:-/tmp}/modelhost-pg-XXXXXX")}
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; chmod 700 "$dir"; fi
  port=$(free_port)
  as_owner "$bin/initdb" -D "$dir/data" -U modelhost -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c fsync=off -c max_connections=200" start >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
  echo "export MODELHOST_TEST_POSTGRES_URL=postgresql://modelhost@127.0.0.1:$port/postgres"
  echo "export MODELHOST_TEST_POSTGRES_DIR=$dir"
}

stop() {
  local bin dir=${1:?usage: postgres_test_cluster.sh stop DIR}
  bin=$(bindir)
  if [ -f "$dir/data/postmaster.pid" ]; then as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true; fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start [DIR] | stop DIR" >&2; exit 2 ;;
esac
