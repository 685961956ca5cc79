//! OpenLDAP and Active Directory (feature `ldap`): a [`sspr_core::Directory`] and a
//! [`sspr_core::ContactStore`] reading contacts from directory attributes.
//!
//! See the crate README for configuration examples.

mod change;
mod config;
mod contacts;
mod directory;
mod filter;
mod pool;
mod ppolicy;

pub use config::{BindPassword, Flavor, LdapConfig};
pub use contacts::{LdapContactConfig, LdapContactStore, RecordKey};
pub use directory::LdapDirectory;
pub use filter::escape_filter_value;
