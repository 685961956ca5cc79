# Sourced by scripts/test.sh (see scripts/lib.sh): the SMTP sink (aiosmtpd) with STARTTLS and
# implicit TLS on free 127.0.0.1 ports, AUTH required, certificate from 00-pki.sh, into one
# Maildir. Exports SSPR_TEST_SMTP_HOST, SSPR_TEST_SMTP_STARTTLS_PORT, SSPR_TEST_SMTP_TLS_PORT,
# SSPR_TEST_SMTP_USER, SSPR_TEST_SMTP_PASSWORD and SSPR_TEST_MAILDIR (read the mail there;
# sspr-backends/tests/support/maildir.rs has a reader).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
[[ -n "${PKI:-}" ]] || source "$(dirname "${BASH_SOURCE[0]}")/00-pki.sh"
need_venv aiosmtpd
sspr_smtp_dir="$SSPR_RUN_DIR/smtp"
sspr_free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export SSPR_TEST_SMTP_HOST=127.0.0.1
SSPR_TEST_SMTP_STARTTLS_PORT=$(sspr_free_port)
SSPR_TEST_SMTP_TLS_PORT=$(sspr_free_port)
export SSPR_TEST_SMTP_STARTTLS_PORT SSPR_TEST_SMTP_TLS_PORT
export SSPR_TEST_SMTP_USER=sspr-mailer
export SSPR_TEST_SMTP_PASSWORD="sink-$RANDOM$RANDOM"
bash "$SSPR_ROOT/scripts/smtp/sink.sh" start "$sspr_smtp_dir" "$SSPR_TEST_SMTP_STARTTLS_PORT" "$SSPR_TEST_SMTP_TLS_PORT"
on_exit "bash '$SSPR_ROOT/scripts/smtp/sink.sh' stop '$sspr_smtp_dir'"
export SSPR_TEST_MAILDIR="$sspr_smtp_dir/maildir"
echo "SMTP sink: STARTTLS $SSPR_TEST_SMTP_STARTTLS_PORT, SMTPS $SSPR_TEST_SMTP_TLS_PORT, Maildir $SSPR_TEST_MAILDIR"
