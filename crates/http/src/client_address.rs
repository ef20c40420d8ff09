//! The client's address, with `X-Forwarded-For` honoured only from trusted proxies.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;
use limen_domain::model::ClientAddress;

/// The client as the domain counts attempts of and binds sessions to.
pub fn client(req: &HttpRequest, trusted: &[IpNet]) -> ClientAddress {
    ClientAddress(client_address(req, trusted))
}

/// The address the request came from. When the peer is one of `trusted`
/// proxies, the right-most address of `X-Forwarded-For` that is not itself a
/// trusted proxy is the client; otherwise the header is ignored, since anyone
/// can send it.
pub fn client_address(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted.iter().any(|net| net.contains(&peer)) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|address| !trusted.iter().any(|net| net.contains(address)))
            .unwrap_or(peer),
    )
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use actix_web::test::TestRequest;

    use super::*;

    fn request(peer: &str, forwarded: Option<&str>) -> HttpRequest {
        let mut req = TestRequest::default().peer_addr(peer.parse::<SocketAddr>().unwrap());
        if let Some(value) = forwarded {
            req = req.insert_header(("X-Forwarded-For", value));
        }
        req.to_http_request()
    }

    #[test]
    fn the_header_is_ignored_from_untrusted_peers() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let req = request("203.0.113.5:1000", Some("1.2.3.4"));
        assert_eq!(
            client_address(&req, &trusted),
            Some("203.0.113.5".parse().unwrap())
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_address_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let req = request("10.0.0.2:1000", Some("6.6.6.6, 52.68.96.58, 10.0.0.9"));
        assert_eq!(
            client_address(&req, &trusted),
            Some("52.68.96.58".parse().unwrap())
        );
        let req = request("10.0.0.2:1000", None);
        assert_eq!(client_address(&req, &trusted), Some("10.0.0.2".parse().unwrap()));
    }
}
