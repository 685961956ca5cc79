//! The client's address behind reverse proxies: the one reading of `X-Forwarded-For` that
//! the portal and the Python routers (through `sspr-bind`) share, so that a client behind a
//! trusted proxy cannot choose its own address, and so the per-IP limits, in any of them.
//!
//! The rule ([`client_from_forwarded`]): the TCP peer is the client unless it is one of the
//! [`TrustedProxies`]; then the header's hops are read from the right (each proxy appends the
//! address it saw), trusted proxies are skipped, and the first hop that is not a trusted
//! proxy is the client. The reading stops at the first hop that is not a clean address: the
//! request then counts against the last address that could be trusted, never against what
//! the client wrote to its left (behind a proxy that appends `unknown` or an obfuscated form,
//! a skipped hop let the client pick its address with every request). A hop with a port
//! (`203.0.113.7:51234`, `[2001:db8::7]:51234`: Azure Application Gateway, IIS ARR) or in
//! brackets (`[2001:db8::7]`) is its address. Addresses are compared in canonical form: an
//! IPv4-mapped IPv6 address (`::ffff:10.0.0.5`, an IPv4 peer of a server listening on `[::]`)
//! is its IPv4 address, as a peer, as a hop and as a trusted proxy.
//!
//! Express (`trust proxy`) does the same for the Node router; the C API and uniffi take the
//! client's address from their host, which reads its own proxy headers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::error::Error;

/// The reverse proxies whose `X-Forwarded-For` is believed: addresses and networks, parsed
/// once (at start-up) and compared in canonical form.
///
/// ```
/// use sspr_core::TrustedProxies;
/// let trusted = TrustedProxies::parse(["10.0.0.0/8", "2001:db8::5"])?;
/// assert!(trusted.contains("::ffff:10.1.2.3".parse().unwrap()));
/// assert!(!trusted.contains("2001:db8::6".parse().unwrap()));
/// assert_eq!(TrustedProxies::parse(["proxy.example"]).unwrap_err().code(), "config");
/// # Ok::<(), sspr_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<Network>,
}

/// One network: its first address (canonical, host bits cleared) and its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    base: IpAddr,
    prefix: u8,
}

impl Network {
    /// `address/prefix`, canonical: an IPv4-mapped network of at least 96 bits is the IPv4
    /// network it maps, so a proxy listed either way is trusted seen either way.
    fn new(address: IpAddr, prefix: u8) -> Self {
        let (address, prefix) = match address {
            IpAddr::V6(v6) if prefix >= 96 => match v6.to_ipv4_mapped() {
                Some(v4) => (IpAddr::V4(v4), prefix - 96),
                None => (address, prefix),
            },
            _ => (address, prefix),
        };
        Self { base: masked(address, prefix), prefix }
    }

    fn contains(&self, ip: IpAddr) -> bool {
        masked(ip, self.prefix) == self.base && ip.is_ipv4() == self.base.is_ipv4()
    }
}

/// `ip` with every bit after the first `prefix` cleared.
fn masked(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix.min(32))).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix.min(128))).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

impl TrustedProxies {
    /// The proxies listed in `entries`: each an address (`10.0.0.5`, `2001:db8::5`) or a
    /// network (`10.0.0.0/8`, `2001:db8::/32`, IPv4 also `10.0.0.0/255.0.0.0`); host bits
    /// after the prefix are ignored (`10.1.2.3/8` is `10.0.0.0/8`).
    ///
    /// # Errors
    /// `Config` naming `trusted_proxies` and the entry for one that is neither (a host name,
    /// a prefix too long, a port, a zone): a proxy that is not believed would make every
    /// visitor count as the proxy, so a typo is refused at start-up.
    pub fn parse<S: AsRef<str>>(entries: impl IntoIterator<Item = S>) -> Result<Self, Error> {
        let networks = entries
            .into_iter()
            .map(|entry| {
                let entry = entry.as_ref();
                parse_network(entry).ok_or_else(|| {
                    Error::Config(format!(
                        "trusted_proxies: {entry:?} is not an address or a network (\"10.0.0.5\", \"10.0.0.0/8\", \"2001:db8::/32\")"
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { networks })
    }

    /// The proxies at exactly these addresses.
    pub fn from_addresses(addresses: impl IntoIterator<Item = IpAddr>) -> Self {
        let networks = addresses.into_iter().map(|a| Network::new(a, if a.is_ipv4() { 32 } else { 128 })).collect();
        Self { networks }
    }

    /// Whether `ip` (in any form: an IPv4-mapped address is its IPv4 address) is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks.iter().any(|n| n.contains(ip))
    }

    /// Whether no proxy is trusted (every peer is then the client).
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }
}

/// An address or a network, as a trusted proxy is written.
fn parse_network(text: &str) -> Option<Network> {
    let Some((address, prefix)) = text.split_once('/') else {
        let address: IpAddr = text.parse().ok()?;
        return Some(Network::new(address, if address.is_ipv4() { 32 } else { 128 }));
    };
    let address: IpAddr = address.parse().ok()?;
    let prefix = if !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit()) {
        prefix.parse::<u8>().ok().filter(|p| *p <= if address.is_ipv4() { 32 } else { 128 })?
    } else {
        // An IPv4 netmask (`255.0.0.0`), as Python's `ipaddress` also reads it: contiguous only.
        let mask = u32::from(prefix.parse::<Ipv4Addr>().ok().filter(|_| address.is_ipv4())?);
        let ones = mask.leading_ones();
        (ones + mask.trailing_zeros() >= 32).then_some(u8::try_from(ones).ok()?)?
    };
    Some(Network::new(address, prefix))
}

/// The client's address for the per-IP limits: `peer` (the TCP peer), unless it is one of
/// `trusted`; then the nearest hop of the `X-Forwarded-For` values `forwarded` (in the
/// order the request has them, each a comma-separated list) that is not a trusted proxy,
/// read from the right and stopping at the first hop that is not a clean address (see the
/// module's rules). Always canonical (an IPv4-mapped address as its IPv4 address). A value
/// that is not text (bytes outside UTF-8) is a hop that is not an address.
///
/// ```
/// use sspr_core::{TrustedProxies, client_from_forwarded};
/// let trusted = TrustedProxies::parse(["10.0.0.0/8"])?;
/// let proxy = "10.0.0.5".parse().unwrap();
/// // The client's own prepended entry is never read: the proxy appended the address it saw.
/// let client = client_from_forwarded(proxy, &["6.6.6.6, 203.0.113.7:51234"], &trusted);
/// assert_eq!(client, "203.0.113.7".parse::<std::net::IpAddr>().unwrap());
/// // A peer that is not a trusted proxy is the client, whatever it sends.
/// let direct = "198.51.100.9".parse().unwrap();
/// assert_eq!(client_from_forwarded(direct, &["203.0.113.7"], &trusted), direct);
/// # Ok::<(), sspr_core::Error>(())
/// ```
pub fn client_from_forwarded<V: AsRef<[u8]>>(peer: IpAddr, forwarded: &[V], trusted: &TrustedProxies) -> IpAddr {
    let mut nearest = peer.to_canonical();
    if !trusted.contains(nearest) {
        return nearest;
    }
    let hops = forwarded.iter().rev().flat_map(|value| value.as_ref().rsplit(|b| *b == b','));
    for hop in hops {
        let Some(ip) = hop_address(hop) else { break };
        nearest = ip;
        if !trusted.contains(ip) {
            break;
        }
    }
    nearest
}

/// One hop as an address (canonical): plain, in brackets, or with a port; `None` for
/// anything else (a name, `unknown`, an obfuscated form such as `127.1` or `0x7f.0.0.1`, a
/// zone, a port that is not one).
fn hop_address(hop: &[u8]) -> Option<IpAddr> {
    let hop = std::str::from_utf8(hop).ok()?.trim_matches(|c| c == ' ' || c == '\t');
    let ip = match hop.parse::<IpAddr>() {
        Ok(ip) => ip,
        Err(_) => match hop.parse::<SocketAddr>() {
            Ok(SocketAddr::V4(socket)) => IpAddr::V4(*socket.ip()),
            Ok(SocketAddr::V6(socket)) if socket.scope_id() == 0 && socket.flowinfo() == 0 => IpAddr::V6(*socket.ip()),
            Ok(SocketAddr::V6(_)) => return None,
            Err(_) => IpAddr::V6(hop.strip_prefix('[')?.strip_suffix(']')?.parse::<Ipv6Addr>().ok()?),
        },
    };
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// The one table of the rule: (peer, `X-Forwarded-For` values, the client it gives).
    /// Trusted: `10.0.0.0/8`, `192.0.2.5` and `2001:db8:ff::/48`.
    #[test]
    fn the_client_behind_trusted_proxies_is_the_nearest_untrusted_clean_hop() {
        let trusted = TrustedProxies::parse(["10.0.0.0/8", "192.0.2.5", "2001:db8:ff::/48"]).unwrap();
        let cases: &[(&str, &[&str], &str, &str)] = &[
            ("198.51.100.9", &["203.0.113.7"], "198.51.100.9", "an untrusted peer's header is never read"),
            ("198.51.100.9", &[], "198.51.100.9", "no header"),
            ("10.0.0.5", &[], "10.0.0.5", "a trusted peer with no header is itself"),
            ("10.0.0.5", &["203.0.113.7"], "203.0.113.7", "one proxy"),
            ("192.0.2.5", &["203.0.113.7"], "203.0.113.7", "a proxy listed as an address"),
            ("10.0.0.5", &["1.2.3.4, 203.0.113.7, 10.0.0.5"], "203.0.113.7", "the client's own prepended hop"),
            ("10.0.0.5", &["1.2.3.4", "203.0.113.7"], "203.0.113.7", "the client's own header line"),
            ("10.0.0.5", &["203.0.113.7:51234"], "203.0.113.7", "a.b.c.d:port"),
            ("10.0.0.5", &["198.51.100.77, [2001:db8::7]:51234"], "2001:db8::7", "[v6]:port"),
            ("10.0.0.5", &["198.51.100.77, [2001:db8::7]"], "2001:db8::7", "[v6]"),
            ("10.0.0.5", &["198.51.100.77, 2001:db8::7"], "2001:db8::7", "v6"),
            ("10.0.0.5", &["198.51.100.77,203.0.113.7"], "203.0.113.7", "no space after the comma"),
            ("10.0.0.5", &["198.51.100.77, \t203.0.113.7 "], "203.0.113.7", "spaces and tabs around a hop"),
            ("10.0.0.5", &["198.51.100.77, unknown, 203.0.113.9:4711, 10.0.0.5"], "203.0.113.9", "many hops"),
            ("10.0.0.5", &["198.51.100.77, 10.3.3.3, 10.2.2.2"], "198.51.100.77", "trusted hops are skipped"),
            ("10.0.0.5", &["10.3.3.3, 10.2.2.2"], "10.3.3.3", "every hop trusted: the farthest"),
            ("::ffff:10.0.0.5", &["203.0.113.7"], "203.0.113.7", "an IPv4 proxy on a dual-stack socket"),
            ("::ffff:203.0.113.8", &["198.51.100.1"], "203.0.113.8", "an untrusted mapped peer is itself, as IPv4"),
            ("10.0.0.5", &["::ffff:203.0.113.7, ::ffff:10.0.0.9"], "203.0.113.7", "mapped hops"),
            ("2001:db8:ff::1", &["203.0.113.7, 2001:db8:ff:1::2"], "203.0.113.7", "an IPv6 network trusted"),
            ("2001:db8:fe::1", &["203.0.113.7"], "2001:db8:fe::1", "outside the IPv6 network"),
            ("11.0.0.1", &["203.0.113.7"], "11.0.0.1", "outside the IPv4 network"),
        ];
        for (peer, forwarded, client, what) in cases {
            assert_eq!(
                client_from_forwarded(ip(peer), forwarded, &trusted),
                ip(client),
                "{what}: {peer} {forwarded:?}"
            );
        }
        // A hop that is not a clean address stops the reading: what the client wrote to its
        // left is never read, and the request counts against the last address that could be
        // trusted (here the proxy itself).
        let nonsense = [
            "unknown",
            "_hidden",
            "",
            " ",
            "203.0.113.7:port",
            "203.0.113.7:99999",
            "203.0.113.7:",
            "[2001:db8::7]x",
            "[2001:db8::7]:",
            "1.2.3:80",
            "127.1",
            "0x7f.0.0.1",
            "2130706433",
            "010.0.0.1",
            "1.2.3.4.5",
            "203.0.113.7 extra",
            "fe80::1%eth0",
            "[fe80::1%1]:80",
            "[203.0.113.7]",
            "proxy.example",
            "203.0.113.7;x",
            "\u{663}.0.0.1",
            "203.0.113.7\u{a0}",
        ];
        for hop in nonsense {
            let header = format!("198.51.100.77, {hop}");
            assert_eq!(client_from_forwarded(ip("10.0.0.5"), &[header.as_str()], &trusted), ip("10.0.0.5"), "{hop:?}");
            let behind = format!("198.51.100.77, {hop}, 10.9.9.9");
            assert_eq!(client_from_forwarded(ip("10.0.0.5"), &[behind.as_str()], &trusted), ip("10.9.9.9"), "{hop:?}");
        }
        // A value that is not text is no address either.
        let bytes: [&[u8]; 2] = [b"198.51.100.77", b"\xff203.0.113.7"];
        assert_eq!(client_from_forwarded(ip("10.0.0.5"), &bytes, &trusted), ip("10.0.0.5"));
        // No proxy trusted: every peer is the client.
        let none = TrustedProxies::default();
        assert!(none.is_empty());
        assert_eq!(client_from_forwarded(ip("10.0.0.5"), &["203.0.113.7"], &none), ip("10.0.0.5"));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks_and_anything_else_is_a_config_error() {
        let one = |entry: &str| TrustedProxies::parse([entry]);
        let same = |a: &str, b: &str| assert_eq!(one(a).unwrap(), one(b).unwrap(), "{a} is {b}");
        same("10.1.2.3/8", "10.0.0.0/8");
        same("10.0.0.0/255.0.0.0", "10.0.0.0/8");
        same("::ffff:10.0.0.0/104", "10.0.0.0/8");
        same("::ffff:10.0.0.5", "10.0.0.5");
        same("10.0.0.5/32", "10.0.0.5");
        assert_eq!(TrustedProxies::from_addresses([ip("::ffff:10.0.0.5")]), one("10.0.0.5").unwrap());
        let all_v4 = one("0.0.0.0/0").unwrap();
        assert!(all_v4.contains(ip("203.0.113.7")) && all_v4.contains(ip("::ffff:203.0.113.7")));
        assert!(!all_v4.contains(ip("2001:db8::1")), "an IPv4 network holds no IPv6 address");
        assert!(!one("::/0").unwrap().contains(ip("203.0.113.7")), "nor an IPv6 network an IPv4 one");
        for bad in [
            "proxy.example",
            "10.0.0.0/33",
            "2001:db8::/129",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0.0/-1",
            "10.0.0.0/8/8",
            "10.0.0.0/255.0.255.0",
            "2001:db8::/255.0.0.0",
            " 10.0.0.5",
            "10.0.0.5:80",
            "[2001:db8::5]",
            "fe80::1%eth0",
            "",
            "10.0.0.0/256",
        ] {
            let error = one(bad).unwrap_err();
            assert_eq!(error.code(), "config", "{bad:?}");
            assert!(error.to_string().contains("trusted_proxies"), "{error}");
        }
    }
}
