#!/usr/bin/env bash
# The SMTP sink (sink.py) as a background process (used by servers/30-smtp.sh and the fault tests).
#   sink.sh start DIR STARTTLS_PORT TLS_PORT   start it, delivering into DIR/maildir; waits until
#                                              both ports accept connections. Needs PKI (server.pem,
#                                              server.key), SSPR_TEST_SMTP_USER/PASSWORD and a
#                                              Python with aiosmtpd in SSPR_PY.
#   sink.sh stop DIR                           stop it by the PID in DIR/sink.pid
set -euo pipefail
cmd=${1:?usage: sink.sh start DIR STARTTLS_PORT TLS_PORT | stop DIR}
dir=${2:?folder}
case "$cmd" in
  start)
    starttls_port=${3:?STARTTLS port}
    tls_port=${4:?TLS port}
    mkdir -p "$dir"
    # A log of an earlier start must not be taken for this one's "ready".
    rm -f "$dir/sink.log"
    "${SSPR_PY:?SSPR_PY: a Python with aiosmtpd}" "$(dirname "$0")/sink.py" "$dir/maildir" "$starttls_port" \
      "$tls_port" "${PKI:?PKI}/server.pem" "$PKI/server.key" "${SSPR_TEST_SMTP_USER:?}" \
      "${SSPR_TEST_SMTP_PASSWORD:?}" >"$dir/sink.log" 2>&1 &
    echo $! >"$dir/sink.pid"
    for _ in $(seq 1 200); do
      if grep -q ready "$dir/sink.log" 2>/dev/null; then exit 0; fi
      kill -0 "$(cat "$dir/sink.pid")" 2>/dev/null || break
      sleep 0.05
    done
    echo "the SMTP sink did not start; log: $dir/sink.log" >&2
    cat "$dir/sink.log" >&2
    exit 1
    ;;
  stop)
    [[ -f "$dir/sink.pid" ]] || exit 0
    pid=$(cat "$dir/sink.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
