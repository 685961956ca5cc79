#!/usr/bin/env bash
# A throwaway PostgreSQL on 127.0.0.1 with database `sspr` and trust authentication (used by
# servers/50-postgres.sh and by the store fault tests).
#   postgres.sh start DIR PORT   create the cluster in DIR if new, start it, wait until it answers
#   postgres.sh stop DIR         stop it (fast shutdown; the data stays for a restart)
# initdb/postgres refuse to run as root: as root they run as the `postgres` user, so DIR (and the
# folders above it) must be open to that user.
set -euo pipefail
cmd=${1:?usage: postgres.sh start DIR PORT | stop DIR}
dir=${2:?data folder}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as=()
if [[ $(id -u) == 0 ]]; then
  id postgres >/dev/null 2>&1 || useradd -r -M postgres
  as=(runuser -u postgres --)
fi
case "$cmd" in
  start)
    port=${3:?port}
    if [[ ! -d "$dir/data" ]]; then
      mkdir -p "$dir"
      chmod 755 "$dir"
      [[ ${#as[@]} -gt 0 ]] && chown postgres "$dir"
      "${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log"
      fresh=1
    fi
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w -t 30 -o "-p $port -k $dir \
      -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
      -c max_connections=200" start >/dev/null
    if [[ -n "${fresh:-}" ]]; then
      "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc 'CREATE DATABASE sspr'
    fi
    ;;
  stop)
    [[ -f "$dir/data/postmaster.pid" ]] || exit 0
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
