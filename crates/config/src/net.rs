//! Host facts used for defaults: the hostname and a private IPv4 address.
//! Read from `/proc`; the parsers are pure and tested on sample text.

use std::net::{IpAddr, Ipv4Addr};

/// The host name: `/proc/sys/kernel/hostname`, else `$HOSTNAME`, else `localhost`.
pub(crate) fn hostname() -> String {
    let from_proc = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    from_proc
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "localhost".to_string())
}

/// RFC 1918 private ranges plus RFC 6598 shared space, as go-sockaddr's
/// `GetPrivateIP` uses.
pub(crate) fn is_private_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64)
}

/// Local IPv4 addresses from the text of `/proc/net/fib_trie`
/// (entries followed by a `/32 host LOCAL` line), in order, deduplicated.
pub(crate) fn local_ipv4s_from_fib_trie(text: &str) -> Vec<Ipv4Addr> {
    let mut out = Vec::new();
    let mut last: Option<Ipv4Addr> = None;
    for line in text.lines() {
        let t = line.trim_start_matches([' ', '|', '+', '-']).trim();
        if t.starts_with("/32 host LOCAL") {
            if let Some(ip) = last
                && !out.contains(&ip)
            {
                out.push(ip);
            }
        } else if let Ok(ip) = t.parse::<Ipv4Addr>() {
            last = Some(ip);
        }
    }
    out
}

/// The first private, non-loopback IPv4 of this host, else 127.0.0.1.
pub(crate) fn private_ipv4() -> IpAddr {
    let text = std::fs::read_to_string("/proc/net/fib_trie").unwrap_or_default();
    let ip = local_ipv4s_from_fib_trie(&text)
        .into_iter()
        .find(|ip| !ip.is_loopback() && is_private_v4(*ip))
        .unwrap_or(Ipv4Addr::LOCALHOST);
    IpAddr::V4(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIB: &str = "Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     +-- 172.17.0.0/16 2 0 2
        |-- 172.17.0.2
           /32 host LOCAL
        |-- 172.17.255.255
           /32 link BROADCAST
Local:
  +-- 0.0.0.0/0 3 0 5
        |-- 172.17.0.2
           /32 host LOCAL
";

    #[test]
    fn parses_fib_trie() {
        let ips = local_ipv4s_from_fib_trie(FIB);
        assert_eq!(
            ips,
            vec![Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(172, 17, 0, 2)]
        );
    }

    #[test]
    fn private_ranges() {
        assert!(is_private_v4(Ipv4Addr::new(10, 1, 2, 3)));
        assert!(is_private_v4(Ipv4Addr::new(192, 168, 0, 1)));
        assert!(is_private_v4(Ipv4Addr::new(100, 64, 0, 1)));
        assert!(!is_private_v4(Ipv4Addr::new(8, 8, 8, 8)));
        assert!(!is_private_v4(Ipv4Addr::new(100, 128, 0, 1)));
    }

    #[test]
    fn hostname_is_not_empty() {
        assert!(!hostname().is_empty());
    }
}
