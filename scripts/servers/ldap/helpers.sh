# Helpers shared by 10-slapd.sh and 20-samba.sh (sourced by them; not a server script).

# Install packages without letting Debian start its own slapd on 389 (it would clash with Samba):
# policy-rc.d answering 101 forbids every service start during the install.
need_apt_no_start() {
  local created=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && created=1
  fi
  local rc=0
  need_apt "$@" || rc=$?
  [[ -n "$created" ]] && rm -f /usr/sbin/policy-rc.d
  return $rc
}

# A TCP port nobody listens on (random in 20000-59999).
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! ss -Htln "sport = :$port" | grep -q .; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}
