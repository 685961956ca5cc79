//! App-only access tokens for Microsoft Graph: the OAuth 2.0 client-credentials grant with a
//! client secret or a certificate's signed assertion, cached and renewed before they expire.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Client, Url};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PSS_SHA256, RsaKeyPair};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use sspr_core::time::OffsetDateTime;
use sspr_core::{BackendError, BackendErrorKind, Clock};

use super::config::{ClientSecret, GraphConfig};

/// A token is renewed this long before the expiry its issuer announced, so that no request
/// goes out with a token about to expire on the way (clock skew, a slow request).
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// The longest a token is kept, whatever `expires_in` says (Entra's live about an hour): an
/// endpoint's number is not trusted to stay inside the calendar.
const LONGEST_KEPT: Duration = Duration::from_secs(86_400);

/// How the application proves who it is to the token endpoint.
enum Credential {
    Secret(ClientSecret),
    /// RFC 7523 client assertion: a JWT signed with the certificate's key.
    Certificate {
        key: Box<RsaKeyPair>,
        thumbprint: String,
    },
}

/// A bearer token and when it must be renewed. Never printed.
#[derive(Clone)]
pub(crate) struct AccessToken {
    value: Arc<SecretString>,
    renew_at: OffsetDateTime,
}

impl AccessToken {
    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.value.expose_secret())
    }

    /// Whether two tokens are the same one (to drop only the one a 401 refused).
    pub(crate) fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.value, &other.value)
    }
}

/// The token endpoint's success answer (Microsoft identity platform, v2.0).
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

/// The token endpoint's error answer: only its code and AADSTS number are kept (its
/// description quotes the application, never needed in a log).
#[derive(Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_codes: Vec<u64>,
}

/// Gets and caches tokens.
pub(crate) struct Tokens {
    url: Url,
    client_id: String,
    /// `{graph_url}/.default`: every application permission granted for Graph.
    scope: String,
    credential: Credential,
    cached: tokio::sync::Mutex<Option<AccessToken>>,
    clock: Arc<dyn Clock>,
    random: SystemRandom,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens").field("url", &self.url.as_str()).field("client_id", &self.client_id).finish()
    }
}

fn config_error(message: String) -> BackendError {
    BackendError::new(BackendErrorKind::Other, format!("graph configuration: {message}"))
}

impl Tokens {
    pub(crate) fn new(config: &GraphConfig, url: Url, clock: Arc<dyn Clock>) -> Result<Self, BackendError> {
        let credential = match (&config.client_secret, &config.certificate_file, &config.private_key_file) {
            (Some(secret), _, _) => Credential::Secret(secret.clone()),
            (None, Some(cert), Some(key)) => {
                let read = |path: &std::path::Path| {
                    std::fs::read(path).map_err(|e| config_error(format!("cannot read {}: {e}", path.display())))
                };
                let cert_pem = read(cert)?;
                let cert_der = rustls_pemfile::certs(&mut cert_pem.as_slice())
                    .next()
                    .and_then(Result::ok)
                    .ok_or_else(|| config_error(format!("{} holds no PEM certificate", cert.display())))?;
                let key_pem = read(key)?;
                let key_der = rustls_pemfile::pkcs8_private_keys(&mut key_pem.as_slice())
                    .next()
                    .and_then(Result::ok)
                    .ok_or_else(|| config_error(format!("{} holds no PKCS#8 private key", key.display())))?;
                let key = RsaKeyPair::from_pkcs8(key_der.secret_pkcs8_der())
                    .map_err(|_| config_error(format!("{} is not an RSA key of 2048 bits or more", key.display())))?;
                let thumbprint = URL_SAFE_NO_PAD.encode(Sha256::digest(cert_der.as_ref()));
                Credential::Certificate { key: Box::new(key), thumbprint }
            }
            _ => return Err(config_error("no client credential".into())),
        };
        Ok(Self {
            url,
            client_id: config.client_id.clone(),
            scope: format!("{}/.default", config.graph_url.trim_end_matches('/')),
            credential,
            cached: tokio::sync::Mutex::new(None),
            clock,
            random: SystemRandom::new(),
        })
    }

    /// A token valid for a while yet: the cached one, or a new one.
    pub(crate) async fn get(&self, http: &Client) -> Result<AccessToken, BackendError> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| self.clock.now() < t.renew_at) {
            return Ok(token.clone());
        }
        let token = self.request(http).await?;
        *cached = Some(token.clone());
        Ok(token)
    }

    /// Forget `refused` (a 401 said it is no longer good), unless another request has
    /// already replaced it.
    pub(crate) async fn drop_token(&self, refused: &AccessToken) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|t| t.same(refused)) {
            *cached = None;
        }
    }

    async fn request(&self, http: &Client) -> Result<AccessToken, BackendError> {
        let now = self.clock.now();
        let mut form: Vec<(&str, String)> = vec![
            ("client_id", self.client_id.clone()),
            ("scope", self.scope.clone()),
            ("grant_type", "client_credentials".into()),
        ];
        match &self.credential {
            Credential::Secret(secret) => form.push(("client_secret", secret.expose().to_owned())),
            Credential::Certificate { key, thumbprint } => {
                form.push(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()));
                form.push(("client_assertion", self.assertion(key, thumbprint, now)?));
            }
        }
        let answer = http.post(self.url.clone()).form(&form).send().await;
        drop(form);
        let answer = answer.map_err(|e| super::client::transport_error(e, "the token endpoint"))?;
        let status = answer.status();
        // A token answer is a few kilobytes.
        let body = super::client::read_body(answer, 1 << 20, "the token endpoint").await?;
        if !status.is_success() {
            let why = serde_json::from_slice::<TokenError>(&body)
                .map(|e| format!("{} {:?}", e.error, e.error_codes))
                .unwrap_or_else(|_| "no error body".into());
            let kind = super::client::status_kind(status);
            return Err(BackendError::new(kind, format!("the token endpoint refused the application: {status} {why}")));
        }
        let token: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|_| BackendError::new(BackendErrorKind::Other, "the token endpoint's answer is not a token"))?;
        let lifetime = Duration::from_secs(token.expires_in).min(LONGEST_KEPT);
        // Renew 5 minutes early, or at half-life for a token that lives less than 10 minutes.
        let early = if lifetime > RENEW_BEFORE * 2 { lifetime.saturating_sub(RENEW_BEFORE) } else { lifetime / 2 };
        Ok(AccessToken { value: Arc::new(SecretString::from(token.access_token)), renew_at: now + early })
    }

    /// The client assertion: a JWT (PS256, `x5t#S256` naming the certificate) for the token
    /// endpoint, valid 10 minutes, with a random `jti` so it cannot be replayed.
    fn assertion(&self, key: &RsaKeyPair, thumbprint: &str, now: OffsetDateTime) -> Result<String, BackendError> {
        let failed = || BackendError::new(BackendErrorKind::Other, "cannot sign the client assertion");
        let mut jti = [0u8; 16];
        self.random.fill(&mut jti).map_err(|_| failed())?;
        let header = serde_json::json!({ "alg": "PS256", "typ": "JWT", "x5t#S256": thumbprint });
        let issued = now.unix_timestamp();
        let claims = serde_json::json!({
            "aud": self.url.as_str(),
            "iss": self.client_id,
            "sub": self.client_id,
            "jti": URL_SAFE_NO_PAD.encode(jti),
            "nbf": issued,
            "iat": issued,
            "exp": issued + 600,
        });
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut signature = vec![0u8; key.public().modulus_len()];
        key.sign(&RSA_PSS_SHA256, &self.random, signing_input.as_bytes(), &mut signature).map_err(|_| failed())?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}
