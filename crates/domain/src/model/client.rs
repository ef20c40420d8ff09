use std::net::{IpAddr, Ipv6Addr};

/// Where a request came from, as far as the HTTP layer could tell (the peer, or
/// the client named by a trusted proxy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    /// A request from `address`.
    pub fn new(address: IpAddr) -> Self {
        Self(Some(address))
    }

    /// A request whose origin is unknown (an in-process call).
    pub fn unknown() -> Self {
        Self(None)
    }

    /// The key under which this client's attempts are counted. An IPv6 client
    /// controls a whole /64 (one SLAAC network), so it is counted per /64; an
    /// IPv4-mapped address counts as the IPv4 address it maps.
    pub fn throttle_key(&self) -> String {
        match self.0 {
            None => "unknown".to_owned(),
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let [a, b, c, d, ..] = v6.segments();
                    format!("{}/64", Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
                }
            },
        }
    }

    /// The address as text, for binding a session to it; empty when unknown.
    pub fn as_text(&self) -> String {
        self.0.map(|address| address.to_string()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> String {
        ClientAddress::new(text.parse().unwrap()).throttle_key()
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff::9"), key("2001:db8:1:2::1"));
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
    }

    #[test]
    fn ipv4_clients_are_counted_per_address_however_they_arrive() {
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(ClientAddress::unknown().throttle_key(), "unknown");
    }
}
