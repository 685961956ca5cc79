#!/usr/bin/env bash
# A throwaway PostgreSQL on 127.0.0.1 with database `sspr` and trust authentication (used by
# servers/50-postgres.sh and by the store fault and TLS tests).
#   postgres.sh start DIR PORT [PKI]   create the cluster in DIR if new, start it, wait until it
#                                      answers; with PKI (a folder from pki/mkcerts.sh: server.pem,
#                                      server.key) it also accepts TLS (ssl = on), else plain only
#   postgres.sh stop DIR               stop it (fast shutdown; the data stays for a restart)
# initdb/postgres refuse to run as root: as root they run as the `postgres` user, so DIR (and the
# folders above it) must be open to that user.
set -euo pipefail
cmd=${1:?usage: postgres.sh start DIR PORT [PKI] | stop DIR}
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
    tls=""
    if [[ -n "${4:-}" && -n "${fresh:-}" ]]; then
      # One role that must authenticate (SCRAM), for the TLS channel-binding test; every
      # other role keeps trust.
      "${as[@]}" sed -i '1i host all sspr_scram 127.0.0.1/32 scram-sha-256' "$dir/data/pg_hba.conf"
    fi
    if [[ -n "${4:-}" ]]; then
      # PostgreSQL refuses a key readable by others or owned by another user: a private copy.
      cp "$4/server.pem" "$dir/server.pem"
      cp "$4/server.key" "$dir/server.key"
      chmod 600 "$dir/server.key"
      [[ ${#as[@]} -gt 0 ]] && chown postgres "$dir/server.pem" "$dir/server.key"
      tls="-c ssl=on -c ssl_cert_file=$dir/server.pem -c ssl_key_file=$dir/server.key"
    fi
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w -t 30 -o "-p $port -k $dir \
      -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
      -c max_connections=200 $tls" start >/dev/null
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
