"""Type stubs of the native module ``sspr._sspr`` (re-exported by ``sspr``)."""

import datetime
from types import ModuleType
from typing import Any, Callable, Coroutine, Dict, List, Literal, Mapping, NoReturn, Optional, Sequence, Tuple, TypeVar, Union, final

from typing_extensions import Concatenate, ParamSpec

from .protocols import AuditSink, ContactStore, Directory, Notifier, StateStore

Channel = Literal["email", "sms"]
Mode = Literal["temporary", "chosen", "unlock_only"]
#: A language sspr speaks (notices and the web pages' catalogue).
Locale = Literal["en", "de", "fr", "es", "it", "nl"]
HookEventName = Literal[
    "reset_completed",
    "user_blocked",
    "contacts_changed",
    "privileged_attempt_refused",
    "delivery_failed",
    "failure_alarm",
]
SecretLike = Union[str, "Secret"]

backends: ModuleType

_P = ParamSpec("_P")
_R = TypeVar("_R")

@final
class Secret:
    """A secret: ``repr``/``str`` never show it, ``reveal()`` does."""

    def __init__(self, value: str) -> None: ...
    def reveal(self) -> str: ...
    def __len__(self) -> int: ...
    def __bool__(self) -> bool: ...

@final
class RequestContext:
    """Client IP, user agent and language of a request; and the host's span (a W3C ``traceparent``, from the
    host's own OpenTelemetry context) the engine call's span is the child of. A malformed ``traceparent`` is
    ignored, never an error. ``locale`` is a language tag the user chose (``"de"``, ``"fr-CA"``; one sspr does
    not speak is ``InvalidInput``), read back as the language served."""

    def __init__(
        self,
        client_ip: Optional[str] = None,
        user_agent: Optional[str] = None,
        locale: Optional[str] = None,
        accept_language: Optional[str] = None,
        traceparent: Optional[str] = None,
    ) -> None: ...
    @property
    def client_ip(self) -> Optional[str]: ...
    @property
    def user_agent(self) -> Optional[str]: ...
    @property
    def locale(self) -> Literal["en", "de", "fr", "es", "it", "nl"]: ...
    @property
    def traceparent(self) -> Optional[str]:
        """The ``traceparent`` given, if it was valid."""

@final
class MethodOption:
    @property
    def id(self) -> str: ...
    @property
    def channel(self) -> Channel: ...
    @property
    def masked(self) -> str: ...
    @property
    def needs_confirmation(self) -> bool: ...

@final
class ResetChallenge:
    @property
    def flow_id(self) -> str: ...
    @property
    def methods(self) -> List[MethodOption]: ...
    @property
    def expires_at(self) -> datetime.datetime: ...

@final
class ContactProof:
    @property
    def proof_id(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def masked(self) -> str: ...
    @property
    def expires_at(self) -> datetime.datetime: ...

@final
class RecoveryCode:
    """A helpdesk recovery code (``admin_recovery``): show ``code.reveal()`` to the
    administrator once."""

    @property
    def code(self) -> Secret: ...
    @property
    def expires_at(self) -> datetime.datetime: ...

@final
class RecoverySent:
    """A helpdesk recovery code sent to the user's contact (``admin_send_recovery_code``)."""

    @property
    def channel(self) -> str: ...
    @property
    def masked(self) -> str: ...
    @property
    def expires_at(self) -> datetime.datetime: ...

@final
class Recovered:
    """A redeemed recovery code (``redeem_recovery_code``): a reset flow at the verified step."""

    @property
    def flow_id(self) -> str: ...
    @property
    def modes(self) -> List[Mode]: ...
    @property
    def expires_at(self) -> datetime.datetime: ...

@final
class PinSent:
    @property
    def expires_at(self) -> datetime.datetime: ...
    @property
    def resend_after(self) -> datetime.datetime: ...
    @property
    def attempts_left(self) -> int: ...

@final
class Verified:
    @property
    def modes(self) -> List[Mode]: ...
    @property
    def remaining_methods(self) -> List[str]: ...

@final
class ResetOutcome:
    @property
    def temporary_password(self) -> Optional[Secret]: ...
    @property
    def must_change(self) -> bool: ...
    @property
    def unlocked(self) -> bool: ...

@final
class ContactView:
    @property
    def value(self) -> str: ...
    @property
    def masked(self) -> str: ...
    @property
    def usable_from(self) -> datetime.datetime: ...

@final
class Contacts:
    @property
    def email(self) -> Optional[ContactView]: ...
    @property
    def phone(self) -> Optional[ContactView]: ...
    @property
    def confirm_due(self) -> bool: ...

@final
class EnrollmentEntry:
    @property
    def user_id(self) -> str: ...
    @property
    def login(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def eligible(self) -> bool: ...
    @property
    def privileged(self) -> bool: ...
    @property
    def account_disabled(self) -> bool: ...
    @property
    def email_masked(self) -> Optional[str]: ...
    @property
    def phone_masked(self) -> Optional[str]: ...
    @property
    def has_directory_mail(self) -> bool: ...
    @property
    def contacts_confirmed_at(self) -> Optional[datetime.datetime]: ...
    @property
    def last_reset_at(self) -> Optional[datetime.datetime]: ...
    @property
    def blocked_until(self) -> Optional[datetime.datetime]: ...
    @property
    def without_contacts(self) -> bool: ...
    @property
    def stale(self) -> bool: ...
    @property
    def never_used(self) -> bool: ...
    @property
    def blocked(self) -> bool: ...

@final
class EnrollmentCounts:
    @property
    def users(self) -> int: ...
    @property
    def enabled(self) -> int: ...
    @property
    def registered(self) -> int: ...
    @property
    def without_contacts(self) -> int: ...
    @property
    def stale(self) -> int: ...
    @property
    def never_used(self) -> int: ...
    @property
    def blocked(self) -> int: ...
    @property
    def privileged(self) -> int: ...
    @property
    def without_mail(self) -> int: ...

@final
class EnrollmentReport:
    @property
    def generated_at(self) -> datetime.datetime: ...
    @property
    def stale_after_days(self) -> int: ...
    @property
    def counts(self) -> EnrollmentCounts: ...
    @property
    def users(self) -> List[EnrollmentEntry]: ...
    @property
    def truncated(self) -> bool: ...

@final
class ReminderRun:
    @property
    def reminded(self) -> List[str]: ...
    @property
    def already_reminded(self) -> int: ...
    @property
    def without_mail(self) -> int: ...
    @property
    def skipped_privileged(self) -> int: ...
    @property
    def skipped_ineligible(self) -> int: ...
    @property
    def failed(self) -> int: ...

@final
class UserStatus:
    @property
    def user_id(self) -> str: ...
    @property
    def login(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def eligible(self) -> bool: ...
    @property
    def privileged(self) -> bool: ...
    @property
    def account_disabled(self) -> bool: ...
    @property
    def account_locked(self) -> bool: ...
    @property
    def email_masked(self) -> Optional[str]: ...
    @property
    def phone_masked(self) -> Optional[str]: ...
    @property
    def blocked_until(self) -> Optional[datetime.datetime]: ...
    @property
    def last_reset_at(self) -> Optional[datetime.datetime]: ...

@final
class ChallengeWidget:
    @property
    def provider(self) -> str: ...
    @property
    def site_key(self) -> str: ...
    @property
    def script_url(self) -> str: ...
    @property
    def widget_class(self) -> str: ...
    @property
    def response_field(self) -> str: ...
    @property
    def always(self) -> bool: ...
    def csp(self, base: str) -> str: ...

@final
class PasswordRules:
    @property
    def min_length(self) -> Optional[int]: ...
    @property
    def history_length(self) -> Optional[int]: ...
    @property
    def complexity(self) -> Optional[bool]: ...
    @property
    def min_age_secs(self) -> Optional[int]: ...

@final
class SignedIn:
    @property
    def user_id(self) -> str: ...
    @property
    def login(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def must_change(self) -> bool: ...

@final
class DirectoryUser:
    def __init__(
        self,
        id: str,
        login: str,
        display_name: str,
        dn: str,
        groups: List[str] = ...,
        *,
        disabled: bool = False,
        expired: bool = False,
        locked: bool = False,
        mail: Optional[str] = None,
    ) -> None: ...
    @property
    def id(self) -> str: ...
    @property
    def login(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def dn(self) -> str: ...
    @property
    def groups(self) -> List[str]: ...
    @property
    def disabled(self) -> bool: ...
    @property
    def expired(self) -> bool: ...
    @property
    def locked(self) -> bool: ...
    @property
    def mail(self) -> Optional[str]: ...

@final
class StoredContactView:
    @property
    def value(self) -> str: ...
    @property
    def added_at(self) -> datetime.datetime: ...
    @property
    def usable_from(self) -> datetime.datetime: ...

@final
class Enrollment:
    @property
    def enabled(self) -> bool: ...
    @property
    def email(self) -> Optional[StoredContactView]: ...
    @property
    def phone(self) -> Optional[StoredContactView]: ...
    @property
    def last_reset_at(self) -> Optional[datetime.datetime]: ...
    @property
    def version(self) -> int: ...
    @property
    def history(self) -> Optional[str]: ...
    @staticmethod
    def from_parts(
        enabled: bool,
        email: Optional[Tuple[str, datetime.datetime, datetime.datetime]] = None,
        phone: Optional[Tuple[str, datetime.datetime, datetime.datetime]] = None,
        last_reset_at: Optional[datetime.datetime] = None,
        history: Optional[str] = None,
        version: int = 0,
    ) -> "Enrollment":
        """A record from the parts a store keeps in its own columns, checked (``BackendError``,
        kind ``"rejected"``, naming the part that does not hold)."""
    def with_version(self, version: int) -> "Enrollment": ...
    def to_json(self) -> str: ...
    @staticmethod
    def from_json(text: str) -> "Enrollment": ...

@final
class Notification:
    @property
    def channel(self) -> Channel: ...
    @property
    def to(self) -> str: ...
    @property
    def masked_to(self) -> str: ...
    @property
    def locale(self) -> Literal["en", "de", "fr", "es", "it", "nl"]: ...
    @property
    def kind(
        self,
    ) -> Literal[
        "pin",
        "contact_proof",
        "recovery_code",
        "reset_requested",
        "password_reset",
        "contacts_changed",
        "password_changed",
        "registration_reminder",
        "helpdesk_recovery",
        "admin_alert",
        "other",
    ]: ...
    @property
    def at(self) -> datetime.datetime: ...
    @property
    def pin(self) -> Optional[Secret]: ...
    @property
    def subject(self) -> str: ...
    def text(self) -> str: ...

@final
class Policy:
    """The reset policy; every field has the core's default and range."""

    def __init__(
        self,
        *,
        pin_length: int = 8,
        pin_lifetime_secs: int = 600,
        flow_lifetime_secs: int = 900,
        max_wrong_pins: int = 5,
        resend_cooldown_secs: int = 60,
        max_pins_per_flow: int = 3,
        user_sends_per_hour: int = 5,
        user_failures_before_block: int = 20,
        client_failures_before_block: int = 5,
        failures_before_delay: int = 5,
        failure_delay_secs: int = 60,
        max_failure_delay_secs: int = 3600,
        failure_window_secs: int = 86400,
        block_secs: int = 86400,
        ip_begins_per_hour: int = 30,
        ip_sends_per_hour: int = 20,
        sign_in_failures_before_lockout: int = 5,
        sign_in_lockout_secs: int = 900,
        ip_sign_ins_per_hour: int = 60,
        destination_sends_per_hour: int = 5,
        sms_budget_per_hour: int = 100,
        sms_budget_reserve_percent: int = 20,
        failure_alarm_per_hour: int = 100,
        sms_enabled: bool = False,
        confirm_full_address: bool = False,
        min_response_ms: int = 300,
        temp_password_length: int = 16,
        min_temp_password_entropy_bits: int = 80,
        allow_chosen_password: bool = False,
        chosen_password_min_length: int = 8,
        password_min_score: int = 3,
        organisation_name: str = "",
        password_check_fail_open: bool = False,
        allow_unlock_only: bool = True,
        contact_cooling_off_secs: int = 86400,
        user_contacts_need_proof: bool = True,
        admin_contacts_need_proof: bool = False,
        contact_proofs_per_hour: int = 5,
        reconfirm_after_days: int = 0,
        registration_url: str = "",
        time_zone: str = "UTC",
        reminder_interval_days: int = 7,
        admin_alert_addresses: List[str] = ...,
        admin_alert_interval_minutes: int = 60,
        eligible_ous: List[str] = ...,
        eligible_groups: List[str] = ...,
        eligible_administrative_units: List[str] = ...,
        privileged_groups: List[str] = ...,
        privileged_mode: Literal["refuse", "two_methods"] = "refuse",
        decoy_country_codes: List[str] = ...,
        default_region: Optional[str] = None,
        decoy_email_tlds: List[str] = ...,
        decoy_email_initials: Dict[str, int] = ...,
        decoy_domain_initials: Dict[str, int] = ...,
    ) -> None: ...
    @staticmethod
    def from_dict(fields: Dict[str, Any]) -> "Policy": ...
    @staticmethod
    def from_toml(text: str) -> "Policy": ...
    @staticmethod
    def from_json(text: str) -> "Policy": ...
    def to_dict(self) -> Dict[str, Any]: ...
    def to_toml(self) -> str: ...
    def replace(self, **fields: Any) -> "Policy": ...
    pin_length: int
    pin_lifetime_secs: int
    flow_lifetime_secs: int
    max_wrong_pins: int
    resend_cooldown_secs: int
    max_pins_per_flow: int
    user_sends_per_hour: int
    user_failures_before_block: int
    client_failures_before_block: int
    failures_before_delay: int
    failure_delay_secs: int
    max_failure_delay_secs: int
    failure_window_secs: int
    block_secs: int
    ip_begins_per_hour: int
    ip_sends_per_hour: int
    sign_in_failures_before_lockout: int
    sign_in_lockout_secs: int
    ip_sign_ins_per_hour: int
    destination_sends_per_hour: int
    sms_budget_per_hour: int
    sms_budget_reserve_percent: int
    failure_alarm_per_hour: int
    sms_enabled: bool
    confirm_full_address: bool
    min_response_ms: int
    temp_password_length: int
    min_temp_password_entropy_bits: int
    allow_chosen_password: bool
    chosen_password_min_length: int
    password_min_score: int
    organisation_name: str
    password_check_fail_open: bool
    allow_unlock_only: bool
    contact_cooling_off_secs: int
    user_contacts_need_proof: bool
    admin_contacts_need_proof: bool
    contact_proofs_per_hour: int
    reconfirm_after_days: int
    registration_url: str
    time_zone: str
    reminder_interval_days: int
    admin_alert_addresses: List[str]
    admin_alert_interval_minutes: int
    eligible_ous: List[str]
    eligible_groups: List[str]
    eligible_administrative_units: List[str]
    privileged_groups: List[str]
    privileged_mode: Literal["refuse", "two_methods"]
    decoy_country_codes: List[str]
    default_region: Optional[str]
    decoy_email_tlds: List[str]
    decoy_email_initials: Dict[str, int]
    decoy_domain_initials: Dict[str, int]

@final
class MemoryDirectory:
    def __init__(self) -> None: ...
    @staticmethod
    def from_json(text: str) -> "MemoryDirectory": ...
    def add(
        self,
        login: str,
        display_name: str,
        dn: str,
        groups: List[str] = ...,
        *,
        password: Optional[SecretLike] = None,
        disabled: bool = False,
        expired: bool = False,
        locked: bool = False,
        mail: Optional[str] = None,
    ) -> None: ...
    def set_state(self, login: str, *, disabled: bool = False, expired: bool = False, locked: bool = False) -> bool: ...
    def users(self) -> List[DirectoryUser]: ...
    def check_password(self, user_id: str, password: SecretLike) -> Optional[bool]: ...
    def password_state(self, user_id: str) -> Optional[bool]: ...
    def __len__(self) -> int: ...

@final
class Outbox:
    def __init__(self) -> None: ...
    def messages(self) -> List[Notification]: ...
    def messages_to(self, address: str) -> List[Notification]: ...
    def last_pin_to(self, address: str) -> Optional[Secret]: ...
    def last_proof_code_to(self, address: str) -> Optional[Secret]: ...
    def clear(self) -> None: ...
    def __len__(self) -> int: ...

@final
class MemoryContactStore:
    def __init__(self) -> None: ...

@final
class MemoryStateStore:
    def __init__(self) -> None: ...
    def __len__(self) -> int: ...

@final
class MemoryAuditSink:
    def __init__(self) -> None: ...
    def events(self) -> List[Dict[str, Any]]: ...
    def __len__(self) -> int: ...

@final
class ManualClock:
    def __init__(self, start: datetime.datetime) -> None: ...
    def advance(self, seconds: float) -> None: ...
    def set(self, to: datetime.datetime) -> None: ...
    def now(self) -> datetime.datetime: ...

from .backends import LdapContactStore, LdapDirectory, PostgresStore, RedisStore, SmtpNotifier, SqliteStore, TwilioNotifier, WebhookNotifier

DirectoryArg = Union[MemoryDirectory, LdapDirectory, Directory]
NotifierArg = Union[Outbox, SmtpNotifier, TwilioNotifier, WebhookNotifier, "ChannelNotifier", Notifier]

@final
class ChannelNotifier:
    """E-mail notices to ``email``, SMS to ``sms``."""

    def __init__(self, *, email: Optional[NotifierArg] = None, sms: Optional[NotifierArg] = None) -> None: ...
ContactsArg = Union[MemoryContactStore, SqliteStore, PostgresStore, LdapContactStore, ContactStore]
StoreArg = Union[MemoryStateStore, SqliteStore, RedisStore, PostgresStore, StateStore]
AuditArg = Union[MemoryAuditSink, AuditSink]

class _Engine:
    """What both engine classes have: their construction and the values read at once.
    (A base of the stubs only: at run time each class has these itself.)"""

    def __init__(
        self,
        directory: DirectoryArg,
        notifier: NotifierArg,
        *,
        secret_key: Union[bytes, str],
        previous_keys: Sequence[Union[bytes, str]] = ...,
        contacts: Optional[ContactsArg] = None,
        store: Optional[StoreArg] = None,
        audit: Optional[AuditArg] = None,
        policy: Optional[Policy] = None,
        clock: Optional[ManualClock] = None,
        rng_seed: Optional[Union[bytes, str]] = None,
        password_checkers: Sequence[Any] = ...,
        hooks: Optional[Mapping[HookEventName, Callable[[HookEventName, Dict[str, Any]], Any]]] = None,
        metrics: bool = False,
        bot_challenge: Optional[Any] = None,
    ) -> None: ...
    @property
    def policy(self) -> Policy: ...
    def completion_modes(self) -> List[Mode]: ...
    def challenge_widget(self) -> Optional[ChallengeWidget]:
        """What a page needs to show the bot challenge's widget, or ``None`` when the engine has
        none (the pages then stay script-free)."""
    def metrics_text(self) -> str:
        """The engine's metrics in the Prometheus text format (one registry per process,
        shared by every engine built with ``metrics=True``; empty while none is)."""

class _Operations:
    """Every engine operation, written once as ``BlockingSspr`` has it (blocking);
    ``Sspr`` has each as a coroutine (``_coroutine``), as the Rust side makes both from one
    declaration. (A base of the stubs only.)"""

    def flush_deliveries(self) -> None:
        """Wait until every PIN handed to the notifier so far is delivered (or its failure is in
        the audit trail): ``send_pin`` does not wait for a slow notifier."""
    def flush_audit(self) -> None:
        """Wait until every audit event recorded so far is stored by the audit sink. The
        ``audit`` sink of ``sspr.backends.from_config`` sits behind a queue: events still queued
        when the process exits are lost. At shutdown call ``flush_deliveries()``, then this.
        Raises ``BackendError`` (kind ``unavailable``) when the queue can no longer be drained."""
    def begin_reset(
        self, login: str, ctx: Optional[RequestContext] = None, challenge_token: Optional[str] = None
    ) -> ResetChallenge: ...
    def send_pin(
        self, flow_id: str, method_id: str, confirm: Optional[str] = None, ctx: Optional[RequestContext] = None
    ) -> PinSent: ...
    def verify_pin(self, flow_id: str, pin: SecretLike, ctx: Optional[RequestContext] = None) -> Verified: ...
    def complete_reset(
        self,
        flow_id: str,
        mode: Mode = "temporary",
        password: Optional[SecretLike] = None,
        ctx: Optional[RequestContext] = None,
    ) -> ResetOutcome: ...
    def contacts(self, login: str) -> Contacts: ...
    def admin_contacts(
        self, login: str, *, admin: Optional[str] = None, ctx: Optional[RequestContext] = None
    ) -> Contacts: ...
    def update_contacts(
        self,
        login: str,
        email: Optional[str] = None,
        phone: Optional[str] = None,
        *,
        clear_email: bool = False,
        clear_phone: bool = False,
        admin: Optional[str] = None,
        ctx: Optional[RequestContext] = None,
    ) -> Contacts: ...
    def set_enabled(
        self, login: str, enabled: bool, *, admin: Optional[str] = None, ctx: Optional[RequestContext] = None
    ) -> None: ...
    def status(self, login: str) -> UserStatus: ...
    def sign_in(self, login: str, password: SecretLike, ctx: Optional[RequestContext] = None) -> SignedIn: ...
    def sign_in_self_service(
        self, login: str, password: SecretLike, ctx: Optional[RequestContext] = None
    ) -> SignedIn: ...
    def change_password(
        self, login: str, current: SecretLike, new: SecretLike, ctx: Optional[RequestContext] = None
    ) -> None: ...
    def password_rules(self) -> PasswordRules: ...
    def check_privileged_groups(self) -> None:
        """Check now that the directory shows who is in ``privileged_groups`` (done anyway before
        the first lookup; every user is treated as privileged while it cannot). Raises
        ``BackendError`` naming the group and the access the service account lacks."""
    def request_contact_proof(
        self, login: str, channel: str, value: str, *, admin: Optional[str] = None, ctx: Optional[RequestContext] = None
    ) -> ContactProof: ...
    def confirm_contact_proof(
        self,
        login: str,
        proof_id: str,
        code: SecretLike,
        *,
        admin: Optional[str] = None,
        ctx: Optional[RequestContext] = None,
    ) -> Contacts: ...
    def search_users(self, query: str, limit: int = 50) -> List[UserStatus]: ...
    def unblock(self, login: str, *, admin: Optional[str] = None, ctx: Optional[RequestContext] = None) -> None: ...
    def enrollment_report(
        self,
        *,
        admin: Optional[str] = None,
        ous: List[str] = ...,
        groups: List[str] = ...,
        stale_after_days: Optional[int] = None,
        ctx: Optional[RequestContext] = None,
    ) -> EnrollmentReport: ...
    def send_registration_reminders(
        self,
        *,
        admin: Optional[str] = None,
        ous: List[str] = ...,
        groups: List[str] = ...,
        stale_after_days: Optional[int] = None,
        ctx: Optional[RequestContext] = None,
    ) -> ReminderRun: ...
    def confirm_contacts(
        self, login: str, *, admin: Optional[str] = None, ctx: Optional[RequestContext] = None
    ) -> Contacts: ...
    def admin_recovery(
        self, login: str, *, admin: Optional[str] = None, ctx: Optional[RequestContext] = None
    ) -> RecoveryCode: ...
    def admin_send_recovery_code(
        self, login: str, channel: str, *, admin: Optional[str] = None, ctx: Optional[RequestContext] = None
    ) -> RecoverySent: ...
    def redeem_recovery_code(
        self, login: str, code: SecretLike, ctx: Optional[RequestContext] = None
    ) -> Recovered: ...

def _coroutine(
    operation: Callable[Concatenate[_Operations, _P], _R],
) -> Callable[Concatenate["Sspr", _P], Coroutine[Any, Any, _R]]:
    """The operation as ``Sspr`` has it: the same parameters, awaited."""

@final
class Sspr(_Engine):
    """The engine for asyncio: every operation is a coroutine."""

    def blocking(self) -> "BlockingSspr": ...
    flush_deliveries = _coroutine(_Operations.flush_deliveries)
    flush_audit = _coroutine(_Operations.flush_audit)
    begin_reset = _coroutine(_Operations.begin_reset)
    send_pin = _coroutine(_Operations.send_pin)
    verify_pin = _coroutine(_Operations.verify_pin)
    complete_reset = _coroutine(_Operations.complete_reset)
    contacts = _coroutine(_Operations.contacts)
    admin_contacts = _coroutine(_Operations.admin_contacts)
    update_contacts = _coroutine(_Operations.update_contacts)
    set_enabled = _coroutine(_Operations.set_enabled)
    status = _coroutine(_Operations.status)
    sign_in = _coroutine(_Operations.sign_in)
    sign_in_self_service = _coroutine(_Operations.sign_in_self_service)
    change_password = _coroutine(_Operations.change_password)
    password_rules = _coroutine(_Operations.password_rules)
    check_privileged_groups = _coroutine(_Operations.check_privileged_groups)
    request_contact_proof = _coroutine(_Operations.request_contact_proof)
    confirm_contact_proof = _coroutine(_Operations.confirm_contact_proof)
    search_users = _coroutine(_Operations.search_users)
    unblock = _coroutine(_Operations.unblock)
    enrollment_report = _coroutine(_Operations.enrollment_report)
    send_registration_reminders = _coroutine(_Operations.send_registration_reminders)
    confirm_contacts = _coroutine(_Operations.confirm_contacts)
    admin_recovery = _coroutine(_Operations.admin_recovery)
    admin_send_recovery_code = _coroutine(_Operations.admin_send_recovery_code)
    redeem_recovery_code = _coroutine(_Operations.redeem_recovery_code)

@final
class BlockingSspr(_Engine, _Operations):
    """The engine for scripts and threads: every operation blocks until done."""

    def asyncio(self) -> Sspr: ...

@final
class TraceExport:
    """The process's trace exporter (``export_traces``)."""

    def flush(self) -> None:
        """Send the spans batched so far now (blocks, GIL released). ``ConfigError`` when the collector could
        not be reached."""
    def shutdown(self) -> None:
        """Send what is batched and stop exporting (call it at exit, or the last batch is lost)."""

@final
class TrustedProxies:
    """The reverse proxies whose ``X-Forwarded-For`` is believed: addresses (``"10.0.0.5"``) and networks
    (``"10.0.0.0/8"``, ``"2001:db8::/32"``), parsed once by sspr-core (the portal's rule). ``ConfigError`` naming
    ``trusted_proxies`` and the entry for one that is neither."""

    def __init__(self, entries: Sequence[str] = ...) -> None: ...
    def client_ip(self, peer: Optional[str], forwarded: Sequence[str]) -> Optional[str]:
        """The client's address for the per-IP limits: ``peer`` (the TCP peer), or, when it is a trusted proxy,
        the nearest hop of the ``X-Forwarded-For`` values ``forwarded`` (each header line, in order) that is not
        a trusted proxy, read from the right and never past a hop that is not a clean address (``unknown``, an
        obfuscated form): what a client wrote itself is never read. A hop with a port or in brackets is its
        address; an IPv4-mapped address is its IPv4 address. ``None`` only when ``peer`` is not an IP address."""
    def __contains__(self, address: str) -> bool: ...
    def __bool__(self) -> bool: ...

def export_traces(
    endpoint: str,
    *,
    sample_ratio: Optional[float] = None,
    backend_spans: bool = False,
    service_name: str = "sspr",
) -> TraceExport:
    """Export the engine's spans of every engine of this process to ``endpoint``, an OTLP/HTTP traces URL
    (``http://collector:4318/v1/traces``). ``sample_ratio``: the share of traces kept when the call has no
    parent (``None``: the ``OTEL_TRACES_SAMPLER`` variables, else every trace); ``backend_spans``: a child span
    per backend call too (costly); ``service_name``: the resource's ``service.name``. Once per process: a
    second call raises ``ConfigError``."""

def page_text(
    locale: str, id: str, args: Optional[Mapping[str, Union[str, int, datetime.datetime]]] = None
) -> str:
    """Message ``id`` of the web pages' catalogue (sspr-core's ``locales/pages/*.ftl``, the portal's words) in
    the language ``locale`` names (``"de"``, ``"fr-CH"``), with ``args``: a ``str`` as it is, an ``int`` >= 0 as
    a count (it chooses the plural form), an aware ``datetime`` written for the language (``$at``: "1. Dezember
    2026 um 20:04 (UTC+1)"; ``$time``: "20:04 (UTC+1)"). ``InvalidInput`` (field ``locale`` or ``id``) for a
    language sspr does not have or a message the catalogue does not have; ``TypeError`` for another value."""

def negotiate_locale(accept_language: Optional[str], offered: Optional[Sequence[str]] = None) -> Locale:
    """The language to serve for an HTTP ``Accept-Language`` header (``None``: English), among ``offered``
    (``None``: all six), as the portal negotiates it: ``"de-CH, en;q=0.5"`` is ``"de"``; when none matches,
    English, or the first offered when English is not. ``InvalidInput`` (field ``locale``) when ``offered``
    names a language sspr does not have."""

def parse_name(kind: str, name: str) -> str:
    """The core's name for ``name``, a name of the kind ``kind`` (``"channel"``, ``"locale"``,
    ``"completion_mode"``, ``"not_allowed_reason"``, ``"backend_error_kind"``,
    ``"authentication"``, ``"password_refusal"``, ``"error_code"``), read by the core's rule
    (exact names; a locale is a language tag): ``InvalidInput`` naming the field otherwise."""

def generate_pins(seed_hex: str, digits: int, count: int) -> List[str]: ...
def pin_hash(key_hex: str, flow_id: str, pin: str) -> str: ...
def identity_tokens(login: str, display_name: str) -> List[str]: ...
def generate_temporary_passwords(seed_hex: str, length: int, tokens: List[str], count: int) -> List[str]: ...
def temp_password_entropy_bits(length: int) -> float: ...
def decoy_methods(key_hex: str, login: str, policy: Policy) -> List[Tuple[Channel, str]]: ...
def raise_error(case: str) -> NoReturn: ...
def normalize_login(login: str) -> str: ...
def normalize_email(address: str) -> str: ...
def normalize_phone(number: str, region: Optional[str] = None) -> str: ...
def mask_email(address: str) -> str: ...
def mask_phone(number: str, region: Optional[str] = None) -> str: ...
def rust_reference_flows(flows: int, users: int = 64) -> float: ...
