"""Type stubs of ``sspr.backends``: the real backends of this build."""

import os
from typing import Any, Dict, List, Literal, Optional, Union

from . import _sspr
from ._sspr import Secret

class SqliteStore:
    """Contact and state store in one SQLite file (in memory when ``path`` is None)."""

    def __init__(self, path: Optional[Union[str, os.PathLike[str]]] = None, *, busy_timeout_ms: int = 5000) -> None: ...

class RedisStore:
    """State store in Redis, shared by several portal instances."""

    def __init__(
        self,
        url: str,
        *,
        key_prefix: str = "sspr:",
        ca_file: Optional[str] = None,
        client_cert_file: Optional[str] = None,
        client_key_file: Optional[str] = None,
        allow_plaintext: bool = False,
        connect_timeout_ms: int = 2000,
        response_timeout_ms: int = 2000,
        expiry_grace_secs: int = 60,
    ) -> None: ...

class PostgresStore:
    """Contact and state store in PostgreSQL, shared by several portal instances."""

    def __init__(
        self,
        url: str,
        *,
        ca_file: Optional[str] = None,
        pool_size: int = 4,
        connect_timeout_ms: int = 5000,
        query_timeout_ms: int = 5000,
        sweep_interval_secs: int = 60,
    ) -> None: ...

class LdapDirectory:
    """OpenLDAP or Active Directory."""

    def __init__(
        self,
        *,
        url: str,
        base_dn: str,
        bind_dn: str,
        bind_password: Union[str, Secret],
        flavor: Literal["openldap", "active_directory"] = "openldap",
        starttls: bool = False,
        ca_file: Optional[str] = None,
        allow_plaintext: bool = False,
        login_attribute: Optional[str] = None,
        display_name_attribute: Optional[str] = None,
        user_filter: Optional[str] = None,
        group_base_dn: Optional[str] = None,
        password_policy_dn: Optional[str] = None,
        pool_size: int = 8,
        sign_in_connections: int = 8,
        connect_timeout_secs: int = 5,
        operation_timeout_secs: int = 10,
    ) -> None: ...

class LdapContactStore:
    """Contacts kept in attributes of the user's directory entry."""

    def __init__(
        self,
        directory: LdapDirectory,
        *,
        email_attribute: str = "otherMailbox",
        phone_attribute: str = "mobile",
        enabled_attribute: Optional[str] = None,
        record_attribute: Optional[str] = None,
        record_key: Union[str, Secret, None] = None,
        changed_contact_cooling_off_secs: int = 86400,
        enabled_by_default: bool = False,
    ) -> None: ...

class SmtpNotifier:
    """Sends notices by e-mail through an SMTP relay (``from_`` or ``sender``: the sender)."""

    def __init__(
        self,
        *,
        host: str,
        from_: str = ...,
        sender: str = ...,
        port: Optional[int] = None,
        tls: Literal["starttls", "implicit", "none"] = "starttls",
        username: Optional[str] = None,
        password: Optional[Union[str, Secret]] = None,
        ca_file: Optional[str] = None,
        allow_plaintext: bool = False,
        timeout_ms: int = ...,
        pool_size: int = ...,
    ) -> None: ...

class TwilioNotifier:
    """SMS through Twilio's Messages API (or a compatible gateway at ``base_url``)."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: Union[str, Secret],
        from_: Optional[str] = None,
        messaging_service_sid: Optional[str] = None,
        base_url: str = "https://api.twilio.com",
        timeout_ms: int = ...,
        connect_retries: int = ...,
        ca_file: Optional[str] = None,
        allow_insecure_http: bool = False,
    ) -> None: ...

class WebhookNotifier:
    """Notices as signed JSON POSTs to any gateway."""

    def __init__(
        self,
        *,
        url: str,
        key: Union[str, Secret],
        timeout_ms: int = 10000,
        connect_retries: int = 2,
        ca_file: Optional[str] = None,
        allow_insecure_http: bool = False,
    ) -> None: ...

class ConfiguredBackends:
    """Every backend of an engine, from ``from_config``: pass them to ``Sspr``/``BlockingSspr``."""

    @property
    def directory(self) -> Any: ...
    @property
    def contacts(self) -> Any: ...
    @property
    def store(self) -> Any: ...
    @property
    def notifier(self) -> Any: ...
    @property
    def audit(self) -> Optional[Any]: ...
    @property
    def outbox(self) -> Optional[_sspr.Outbox]: ...
    @property
    def memory_directory(self) -> Optional[_sspr.MemoryDirectory]: ...
    @property
    def password_checkers(self) -> List[Any]: ...
    @property
    def bot_challenge(self) -> Optional[Any]: ...
    @property
    def state_is_shared(self) -> bool:
        """Whether the state store is shared by several processes (SQLite, Redis, PostgreSQL)."""
        ...

def from_config(
    config: Union[Dict[str, Any], str, os.PathLike[str]], *, data_dir: Optional[Union[str, os.PathLike[str]]] = None
) -> ConfiguredBackends: ...
def available() -> List[str]: ...
