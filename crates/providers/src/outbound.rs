//! Outbound address rules for URLs users give spool (tools, MCP servers): loopback,
//! private, link-local (cloud metadata included), multicast and other
//! non-public addresses are refused unless the server's `allowed_tool_hosts`
//! names the host or the address. Checked after DNS resolution (the
//! resolver below) and for every address literal, redirects included.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// The hosts and addresses a server allows although they are not public.
#[derive(Clone, Debug, Default)]
pub struct OutboundRules {
    allowed: Vec<String>,
}

impl OutboundRules {
    /// `allowed`: host names or IP addresses (`127.0.0.1`, `::1`,
    /// `tools.internal`), compared without case.
    pub fn new(allowed: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            allowed: allowed
                .into_iter()
                .map(|h| {
                    h.into()
                        .trim()
                        .trim_matches(['[', ']'])
                        .to_ascii_lowercase()
                })
                .collect(),
        }
    }

    fn allows_name(&self, host: &str) -> bool {
        let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
        self.allowed.contains(&host)
    }

    /// Whether spool may connect to `ip` (reached through `host`).
    pub fn permits(&self, host: &str, ip: IpAddr) -> bool {
        is_public(ip) || self.allows_name(host) || self.allows_name(&ip.to_string())
    }

    /// Why `url` may not be fetched, checked when a tool is saved: its host
    /// is an address that is not permitted, or a name that resolves only to
    /// such addresses. A name that does not resolve (now) passes: it is
    /// checked again at every call.
    pub async fn refuse_url(&self, url: &str) -> Option<String> {
        let url = match reqwest::Url::parse(url) {
            Ok(url) => url,
            Err(err) => return Some(format!("The URL is not valid: {err}.")),
        };
        if let Some(why) = self.refuse_literal(&url) {
            return Some(why);
        }
        let host = url.host_str()?.to_owned();
        if host.parse::<IpAddr>().is_ok() || host.starts_with('[') {
            return None;
        }
        let lookup = tokio::net::lookup_host((host.as_str(), 0));
        let found: Vec<SocketAddr> = match tokio::time::timeout(SAVE_LOOKUP_TIMEOUT, lookup).await {
            Ok(Ok(found)) => found.collect(),
            _ => return None,
        };
        (!found.is_empty() && !found.iter().any(|addr| self.permits(&host, addr.ip())))
            .then(|| refusal(&host))
    }

    /// Why `url` may not be fetched, when its host is an address literal
    /// that is not permitted (names are checked when they resolve).
    pub fn refuse_literal(&self, url: &reqwest::Url) -> Option<String> {
        self.refuse_host(url.host_str()?)
    }

    /// [`Self::refuse_literal`] for a host as a URL writes it.
    pub fn refuse_host(&self, host: &str) -> Option<String> {
        let ip: IpAddr = host.trim_matches(['[', ']']).parse().ok()?;
        (!self.permits(&ip.to_string(), ip)).then(|| refusal(&ip.to_string()))
    }
}

/// How long a save waits for a tool's host name to resolve.
const SAVE_LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

fn refusal(host: &str) -> String {
    format!(
        "The address of {host} is not public (loopback, private, link-local, multicast or \
         metadata); tools may not reach it unless the server's allowed_tool_hosts names it."
    )
}

/// A public unicast address: anything but loopback, private, shared (CGNAT),
/// link-local (169.254.169.254 and other metadata addresses), multicast,
/// broadcast, unspecified, documentation and benchmarking ranges, and their
/// IPv6 counterparts (unique local, link-local, mapped and NAT64 forms).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = ip.segments();
            // 64:ff9b::/96 carries an IPv4 address.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let v4 =
                    Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
                return is_public_v4(v4);
            }
            !(ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local, fd00:ec2::254 included
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || ip == Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// Resolves names and keeps only the addresses the rules permit: a name
/// that resolves to none of them is refused before any connection.
pub struct CheckedResolver {
    pub rules: Arc<OutboundRules>,
}

impl CheckedResolver {
    async fn permitted(
        rules: Arc<OutboundRules>,
        host: String,
    ) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
        let permitted: Vec<SocketAddr> = found
            .into_iter()
            .filter(|addr| rules.permits(&host, addr.ip()))
            .collect();
        if permitted.is_empty() {
            return Err(refusal(&host).into());
        }
        Ok(permitted)
    }
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let (rules, host) = (self.rules.clone(), name.as_str().to_owned());
        Box::pin(async move {
            let permitted = Self::permitted(rules, host).await?;
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

/// The same resolver for the MCP client (reqwest 0.13, rmcp's).
impl reqwest_mcp::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest_mcp::dns::Name) -> reqwest_mcp::dns::Resolving {
        let (rules, host) = (self.rules.clone(), name.as_str().to_owned());
        Box::pin(async move {
            let permitted = Self::permitted(rules, host).await?;
            Ok(Box::new(permitted.into_iter()) as reqwest_mcp::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_addresses_are_refused_unless_allowed() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "ff02::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            let ip: IpAddr = refused.parse().unwrap();
            assert!(!is_public(ip), "{refused}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        let rules = OutboundRules::new(["127.0.0.1", "Tools.Internal"]);
        assert!(rules.permits("localhost", "127.0.0.1".parse().unwrap()));
        assert!(rules.permits("tools.internal", "10.0.0.5".parse().unwrap()));
        assert!(!rules.permits("other.internal", "10.0.0.5".parse().unwrap()));
        let url = reqwest::Url::parse("http://169.254.169.254/latest/meta-data").unwrap();
        assert!(rules.refuse_literal(&url).is_some());
        let url = reqwest::Url::parse("http://127.0.0.1:8080/x").unwrap();
        assert!(rules.refuse_literal(&url).is_none());
    }
}
