//! OpenID Connect sign-in against Microsoft Entra ID (or any provider that signs ID tokens
//! with RS256): the relying party's side of the authorization code flow with PKCE.
//!
//! App-only Graph cannot check a user's password, so a portal signs its users in here
//! instead: [`OidcClient::begin`] makes the authorization URL and the values to keep in the
//! visitor's session ([`PendingSignIn`]: `state`, `nonce`, the PKCE verifier), and
//! [`OidcClient::finish`] takes the code the provider sent back, redeems it at the token
//! endpoint with the verifier, and validates the ID token: signature (RS256 only, the key
//! named by `kid` in the provider's JWKS), issuer (the configured one, which the discovery
//! document must repeat), audience (the client id), nonce, expiry and not-before (two
//! minutes' leeway). Every endpoint from the discovery document must be `https` (or
//! loopback), like the issuer.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Client, Url};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sspr_core::{Clock, SystemClock};
use subtle::ConstantTimeEq;

use super::config::ClientSecret;
use crate::http;

/// How the portal signs users in with OpenID Connect.
///
/// ```
/// use sspr_backends::graph::OidcConfig;
/// let config: OidcConfig = toml::from_str(r#"
///     issuer = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0"
///     client_id = "6731de76-14a6-49ae-97bc-6eba6914391e"
///     client_secret = "kept out of Debug"
///     redirect_uri = "https://sspr.example.org/passwordnotification/oidc/callback"
/// "#).unwrap();
/// assert!(!format!("{config:?}").contains("kept out"));
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The issuer, exactly as its ID tokens name it (Entra:
    /// `https://login.microsoftonline.com/{tenant id}/v2.0`); the discovery document is read
    /// from `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// The portal's application (client) id: the ID token's audience.
    pub client_id: String,
    /// The portal application's client secret (token endpoint, `client_secret_post`).
    pub client_secret: ClientSecret,
    /// Where the provider sends the visitor back (registered with the application).
    pub redirect_uri: String,
    /// A PEM file with CA certificates to trust instead of the system's.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// How long one request to the provider may take, in milliseconds (default 10 000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// For a sign-in that must be fresh ([`OidcClient::begin_fresh`], the portal's `/admin`):
    /// how many seconds ago, at most, the user entered their credentials at the provider
    /// (OpenID Connect `max_age`; default 300). The ID token must then carry `auth_time`
    /// (Entra: add the optional claim `auth_time` to the ID token).
    #[serde(default = "default_fresh_sign_in_secs")]
    pub fresh_sign_in_secs: u64,
    /// For the portal on a directory other than Graph: the directory attribute that holds
    /// the provider's stable id of the user's account (the ID token's `oid` when it has one,
    /// else its `sub`), which must then equal [`OidcConfig::subject_prefix`] followed by that
    /// id. The client itself does not read it.
    #[serde(default)]
    pub subject_attribute: Option<String>,
    /// What the value of [`OidcConfig::subject_attribute`] starts with before the id (AD
    /// synchronised with Entra: `msDS-ExternalDirectoryObjectId` is `User_<oid>`). Default
    /// empty: the value is the id itself.
    #[serde(default)]
    pub subject_prefix: String,
    /// For the portal on a directory other than Graph: the operator states that no account
    /// at the provider can carry a username of its own choosing, so the ID token's
    /// `preferred_username` alone names the directory user. The client itself does not
    /// read it.
    #[serde(default)]
    pub trust_username: bool,
}

fn default_timeout_ms() -> u64 {
    10_000
}

fn default_fresh_sign_in_secs() -> u64 {
    300
}

/// Why a sign-in failed. The messages hold no token, code or secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    /// The configuration or the provider's discovery document is unusable.
    #[error("oidc configuration: {0}")]
    Config(String),
    /// The provider could not be reached or failed.
    #[error("oidc provider unavailable: {0}")]
    Unavailable(String),
    /// The answer does not prove who signed in: wrong `state`, a refused code, an ID token
    /// that does not validate (the reason says which check).
    #[error("oidc sign-in refused: {0}")]
    Refused(String),
}

/// What the portal keeps in the visitor's (sealed, server-side) session between
/// [`OidcClient::begin`] and [`OidcClient::finish`]. Used once.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingSignIn {
    state: String,
    nonce: String,
    verifier: String,
    /// A fresh sign-in's `max_age`, which the ID token's `auth_time` must meet.
    #[serde(default)]
    max_age: Option<u64>,
}

impl fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PendingSignIn([REDACTED])")
    }
}

/// Who signed in, from a validated ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// `sub`: the subject, stable for this application.
    pub subject: String,
    /// `oid`: the user's Entra object id (the [`super::GraphDirectory`] user id), if sent.
    pub object_id: Option<String>,
    /// `preferred_username` (Entra: the UPN), the login to look the user up by.
    pub username: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `auth_time`: when the user last entered their credentials at the provider (Unix
    /// seconds), if sent. Checked against `max_age` for a fresh sign-in.
    pub authenticated_at: Option<i64>,
}

/// The provider's discovery document (OpenID Connect Discovery 1.0 §3), the fields used.
#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

/// The endpoints, checked.
struct Endpoints {
    authorize: Url,
    token: Url,
    jwks: Url,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize, Clone)]
struct Jwk {
    #[serde(default)]
    kid: Option<String>,
    kty: String,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    aud: Audience,
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    nonce: Option<String>,
    sub: String,
    #[serde(default)]
    oid: Option<String>,
    #[serde(default)]
    preferred_username: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    auth_time: Option<i64>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    id_token: String,
}

/// Leeway for `exp`, `nbf` and `iat` against clock skew.
const LEEWAY: i64 = 120;

/// The relying party: discovery and keys are read once and cached (the keys again when a
/// token names a `kid` not among them: the provider rolled its keys).
pub struct OidcClient {
    config: OidcConfig,
    http: Client,
    endpoints: tokio::sync::OnceCell<Endpoints>,
    keys: tokio::sync::RwLock<Vec<Jwk>>,
    clock: Arc<dyn Clock>,
    random: SystemRandom,
}

impl fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcClient").field("config", &self.config).finish_non_exhaustive()
    }
}

/// A JSON body, or `None` (unreadable or another shape).
async fn read_json<T: serde::de::DeserializeOwned>(answer: reqwest::Response) -> Option<T> {
    // Discovery documents, key sets and token answers are a few kilobytes.
    let body = crate::http::body_within(answer, 1 << 20).await.ok()?;
    serde_json::from_slice(&body).ok()
}

fn unavailable(e: reqwest::Error) -> OidcError {
    OidcError::Unavailable(super::client::transport_error(e, "the OpenID provider").message().to_owned())
}

impl OidcClient {
    /// A client for `config` (checks the URLs; reads nothing from the provider yet).
    pub fn new(config: OidcConfig) -> Result<Self, OidcError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// The same, with the clock that judges token expiry.
    pub fn with_clock(config: OidcConfig, clock: Arc<dyn Clock>) -> Result<Self, OidcError> {
        let issuer = Url::parse(&config.issuer).map_err(|_| OidcError::Config("issuer is not a URL".into()))?;
        http::check_transport(&issuer, false, "issuer").map_err(|e| OidcError::Config(e.message().to_owned()))?;
        Url::parse(&config.redirect_uri).map_err(|_| OidcError::Config("redirect_uri is not a URL".into()))?;
        let http = http::client(
            config.ca_file.as_deref(),
            Duration::from_millis(config.timeout_ms),
            http::is_loopback(&issuer),
        )
        .map_err(|e| OidcError::Config(e.message().to_owned()))?;
        Ok(Self {
            config,
            http,
            endpoints: tokio::sync::OnceCell::new(),
            keys: tokio::sync::RwLock::new(Vec::new()),
            clock,
            random: SystemRandom::new(),
        })
    }

    async fn endpoints(&self) -> Result<&Endpoints, OidcError> {
        self.endpoints
            .get_or_try_init(|| async {
                let url = format!("{}/.well-known/openid-configuration", self.config.issuer.trim_end_matches('/'));
                let answer = self.http.get(url).send().await.map_err(unavailable)?;
                if !answer.status().is_success() {
                    return Err(OidcError::Unavailable(format!("discovery answered {}", answer.status())));
                }
                let doc: Discovery = read_json(answer)
                    .await
                    .ok_or_else(|| OidcError::Config("the discovery document is not valid".into()))?;
                // OpenID Connect Discovery 1.0 §4.3: the issuer must be the one asked for.
                if doc.issuer != self.config.issuer {
                    return Err(OidcError::Config("the discovery document names another issuer".into()));
                }
                let checked = |text: &str, what: &str| -> Result<Url, OidcError> {
                    let url = Url::parse(text).map_err(|_| OidcError::Config(format!("{what} is not a URL")))?;
                    http::check_transport(&url, false, what).map_err(|e| OidcError::Config(e.message().to_owned()))?;
                    Ok(url)
                };
                Ok(Endpoints {
                    authorize: checked(&doc.authorization_endpoint, "authorization_endpoint")?,
                    token: checked(&doc.token_endpoint, "token_endpoint")?,
                    jwks: checked(&doc.jwks_uri, "jwks_uri")?,
                })
            })
            .await
    }

    fn random_text(&self) -> Result<String, OidcError> {
        let mut bytes = [0u8; 32];
        self.random.fill(&mut bytes).map_err(|_| OidcError::Config("no randomness".into()))?;
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Start a sign-in: the URL to send the visitor to, and what to keep in their session.
    pub async fn begin(&self) -> Result<(Url, PendingSignIn), OidcError> {
        self.start(None).await
    }

    /// Start a sign-in that must be fresh (for administration): the provider is asked to
    /// make the user enter their credentials again (`prompt=login`, `max_age`), and
    /// [`finish`](Self::finish) accepts only an ID token whose `auth_time` is at most
    /// [`OidcConfig::fresh_sign_in_secs`] old. `prompt` alone proves nothing (a visitor can
    /// strip it from the URL, and a provider may keep its session); `auth_time` is signed.
    pub async fn begin_fresh(&self) -> Result<(Url, PendingSignIn), OidcError> {
        self.start(Some(self.config.fresh_sign_in_secs)).await
    }

    async fn start(&self, max_age: Option<u64>) -> Result<(Url, PendingSignIn), OidcError> {
        let endpoints = self.endpoints().await?;
        let pending = PendingSignIn {
            state: self.random_text()?,
            nonce: self.random_text()?,
            verifier: self.random_text()?,
            max_age,
        };
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(pending.verifier.as_bytes()));
        let mut url = endpoints.authorize.clone();
        url.query_pairs_mut()
            .append_pair("client_id", &self.config.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &self.config.redirect_uri)
            .append_pair("response_mode", "query")
            .append_pair("scope", "openid profile")
            .append_pair("state", &pending.state)
            .append_pair("nonce", &pending.nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        if let Some(max_age) = max_age {
            url.query_pairs_mut().append_pair("prompt", "login").append_pair("max_age", &max_age.to_string());
        }
        Ok((url, pending))
    }

    /// Finish a sign-in with the `code` and `state` the provider sent back and the
    /// `pending` values taken (once) from the visitor's session.
    pub async fn finish(&self, pending: &PendingSignIn, code: &str, state: &str) -> Result<SignedIn, OidcError> {
        if !bool::from(pending.state.as_bytes().ct_eq(state.as_bytes())) {
            return Err(OidcError::Refused("the state does not match this session's".into()));
        }
        let endpoints = self.endpoints().await?;
        let form = [
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.expose()),
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.config.redirect_uri.as_str()),
            ("code_verifier", pending.verifier.as_str()),
        ];
        let answer = self.http.post(endpoints.token.clone()).form(&form).send().await.map_err(unavailable)?;
        let status = answer.status();
        if !status.is_success() {
            let kind = if status.is_server_error() { OidcError::Unavailable } else { OidcError::Refused };
            return Err(kind(format!("the token endpoint answered {status}")));
        }
        let token: TokenAnswer =
            read_json(answer).await.ok_or_else(|| OidcError::Refused("the token answer holds no id_token".into()))?;
        self.validate(&token.id_token, &pending.nonce, pending.max_age).await
    }

    /// Check an ID token's signature and claims (and, for a fresh sign-in, `auth_time`).
    async fn validate(&self, jwt: &str, nonce: &str, max_age: Option<u64>) -> Result<SignedIn, OidcError> {
        let refused = |why: &str| OidcError::Refused(format!("the ID token {why}"));
        let mut parts = jwt.split('.');
        let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(refused("is not a signed JWT"));
        };
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| refused("is not base64url"));
        let header: Header = serde_json::from_slice(&decode(header_b64)?).map_err(|_| refused("header is not JSON"))?;
        // Only RS256: never `none`, never an HMAC keyed with something public.
        if header.alg != "RS256" {
            return Err(refused("is not signed with RS256"));
        }
        let kid = header.kid.ok_or_else(|| refused("names no key"))?;
        let key = self.key(&kid).await?.ok_or_else(|| refused("names a key the provider does not publish"))?;
        let (Some(n), Some(e)) = (key.n.as_deref(), key.e.as_deref()) else {
            return Err(refused("names a key that is not an RSA key"));
        };
        let public = RsaPublicKeyComponents { n: decode(n)?, e: decode(e)? };
        let signed = format!("{header_b64}.{claims_b64}");
        public
            .verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &decode(signature_b64)?)
            .map_err(|_| refused("signature does not verify"))?;
        let claims: Claims =
            serde_json::from_slice(&decode(claims_b64)?).map_err(|_| refused("claims are not valid"))?;
        if claims.iss != self.config.issuer {
            return Err(refused("was issued by another issuer"));
        }
        let for_us = match &claims.aud {
            Audience::One(aud) => *aud == self.config.client_id,
            Audience::Many(auds) => auds.contains(&self.config.client_id),
        };
        if !for_us {
            return Err(refused("is for another application"));
        }
        let now = self.clock.now().unix_timestamp();
        if claims.exp.saturating_add(LEEWAY) <= now {
            return Err(refused("has expired"));
        }
        if claims.nbf.or(claims.iat).is_some_and(|t| t > now + LEEWAY) {
            return Err(refused("is not valid yet"));
        }
        let nonce_ok = claims.nonce.as_deref().is_some_and(|n| bool::from(n.as_bytes().ct_eq(nonce.as_bytes())));
        if !nonce_ok {
            return Err(refused("nonce is not this sign-in's"));
        }
        // OpenID Connect Core 1.0 §3.1.2.1: with `max_age` asked, `auth_time` is required and
        // the relying party checks it.
        if let Some(max_age) = max_age {
            let at = claims.auth_time.ok_or_else(|| refused("carries no auth_time (Entra: add the optional claim)"))?;
            if at > now + LEEWAY {
                return Err(refused("has an auth_time in the future"));
            }
            if now.saturating_sub(at) > i64::try_from(max_age).unwrap_or(i64::MAX).saturating_add(LEEWAY) {
                return Err(refused("shows a sign-in older than max_age"));
            }
        }
        Ok(SignedIn {
            subject: claims.sub,
            object_id: claims.oid,
            username: claims.preferred_username,
            name: claims.name,
            authenticated_at: claims.auth_time,
        })
    }

    /// The published key `kid`; the key set is read again once when it is not known.
    async fn key(&self, kid: &str) -> Result<Option<Jwk>, OidcError> {
        let find = |keys: &[Jwk]| keys.iter().find(|k| k.kid.as_deref() == Some(kid) && k.kty == "RSA").cloned();
        if let Some(key) = find(&self.keys.read().await) {
            return Ok(Some(key));
        }
        let endpoints = self.endpoints().await?;
        let answer = self.http.get(endpoints.jwks.clone()).send().await.map_err(unavailable)?;
        if !answer.status().is_success() {
            return Err(OidcError::Unavailable(format!("the key set answered {}", answer.status())));
        }
        let jwks: Jwks = read_json(answer).await.ok_or_else(|| OidcError::Config("the key set is not valid".into()))?;
        let key = find(&jwks.keys);
        *self.keys.write().await = jwks.keys;
        Ok(key)
    }
}
