//! Which URLs the server may post to (server-side request forgery): never, unless the operator
//! allows it (`lineage serve --webhook-allow-local`), an address of the server's own loopback,
//! a link-local one (cloud metadata services live at 169.254.169.254), an unspecified one
//! (`0.0.0.0` reaches the host itself), a multicast one, or any address of the host's own
//! interfaces (a service bound to all of them answers there too). The check is made when an endpoint is
//! registered and again at every connection, on the addresses the connection will use, so that
//! a name that resolves elsewhere later (DNS rebinding) is refused too. Redirects are not
//! followed (docs/security.md).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs as _};

/// Why a URL is not one the server posts to.
#[derive(Debug, thiserror::Error)]
pub enum UrlRefused {
    #[error("`url` is not a URL: {0}")]
    Malformed(#[source] url::ParseError),
    #[error("`url` must be http or https, not `{0}`")]
    Scheme(String),
    #[error("`url` must not carry a user name or password: the signature authenticates deliveries")]
    Credentials,
    #[error("`url` names no host")]
    NoHost,
    #[error("`url` is longer than 2048 characters")]
    TooLong,
    #[error("`url` names port 0, which no server listens on")]
    PortZero,
    #[error("`url`'s host `{host}` does not resolve")]
    Unresolvable {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`url`'s host `{host}` reaches {address}, a {kind} address: the server does not post to its own host's addresses unless its operator allows it (`lineage serve --webhook-allow-local`)")]
    Local { host: String, address: IpAddr, kind: &'static str },
}

/// What kind of address the server refuses to post to, if it is one.
pub fn local_kind(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return v4_kind(v4);
            }
            let segments = v6.segments();
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if segments[0] & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if v6.is_multicast() {
                Some("multicast")
            } else {
                None
            }
        }
    }
}

/// The IPv4 address an IPv6 address stands for, in the forms stacks and translators route to it:
/// IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, deprecated), SIIT
/// (`::ffff:0:a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) and 6to4 (`2002:aabb:ccdd::/48`).
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let last = |hi: u16, lo: u16| {
        let ([a, b], [c, d]) = (hi.to_be_bytes(), lo.to_be_bytes());
        Ipv4Addr::new(a, b, c, d)
    };
    let compatible = s[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified();
    let siit = s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0;
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    if let Some(v4) = v6.to_ipv4_mapped() {
        Some(v4)
    } else if compatible || siit || nat64 {
        Some(last(s[6], s[7]))
    } else if s[0] == 0x2002 {
        Some(last(s[1], s[2]))
    } else {
        None
    }
}

fn v4_kind(v4: Ipv4Addr) -> Option<&'static str> {
    if v4.is_loopback() {
        Some("loopback")
    } else if v4.is_unspecified() || v4.octets()[0] == 0 {
        Some("unspecified")
    } else if v4.is_link_local() {
        Some("link-local")
    } else if v4.is_multicast() || v4.is_broadcast() {
        Some("multicast")
    } else {
        None
    }
}

/// The URL an endpoint is registered with, checked: http(s), a host, no credentials, and (unless
/// `allow_local`) every address its host resolves to now is one the server may post to. It may
/// wait on name resolution: not for an async worker.
pub fn check(text: &str, allow_local: bool) -> Result<url::Url, UrlRefused> {
    let url = parse(text)?;
    admit(&url, allow_local)?;
    Ok(url)
}

/// A URL of the form an endpoint may have, before its host is resolved.
pub fn parse(text: &str) -> Result<url::Url, UrlRefused> {
    if text.len() > 2048 {
        return Err(UrlRefused::TooLong);
    }
    let url = url::Url::parse(text).map_err(UrlRefused::Malformed)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlRefused::Scheme(url.scheme().chars().take(20).collect()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlRefused::Credentials);
    }
    url.host_str().filter(|h| !h.is_empty()).ok_or(UrlRefused::NoHost)?;
    if url.port() == Some(0) {
        return Err(UrlRefused::PortZero);
    }
    Ok(url)
}

/// Whether the server may post to a parsed URL's host, as it resolves now.
pub fn admit(url: &url::Url, allow_local: bool) -> Result<(), UrlRefused> {
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or(UrlRefused::NoHost)?;
    let port = url.port_or_known_default().unwrap_or(80);
    resolve(host, port, allow_local).map(|_| ())
}

/// The addresses a host resolves to, refused if one is local (unless `allow_local`).
pub fn resolve(host: &str, port: u16, allow_local: bool) -> Result<Vec<SocketAddr>, UrlRefused> {
    // A bracketed IPv6 literal, as a URL writes it.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<SocketAddr> = (bare, port)
        .to_socket_addrs()
        .map_err(|source| UrlRefused::Unresolvable { host: host.to_owned(), source })?
        .collect();
    if addresses.is_empty() {
        let source = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
        return Err(UrlRefused::Unresolvable { host: host.to_owned(), source });
    }
    if !allow_local {
        if let Some((address, kind)) = addresses.iter().find_map(|a| Some((a.ip(), local_kind(a.ip())?))) {
            return Err(UrlRefused::Local { host: host.to_owned(), address, kind });
        }
        let own = own_addresses();
        if let Some(address) = addresses.iter().map(SocketAddr::ip).find(|a| own.contains(&canonical(*a))) {
            return Err(UrlRefused::Local { host: host.to_owned(), address, kind: "this host's own" });
        }
    }
    Ok(addresses)
}

/// An IPv6 address standing for an IPv4 one, as that IPv4 address.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => embedded_v4(v6).map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// The addresses of this host's interfaces (and their IPv4 networks' broadcast addresses), as
/// they are now.
pub fn own_addresses() -> Vec<IpAddr> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    let mut addresses = Vec::new();
    // SAFETY: getifaddrs(3) fills `list` with a linked list that freeifaddrs releases below; each
    // node's `ifa_addr` is null or points at a socket address of the family its `sa_family`
    // names, read here as that family's structure.
    unsafe {
        if libc::getifaddrs(&mut list) != 0 {
            return addresses;
        }
        let mut node = list;
        while !node.is_null() {
            let address = (*node).ifa_addr;
            if !address.is_null() {
                match i32::from((*address).sa_family) {
                    libc::AF_INET => {
                        let v4 = &*(address as *const libc::sockaddr_in);
                        let own = u32::from_be(v4.sin_addr.s_addr);
                        addresses.push(IpAddr::V4(Ipv4Addr::from(own)));
                        let mask = (*node).ifa_netmask;
                        if !mask.is_null() && i32::from((*mask).sa_family) == libc::AF_INET {
                            let mask = u32::from_be((*(mask as *const libc::sockaddr_in)).sin_addr.s_addr);
                            addresses.push(IpAddr::V4(Ipv4Addr::from(own | !mask)));
                        }
                    }
                    libc::AF_INET6 => {
                        let v6 = &*(address as *const libc::sockaddr_in6);
                        addresses.push(IpAddr::V6(Ipv6Addr::from(v6.sin6_addr.s6_addr)));
                    }
                    _ => {}
                }
            }
            node = (*node).ifa_next;
        }
        libc::freeifaddrs(list);
    }
    addresses
}

/// The resolver deliveries connect through: `netloc` is `host:port`, as the HTTP client gives
/// it.
pub fn resolver(allow_local: bool) -> impl Fn(&str) -> std::io::Result<Vec<SocketAddr>> + Send + Sync + 'static {
    move |netloc: &str| {
        let (host, port) = netloc.rsplit_once(':').unwrap_or((netloc, "80"));
        let port = port.parse().map_err(|_| std::io::Error::other(format!("bad port in `{netloc}`")))?;
        resolve(host, port, allow_local).map_err(|refused| std::io::Error::other(refused.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every way to write an address of the host itself, refused; routable ones, private
    /// networks included (a studio's DAM on its own network), taken.
    #[test]
    fn local_addresses_are_refused_however_written() {
        let table: &[(&str, Option<&str>)] = &[
            ("http://127.0.0.1:8080/hook", Some("loopback")),
            ("http://127.1.2.3/", Some("loopback")),
            ("http://[::1]/", Some("loopback")),
            ("http://[::ffff:127.0.0.1]/", Some("loopback")),
            ("http://[::127.0.0.1]/", Some("loopback")),
            ("http://0.0.0.0/", Some("unspecified")),
            ("http://0/", Some("unspecified")),
            ("http://[::]/", Some("unspecified")),
            ("http://2130706433/", Some("loopback")),
            ("http://0x7f.1/", Some("loopback")),
            ("http://169.254.169.254/latest/meta-data/", Some("link-local")),
            ("http://[fe80::1]/", Some("link-local")),
            ("http://[::ffff:169.254.169.254]/", Some("link-local")),
            ("http://224.0.0.1/", Some("multicast")),
            ("http://[::ffff:0:127.0.0.1]/", Some("loopback")),
            ("http://[64:ff9b::127.0.0.1]/", Some("loopback")),
            ("http://[2002:7f00:1::]/", Some("loopback")),
            ("http://[64:ff9b::169.254.169.254]/", Some("link-local")),
            ("http://localhost:9/", Some("loopback")),
            ("http://10.1.2.3/", None),
            ("http://192.168.1.20:8443/dam", None),
            ("https://203.0.113.7/", None),
        ];
        for (url, kind) in table {
            match (check(url, false), kind) {
                (Err(UrlRefused::Local { kind: got, .. }), Some(want)) => assert_eq!(got, *want, "{url}"),
                (Ok(_), None) => {}
                (other, _) => panic!("{url}: {other:?}"),
            }
            assert!(check(url, true).is_ok(), "{url} is allowed when the operator allows local addresses");
        }
    }

    /// Every address of the host's own interfaces, loopback or not.
    #[test]
    fn the_hosts_own_addresses_are_refused() {
        let own = own_addresses();
        assert!(own.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)), "{own:?}");
        for address in own {
            let url = match address {
                IpAddr::V4(v4) => {
                    let compatible = format!("http://[::{v4}]:9/");
                    assert!(matches!(check(&compatible, false), Err(UrlRefused::Local { .. })), "{compatible}");
                    format!("http://{v4}:9/")
                }
                IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80 => continue, // needs a zone
                IpAddr::V6(v6) => format!("http://[{v6}]:9/"),
            };
            assert!(matches!(check(&url, false), Err(UrlRefused::Local { .. })), "{url}");
        }
    }

    #[test]
    fn malformed_urls_are_refused() {
        assert!(matches!(check("ftp://example.com/", false), Err(UrlRefused::Scheme(_))));
        assert!(matches!(check("not a url", false), Err(UrlRefused::Malformed(_))));
        assert!(matches!(check("http://user:pw@10.0.0.1/", false), Err(UrlRefused::Credentials)));
        assert!(matches!(check(&format!("http://10.0.0.1/{}", "a".repeat(2048)), false), Err(UrlRefused::TooLong)));
        assert!(matches!(check("http://10.0.0.1:0/", false), Err(UrlRefused::PortZero)));
    }
}
