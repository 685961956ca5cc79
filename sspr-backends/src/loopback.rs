//! Whether a host is this machine: the one rule the transports use to allow a connection in
//! clear (SMTP `tls = "none"`, `redis://`, `http://` endpoints) only to this host.

/// Whether `host` names this machine: `localhost` (resolvers answer it with loopback, RFC
/// 6761) or a loopback IP address (`127.0.0.0/8`, `::1`, also IPv4-mapped; bracketed IPv6
/// too). A name merely starting with those (`127.0.0.1.example.org`) is not.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        Err(_) => false,
    }
}
