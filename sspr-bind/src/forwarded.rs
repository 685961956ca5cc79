//! The client's address behind trusted proxies ([`sspr_core::client_from_forwarded`]) for a
//! binding's web integrations (the FastAPI and Django routers), from the text a web server
//! hands them: the peer as text, which may not be an address at all (a Unix socket, a test
//! client). Express reads its own `trust proxy` for the Node router.

use std::net::IpAddr;

use sspr_core::{TrustedProxies, client_from_forwarded};

/// The client's address: `peer` (the TCP peer as the web server gives it), or, when it is
/// one of `trusted`, the nearest hop of the `X-Forwarded-For` values `forwarded` that is not
/// a trusted proxy. `None` (no per-IP limits) only when `peer` is absent or not an IP
/// address.
pub fn client_ip<V: AsRef<[u8]>>(peer: Option<&str>, forwarded: &[V], trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer: IpAddr = peer?.parse().ok()?;
    Some(client_from_forwarded(peer, forwarded, trusted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_that_is_no_address_gives_no_client_and_an_address_goes_through_the_core_rule() {
        let trusted = TrustedProxies::parse(["10.0.0.0/8"]).unwrap();
        for peer in [None, Some("testclient"), Some("/run/app.sock"), Some("10.0.0.5:80"), Some("")] {
            assert_eq!(client_ip(peer, &["203.0.113.7"], &trusted), None, "{peer:?}");
        }
        let ip = |t: &str| t.parse::<IpAddr>().unwrap();
        assert_eq!(client_ip(Some("::ffff:10.1.2.3"), &["6.6.6.6, 203.0.113.7"], &trusted), Some(ip("203.0.113.7")));
        assert_eq!(client_ip(Some("198.51.100.9"), &["203.0.113.7"], &trusted), Some(ip("198.51.100.9")));
    }
}
