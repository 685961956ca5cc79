//! Microsoft Entra ID (Microsoft 365) accounts through Microsoft Graph v1.0, as an
//! application: [`GraphDirectory`], and [`GraphContactStore`] over the users' authentication
//! methods, and [`OidcClient`]: OpenID Connect sign-in (authorization code + PKCE) for the
//! portal, since app-only Graph cannot check a user's password.
//!
//! Verified against the local stand-in in `tests/graph/` only (Graph is not reachable from
//! the machine the tests run on); the request and response shapes it checks are those of
//! Microsoft's Graph v1.0 reference, cited there.

mod client;
mod config;
mod contacts;
mod directory;
mod odata;
mod oidc;
mod token;

pub use config::{ClientSecret, GLOBAL_ADMINISTRATOR, GraphConfig};
pub use contacts::{GraphContactConfig, GraphContactStore};
pub use directory::{GROUP_ID_PREFIX, GraphDirectory};
pub use oidc::{OidcClient, OidcConfig, OidcError, PendingSignIn, SignedIn};
