//! Server-side sessions: a random id in an HttpOnly, SameSite=Strict cookie, everything
//! else (the reset flow id, who signed in, the CSRF token) on the server. A session begins
//! only when a form leaves something to keep (anonymous pages use the stateless CSRF token
//! of `csrf.rs`), so visitors who only look cost nothing. Sessions end after an idle time and
//! after a maximum age; signing in and a verified PIN give a new id (no session fixation).
//! The table is bounded in all and per client address, and evicts the least recently used.
//!
//! Sessions live in process memory (`memory.rs`, the default) or, when the portal is
//! configured with a shared state store, in that store (`shared.rs`, sealed by `seal.rs`),
//! so that several instances behind a balancer without sticky sessions serve one visitor.

mod forward;
mod memory;
mod seal;
mod shared;

use std::net::{IpAddr, Ipv6Addr};

use serde::{Deserialize, Serialize};
use sspr_core::{CompletionMode, Locale, MethodOption};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

pub(crate) use forward::{Forwards, Found};
pub(crate) use memory::MemorySessions;
pub(crate) use seal::SessionKeys;
pub(crate) use shared::SharedSessions;

/// Where an anonymous reset stands, as far as the pages need to know. The engine keeps the
/// real state; this is only what to show next.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum ResetStage {
    /// Choose a method (and type the full address if asked).
    Methods {
        flow_id: String,
        methods: Vec<MethodOption>,
        /// The PIN already sent, when the user asked for a new one ("Send a new code"): still
        /// good until another is sent, so a refused send (the resend cooldown) goes back to it
        /// rather than leave the user no form to type the code on its way.
        #[serde(default)]
        earlier: Option<SentPin>,
    },
    /// A PIN was sent by `method`; enter it.
    PinSent {
        flow_id: String,
        methods: Vec<MethodOption>,
        method: String,
        masked: String,
        #[serde(with = "time::serde::timestamp")]
        expires_at: OffsetDateTime,
        attempts_left: u32,
    },
    /// The PIN was verified; choose how to complete.
    Verified { flow_id: String, modes: Vec<CompletionMode> },
}

/// A PIN sent, as the PIN form shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SentPin {
    pub(crate) method: String,
    pub(crate) masked: String,
    #[serde(with = "time::serde::timestamp")]
    pub(crate) expires_at: OffsetDateTime,
    pub(crate) attempts_left: u32,
}

impl SentPin {
    /// The PIN form's stage again, for this PIN of `flow_id`.
    pub(crate) fn into_stage(self, flow_id: String, methods: Vec<MethodOption>) -> ResetStage {
        let Self { method, masked, expires_at, attempts_left } = self;
        ResetStage::PinSent { flow_id, methods, method, masked, expires_at, attempts_left }
    }
}

/// A user signed in with their directory credentials.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SignedUser {
    pub(crate) login: String,
    pub(crate) display_name: String,
    pub(crate) must_change: bool,
}

/// A new contact waiting for the code sent to it (`/passwordnotification`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingContactProof {
    /// Names the engine's pending proof (not a secret: the code is).
    pub(crate) proof_id: String,
    /// Where the code went, masked, to say so on the page.
    pub(crate) masked: String,
    /// A second new contact from the same form, proven after this one (one proof is
    /// pending per user at a time).
    pub(crate) queued: Option<(sspr_core::Channel, String)>,
}

/// A message for the next page (post/redirect/get).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Flash {
    pub(crate) error: bool,
    pub(crate) text: String,
}

/// What a session holds besides its CSRF token.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct SessionData {
    pub(crate) reset: Option<ResetStage>,
    pub(crate) user: Option<SignedUser>,
    pub(crate) admin: Option<SignedUser>,
    pub(crate) flash: Option<Flash>,
    /// An OpenID Connect sign-in under way (state, nonce, PKCE verifier, what it is for),
    /// taken once.
    #[serde(default)]
    pub(crate) oidc: Option<crate::pages::oidc::PendingOidc>,
    /// A new contact of the signed-in user waiting for its code.
    #[serde(default)]
    pub(crate) contact_proof: Option<PendingContactProof>,
}

/// One session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) csrf: String,
    created: OffsetDateTime,
    last_seen: OffsetDateTime,
    pub(crate) data: SessionData,
    /// Where its record stands in the shared store (shared sessions only): a save is a
    /// compare-and-set on its version.
    stored: Option<shared::Stored>,
}

impl Session {
    /// Whether `token` is this session's CSRF token (constant time).
    pub(crate) fn csrf_matches(&self, token: &str) -> bool {
        !token.is_empty() && bool::from(self.csrf.as_bytes().ct_eq(token.as_bytes()))
    }

    /// Take the flash message, if any.
    pub(crate) fn take_flash(&mut self) -> Option<Flash> {
        self.data.flash.take()
    }

    /// Leave a message for the next page.
    pub(crate) fn flash(&mut self, error: bool, text: impl Into<String>) {
        self.data.flash = Some(Flash { error, text: text.into() });
    }
}

/// The client address a session counts against: an IPv4 address, or an IPv6 address's /64
/// (one host usually holds a whole /64, so counting single IPv6 addresses would not bound it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ClientKey(pub(super) Option<IpAddr>);

impl ClientKey {
    pub(crate) fn of(ip: Option<IpAddr>) -> Self {
        Self(ip.map(|ip| match ip {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
            },
        }))
    }
}

/// `N` random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    use rand_core::TryRngCore;
    let mut bytes = [0u8; N];
    // The OS generator failing is not recoverable for a web server: every token would be
    // guessable. Abort the process rather than hand out a weak token.
    if rand_core::OsRng.try_fill_bytes(&mut bytes).is_err() {
        tracing::error!("the operating system's random generator failed");
        std::process::abort();
    }
    bytes
}

/// 32 random bytes from the operating system, as hex.
pub(crate) fn random_token() -> String {
    random_bytes::<32>().iter().map(|b| format!("{b:02x}")).collect()
}

/// The shared session store failed: the visitor is told the service is unavailable.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unavailable;

/// Where the sessions live.
#[derive(Debug, Clone)]
pub(crate) enum Sessions {
    /// In this process (one instance, or a balancer with sticky sessions).
    Memory(MemorySessions),
    /// In the shared state store (any instance serves any visitor).
    Shared(SharedSessions),
}

impl Sessions {
    /// The live session with this id (its idle timer restarts).
    pub(crate) async fn load(&self, id: &str) -> Result<Option<Session>, Unavailable> {
        match self {
            Self::Memory(m) => Ok(m.load(id)),
            Self::Shared(s) => s.load(id).await,
        }
    }

    /// A new session for a visitor at `client`, holding `data`, and its id. The CSRF token is
    /// `csrf` (the one the visitor's anonymous forms already carry) or a new one. When the
    /// client holds its share of sessions, its oldest one ends; nobody is refused.
    pub(crate) async fn create(
        &self,
        client: ClientKey,
        csrf: Option<String>,
        data: SessionData,
    ) -> Result<(String, Session), Unavailable> {
        match self {
            Self::Memory(m) => Ok(m.create(client, csrf, data)),
            Self::Shared(s) => s.create(None, client, csrf, data).await,
        }
    }

    /// Store the session's data under `id` (if it still exists); `client` is the visitor's
    /// address now, which a shared session that just made progress counts against.
    pub(crate) async fn save(&self, id: &str, client: ClientKey, session: &Session) -> Result<(), Unavailable> {
        match self {
            Self::Memory(m) => {
                m.save(id, session);
                Ok(())
            }
            Self::Shared(s) => s.save(id, client, session).await,
        }
    }

    /// End the session `id` (if any) and move its data to a new id with a new CSRF token (at
    /// sign-in, sign-out and a verified PIN, so an id known before cannot ride along). In the
    /// shared store the old id ends for every instance in the same store call that makes the
    /// new one.
    pub(crate) async fn rotate(
        &self,
        id: Option<&str>,
        client: ClientKey,
        session: &Session,
    ) -> Result<(String, Session), Unavailable> {
        match self {
            Self::Memory(m) => Ok(m.rotate(id, client, session)),
            Self::Shared(s) => s.create(id, client, None, session.data.clone()).await,
        }
    }

    /// Drop idle sessions held in memory (the shared store expires its own).
    pub(crate) fn sweep(&self) {
        if let Self::Memory(m) = self {
            m.sweep();
        }
    }

    /// Sessions held in this process's memory (0 when they live in the shared store).
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Memory(m) => m.len(),
            Self::Shared(_) => 0,
        }
    }
}

impl SessionData {
    /// Whether the visitor got somewhere a fresh session cannot cheaply get to: a PIN sent
    /// (or verified) on a reset, a sign-in, a contact's code sent. Such sessions are ended
    /// last when an address holds its share of the table: anyone can make fresh sessions by
    /// the thousand, while these take a send or a sign-in, which the engine limits per client.
    pub(crate) fn made_progress(&self) -> bool {
        let reset = match &self.reset {
            Some(ResetStage::PinSent { .. } | ResetStage::Verified { .. }) => true,
            Some(ResetStage::Methods { earlier, .. }) => earlier.is_some(),
            None => false,
        };
        reset || self.user.is_some() || self.admin.is_some() || self.contact_proof.is_some()
    }

    /// Whether there is anything to keep on the server (else no session is needed).
    pub(crate) fn is_empty(&self) -> bool {
        self.reset.is_none()
            && self.user.is_none()
            && self.admin.is_none()
            && self.flash.is_none()
            && self.oidc.is_none()
    }
}

impl Session {
    /// The stand-in session of a visitor without a server session: nothing in it, and the
    /// anonymous CSRF token for its forms.
    pub(crate) fn anonymous(csrf: String, now: OffsetDateTime) -> Self {
        Self { csrf, created: now, last_seen: now, data: SessionData::default(), stored: None }
    }
}

/// The language of a request.
pub(crate) fn locale_of(headers: &axum::http::HeaderMap) -> Locale {
    headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Locale::En, Locale::from_accept_language)
}
