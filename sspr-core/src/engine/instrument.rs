//! Timing and tracing of engine and backend calls.
//!
//! Each public engine call runs inside [`observed!`]: a `tracing` span named `sspr.<call>`
//! (fields `sspr.step`, `sspr.outcome` and `sspr.flow`, the flow's keyed reference, never its
//! id), and its duration on the engine's [`Clock`] into `sspr_engine_call_seconds{operation}`.
//! The backends are wrapped once, when the engine is built, in a timing decorator per trait:
//! each call is a child span `sspr.backend` at level DEBUG (a subscriber at INFO keeps only the
//! engine calls, and then pays nothing per backend call) and its duration goes into
//! `sspr_backend_call_seconds{backend,operation}`. The core reads no clock of its own: the
//! durations are differences of the engine's clock (real time with [`crate::SystemClock`],
//! simulated time with a [`crate::ManualClock`]). With no recorder and no subscriber installed,
//! both are no-ops.
//!
//! Labels and span fields are closed sets (call, backend and method names, outcome names) and
//! static strings: never a login, address, IP, user id or flow id, and nothing formatted per
//! call. The flow's keyed reference is read from the flow's record (`begin_reset` computes it
//! once and the record carries it), the same for the span and the call's audit events.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::Duration;

use time::OffsetDateTime;
use tracing::{Span, field};

use crate::api::{Destination, UserId};
use crate::audit::AuditEvent;
use crate::backend::{
    AuditSink, Authentication, Batch, BatchOutcome, ContactStore, Counter, Directory, DirectoryUser, Enrollment,
    Notifier, PasswordRules, Put, StateStore, StoredValue,
};
use crate::clock::{Clock, Timer};
use crate::error::{BackendError, BackendErrorKind, Result};
use crate::flow::FlowRecord;
use crate::input::NormalizedLogin;
use crate::notice::Notification;
use crate::secret::Password;
use crate::telemetry;

/// Run an engine call's body (an `async` block) in its span, timed: `observed!(self, call,
/// async move { ... })`, or for a call on a flow `observed!(self, call, flow(flow_id) =>
/// flow_ref, async move { ... })`, which binds `flow_ref` to the call's [`CallFlow`]: the body
/// asks it for the flow's keyed reference once it has read the flow's record (which carries
/// it), and it puts it on the span then; a call that never read the record gets it on its
/// span at its end, computed from the id. A call that learns its flow only as it runs
/// (`begin_reset`, `redeem_recovery_code`) takes its span with `observed!(self, call, span =>
/// call_span, async move { ... })` and records the reference on it (not on `Span::current()`,
/// which is a lookup, a clone and a close in the subscriber's registry). The span's name is
/// `sspr.<call>`.
///
/// Expanded in place rather than an `async fn` taking the body: an `async fn` keeps a future
/// it is given twice in its own state (the argument and the awaited value), which doubled the
/// size of every public call's future (and the bytes copied each time one is moved).
macro_rules! observed {
    ($sspr:ident, $op:ident, $body:expr) => {{
        let span = $crate::engine::instrument::call_span!($op);
        let started = $sspr.now();
        let out = $crate::engine::instrument::in_span!(&span, $body);
        $sspr.observed($crate::telemetry::engine_call_key!(stringify!($op)), &span, started, &out);
        out
    }};
    ($sspr:ident, $op:ident, span => $span:ident, $body:expr) => {{
        let span = $crate::engine::instrument::call_span!($op);
        let started = $sspr.now();
        let out = $crate::engine::instrument::in_span!(&span, {
            let $span = &span;
            $body
        });
        $sspr.observed($crate::telemetry::engine_call_key!(stringify!($op)), &span, started, &out);
        out
    }};
    ($sspr:ident, $op:ident, flow($flow:expr) => $flow_ref:ident, $body:expr) => {{
        let span = $crate::engine::instrument::call_span!($op);
        let $flow_ref = $crate::engine::instrument::CallFlow::new($flow, &span);
        let started = $sspr.now();
        let out = $crate::engine::instrument::in_span!(&span, {
            let $flow_ref = &$flow_ref;
            $body
        });
        $flow_ref.finish($sspr);
        $sspr.observed($crate::telemetry::engine_call_key!(stringify!($op)), &span, started, &out);
        out
    }};
}

/// Await `$body` (a future) with `$span` (a `&Span`) entered on each poll: what
/// `tracing::Instrument` does, with the span borrowed instead of owned. A call's span is used
/// again after its body (its outcome), and with `Instrument` each call paid for a clone of it
/// (and the drop of that clone: a lookup and a count in the subscriber's registry each), and
/// for entering it once more when the finished body was dropped (BENCHMARKS.md section 11).
/// A body dropped before it finished (its caller gave up) is dropped outside the span: the
/// engine's bodies log nothing when dropped.
macro_rules! in_span {
    ($span:expr, $body:expr) => {{
        let span: &::tracing::Span = $span;
        let mut body = ::std::pin::pin!($body);
        ::std::future::poll_fn(|cx| {
            let _entered = span.enter();
            ::std::future::Future::poll(body.as_mut(), cx)
        })
        .await
    }};
}

/// The flow a call names ([`observed!`]): its id, and whether its keyed reference is on the
/// call's span yet.
pub(super) struct CallFlow<'a> {
    id: &'a str,
    span: &'a Span,
    traced: AtomicBool,
}

impl<'a> CallFlow<'a> {
    pub(super) fn new(id: &'a str, span: &'a Span) -> Self {
        Self { id, span, traced: AtomicBool::new(false) }
    }

    /// The flow's keyed reference as its record carries it since `begin_reset` (computed from
    /// the id for a record written before records carried it), put on the call's span: for
    /// the call's audit events, which must carry the same one.
    pub(super) fn reference(&self, sspr: &super::Sspr, record: &FlowRecord) -> String {
        let reference = match &record.flow_ref {
            Some(bytes) => crate::hex::encode(bytes),
            None => sspr.flow_ref(self.id),
        };
        if !self.span.is_disabled() {
            self.span.record("sspr.flow", reference.as_str());
        }
        self.traced.store(true, Ordering::Relaxed);
        reference
    }

    /// At the end of the call: one that never read its flow's record (a malformed or unknown
    /// id, an expired flow, a store failure) still names the flow on its span, the reference
    /// computed from the id (only when a subscriber keeps the span).
    pub(super) fn finish(&self, sspr: &super::Sspr) {
        if !self.traced.load(Ordering::Relaxed) && !self.span.is_disabled() {
            self.span.record("sspr.flow", sspr.flow_ref(self.id).as_str());
        }
    }
}

/// The span of engine call `$op` (level INFO): `sspr.<call>`, its step, and its outcome and
/// flow reference to be recorded.
macro_rules! call_span {
    ($op:ident) => {
        ::tracing::info_span!(
            concat!("sspr.", stringify!($op)),
            sspr.step = stringify!($op),
            sspr.outcome = ::tracing::field::Empty,
            sspr.flow = ::tracing::field::Empty,
        )
    };
}
pub(super) use call_span;
pub(super) use in_span;
pub(super) use observed;

/// The seconds from `started` to `now` on the engine's clock (0 if the clock went back).
fn elapsed(started: OffsetDateTime, now: OffsetDateTime) -> f64 {
    (now - started).as_seconds_f64().max(0.0)
}

/// What an engine call ended with, as a span's `sspr.outcome`.
pub(super) trait CallOutcome {
    /// `ok`, or the error's stable name.
    fn outcome(&self) -> &'static str;
}

impl<T> CallOutcome for Result<T> {
    fn outcome(&self) -> &'static str {
        match self {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }
}

impl CallOutcome for () {
    fn outcome(&self) -> &'static str {
        "ok"
    }
}

/// A backend error's kind, as a span's `sspr.outcome`.
fn backend_error_name(error: &BackendError) -> &'static str {
    match error.kind() {
        BackendErrorKind::Unavailable => "unavailable",
        BackendErrorKind::PasswordRejected => "password_rejected",
        BackendErrorKind::Rejected => "rejected",
        BackendErrorKind::NotSupported => "not_supported",
        _ => "other",
    }
}

impl super::Sspr {
    /// The end of [`observed!`]: record the call's duration and outcome.
    pub(super) fn observed<T: CallOutcome>(
        &self,
        key: &'static telemetry::Timed,
        span: &Span,
        started: OffsetDateTime,
        out: &T,
    ) {
        telemetry::engine_call(key, elapsed(started, self.now()));
        span.record("sspr.outcome", out.outcome());
    }
}

/// Time one backend call into `sspr_backend_call_seconds` in a child span `sspr.backend`
/// (OpenTelemetry name `<backend>.<operation>`) at level DEBUG: a subscriber at INFO keeps one
/// span per engine call and pays nothing for the backend calls (their span is disabled at the
/// call site), one at DEBUG sees each backend call under its engine call.
async fn timed<T>(
    clock: &dyn Clock,
    limit: &CallLimit,
    backend: &'static str,
    op: &'static str,
    name: &'static str,
    key: &'static telemetry::Timed,
    call: impl Future<Output = Result<T, BackendError>>,
) -> Result<T, BackendError> {
    let span = tracing::debug_span!(
        "sspr.backend",
        otel.name = name,
        sspr.backend = backend,
        sspr.operation = op,
        sspr.outcome = field::Empty,
    );
    let started = clock.now();
    let out = in_span!(&span, limit.run(name, call));
    telemetry::backend_call(key, elapsed(started, clock.now()));
    span.record("sspr.outcome", out.as_ref().map_or_else(backend_error_name, |_| "ok"));
    out
}

/// `timed(clock, limit, "backend", "op", "backend.op", key, call)` from `timed!(self, backend.op,
/// call)`, the series key made once for the call site: the call bounded by the engine's
/// [`CallLimit`], or by none with `timed!(self, unbounded backend.op, call)`.
macro_rules! timed {
    ($self:ident, unbounded $backend:ident . $op:ident, $call:expr) => {
        timed!(@ $self, &CallLimit::UNBOUNDED, $backend.$op, $call)
    };
    ($self:ident, $backend:ident . $op:ident, $call:expr) => {
        timed!(@ $self, &$self.limit, $backend.$op, $call)
    };
    (@ $self:ident, $limit:expr, $backend:ident . $op:ident, $call:expr) => {
        timed(
            &*$self.clock,
            $limit,
            stringify!($backend),
            stringify!($op),
            concat!(stringify!($backend), ".", stringify!($op)),
            telemetry::backend_call_key!(stringify!($backend), stringify!($op)),
            $call,
        )
        .await
    };
}

/// How long a backend call may go unanswered before the engine gives it up
/// ([`crate::SsprBuilder::backend_timeout`]): on the engine's timer, when it has one that
/// really waits. A backend that never answers (a host-language promise that never settles, a
/// socket with no timeout of its own) would otherwise hold the engine call, and the delivery
/// slot or the host's event loop under it, for good.
#[derive(Clone)]
pub(super) struct CallLimit {
    /// `None`: calls run to their end (no timer, or a simulated one: a test clock's wait ends
    /// before any real call could answer).
    timer: Option<Arc<dyn Timer>>,
    limit: Duration,
}

impl CallLimit {
    /// No bound: the completion's directory writes, which its own deadline bounds while keeping
    /// the flow leased (a write given up on may still land; nobody may take the flow over
    /// before the lease runs out).
    pub(super) const UNBOUNDED: Self = Self { timer: None, limit: Duration::ZERO };

    pub(super) fn new(timer: Option<&Arc<dyn Timer>>, limit: Duration) -> Self {
        Self { timer: timer.filter(|timer| !timer.is_simulated()).cloned(), limit }
    }

    /// How long one call may take (whether or not a timer bounds it).
    pub(super) fn limit(&self) -> Duration {
        self.limit
    }

    /// Run `call` (named `what` in the error): its answer, or an `Unavailable` error once
    /// the limit has passed without one (the call's future is dropped then).
    pub(super) async fn run<T>(
        &self,
        what: &'static str,
        call: impl Future<Output = Result<T, BackendError>>,
    ) -> Result<T, BackendError> {
        let Some(timer) = &self.timer else { return call.await };
        let mut call = std::pin::pin!(call);
        let mut sleep = None;
        std::future::poll_fn(|cx| {
            if let Poll::Ready(out) = call.as_mut().poll(cx) {
                return Poll::Ready(out);
            }
            // Only a call that waits starts a timer: an in-process backend answers at once and
            // pays nothing for the bound.
            let sleep = sleep.get_or_insert_with(|| timer.sleep(self.limit));
            match sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(BackendError::new(
                    BackendErrorKind::Unavailable,
                    format!("{what}: no answer within {}", duration_text(self.limit)),
                ))),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }
}

impl fmt::Debug for CallLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallLimit").field("limit", &self.timer.as_ref().map(|_| self.limit)).finish()
    }
}

/// `30 s`, `250 ms`: a limit as an error message says it.
fn duration_text(limit: Duration) -> String {
    match limit.subsec_millis() {
        0 => format!("{} s", limit.as_secs()),
        _ => format!("{} ms", limit.as_millis()),
    }
}

/// Declares a timing decorator around `Arc<dyn $trait>`; its `Debug` is the wrapped backend's.
///
/// The decorators do not implement the traits: their methods are inherent `async fn`s with the
/// traits' signatures, so the engine calls them as it would the backend, and a call's future is
/// part of the engine's instead of one more box per backend call (an `async_trait` method
/// boxes its future: with the backend's own box, that was two allocations per call).
macro_rules! decorator {
    ($name:ident, $trait:ident) => {
        pub(super) struct $name {
            inner: Arc<dyn $trait>,
            clock: Arc<dyn Clock>,
            limit: CallLimit,
        }

        impl $name {
            pub(super) fn wrap(inner: Arc<dyn $trait>, clock: Arc<dyn Clock>, limit: CallLimit) -> Self {
                Self { inner, clock, limit }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.inner.fmt(f)
            }
        }
    };
}

decorator!(TimedDirectory, Directory);
decorator!(TimedContacts, ContactStore);
decorator!(TimedStore, StateStore);
decorator!(TimedNotifier, Notifier);
decorator!(TimedAudit, AuditSink);

impl TimedDirectory {
    pub(super) async fn find_user(&self, login: &NormalizedLogin) -> Result<Option<DirectoryUser>, BackendError> {
        let found = timed!(self, directory.find_user, self.inner.find_user(login));
        // What was typed as a login may be a password typed in the wrong field: a lookup's
        // error quoting it must not carry it into the logs and the audit trail. A text too
        // short to be a password is left, as clearing it would garble the error's own words.
        found.map_err(|e| {
            if login.as_str().chars().count() < 6 {
                return e;
            }
            let encoded = crate::error::percent_encoded(login.as_str());
            e.redacting(&[(login.as_str(), "[login]"), (encoded.as_str(), "[login]")])
        })
    }
    pub(super) async fn set_password(
        &self,
        user: &UserId,
        password: &Password,
        must_change: bool,
    ) -> Result<(), BackendError> {
        let set = timed!(self, unbounded directory.set_password, self.inner.set_password(user, password, must_change));
        set.map_err(|e| without_passwords(e, &[password]))
    }
    pub(super) async fn unlock(&self, user: &UserId) -> Result<(), BackendError> {
        timed!(self, unbounded directory.unlock, self.inner.unlock(user))
    }
    pub(super) async fn authenticate(
        &self,
        user: &UserId,
        password: &Password,
    ) -> Result<Authentication, BackendError> {
        let checked = timed!(self, directory.authenticate, self.inner.authenticate(user, password));
        checked.map_err(|e| without_passwords(e, &[password]))
    }
    pub(super) async fn search(&self, query: &str, limit: usize) -> Result<Vec<DirectoryUser>, BackendError> {
        timed!(self, directory.search, self.inner.search(query, limit))
    }
    pub(super) async fn change_password(
        &self,
        user: &UserId,
        old: &Password,
        new: &Password,
    ) -> Result<(), BackendError> {
        let changed = timed!(self, directory.change_password, self.inner.change_password(user, old, new));
        changed.map_err(|e| without_passwords(e, &[old, new]))
    }
    pub(super) async fn password_rules(&self) -> Result<PasswordRules, BackendError> {
        timed!(self, directory.password_rules, self.inner.password_rules())
    }
    pub(super) async fn check_groups_visible(&self, groups: &[String]) -> Result<(), BackendError> {
        timed!(self, directory.check_groups_visible, self.inner.check_groups_visible(groups))
    }
}

/// `error`, what a backend handed `passwords` raised, without them: a host's directory or
/// password checker may quote what it was given (a command line with `--newpassword=...`, a
/// URL with the password in its query), and the engine logs, audits and returns the error's
/// text. Each password goes as typed and as percent-encoded (a URL's form of it).
pub(super) fn without_passwords(error: BackendError, passwords: &[&Password]) -> BackendError {
    let encoded: Vec<String> = passwords.iter().map(|p| crate::error::percent_encoded(p.expose_secret())).collect();
    let mut secrets: Vec<(&str, &str)> = passwords.iter().map(|p| (p.expose_secret(), "[REDACTED]")).collect();
    secrets.extend(encoded.iter().map(|e| (e.as_str(), "[REDACTED]")));
    error.redacting(&secrets)
}

/// `text`, what a host's password checker answered about `password` (a reason or a
/// suggestion, shown to the user and carried by the error a host logs), without it: as typed
/// and percent-encoded, ignoring ASCII case, as [`without_passwords`] clears an error.
pub(super) fn text_without_password(text: String, password: &Password) -> String {
    let encoded = crate::error::percent_encoded(password.expose_secret());
    [password.expose_secret(), encoded.as_str()].into_iter().fold(text, |text, secret| {
        crate::error::replace_ignoring_ascii_case(&text, secret, "[REDACTED]").unwrap_or(text)
    })
}

impl TimedContacts {
    pub(super) async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError> {
        timed!(self, contacts.get, self.inner.get(user))
    }
    pub(super) async fn save(
        &self,
        user: &UserId,
        enrollment: &Enrollment,
        expected_version: u64,
    ) -> Result<bool, BackendError> {
        let saved = timed!(self, contacts.save, self.inner.save(user, enrollment, expected_version));
        // A store may quote what it was given (a unique index's "Key (email)=(...)").
        saved.map_err(|e| {
            let email = enrollment.email.as_ref().map(|c| Destination::Email(c.value.clone()));
            let phone = enrollment.phone.as_ref().map(|c| Destination::Sms(c.value.clone()));
            let to: Vec<&Destination> = email.iter().chain(phone.iter()).collect();
            crate::notice::without_destinations(e, &to, &[])
        })
    }
    pub(super) async fn list(
        &self,
        after: Option<&UserId>,
        limit: usize,
    ) -> Result<Vec<(UserId, Enrollment)>, BackendError> {
        timed!(self, contacts.list, self.inner.list(after, limit))
    }
}

impl TimedStore {
    pub(super) async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        timed!(self, store.get, self.inner.get(key, now))
    }
    pub(super) async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        timed!(self, store.put, self.inner.put(key, value, expected_version, expires_at, now))
    }
    pub(super) async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        timed!(self, store.increment, self.inner.increment(key, expires_at, now))
    }
    pub(super) async fn increment_many(
        &self,
        counters: &[(&str, OffsetDateTime)],
        now: OffsetDateTime,
    ) -> Result<Vec<Counter>, BackendError> {
        timed!(self, store.increment_many, self.inner.increment_many(counters, now))
    }
    pub(super) async fn delete(&self, key: &str) -> Result<(), BackendError> {
        timed!(self, store.delete, self.inner.delete(key))
    }
    pub(super) async fn get_linked(
        &self,
        key: &str,
        prefixes: &[&str],
        now: OffsetDateTime,
    ) -> Result<(Option<StoredValue>, Vec<Option<StoredValue>>), BackendError> {
        timed!(self, store.get_linked, self.inner.get_linked(key, prefixes, now))
    }
    pub(super) async fn apply_after(
        &self,
        first: &Put<'_>,
        batch: &Batch<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<BatchOutcome>, BackendError> {
        timed!(self, store.apply_after, self.inner.apply_after(first, batch, now))
    }
    pub(super) async fn apply(&self, batch: &Batch<'_>, now: OffsetDateTime) -> Result<BatchOutcome, BackendError> {
        timed!(self, store.apply, self.inner.apply(batch, now))
    }
}

impl TimedNotifier {
    /// A failure's text is the notifier's: it is cleared of the notice's PIN and full address
    /// here, where every notice is sent, before the engine logs or audits it.
    pub(super) async fn send(&self, notification: &Notification) -> Result<(), BackendError> {
        let sent = timed!(self, notifier.send, self.inner.send(notification));
        sent.map_err(|e| notification.redact_from(e))
    }
}

impl TimedAudit {
    pub(super) async fn record(&self, event: &AuditEvent) -> Result<(), BackendError> {
        timed!(self, audit.record, self.inner.record(event))
    }
    /// Unbounded: a queue in front of the sink may take long to drain at shutdown, and it
    /// is the host's to decide how long to wait for that.
    pub(super) async fn flush(&self) -> Result<(), BackendError> {
        timed!(self, unbounded audit.flush, self.inner.flush())
    }
}
