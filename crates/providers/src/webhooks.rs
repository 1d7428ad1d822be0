//! Sending webhooks: a POST of the signed body, under the same outbound
//! address rules as tools with their own list of allowed hosts
//! (`allowed_webhook_hosts`), no redirects followed, no proxy, a timeout.

use crate::outbound::{CheckedResolver, OutboundRules};
use spool_core::webhooks::WebhookSender;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Most time one delivery attempt may take.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a save waits for a webhook's host name to resolve.
const SAVE_LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

pub struct HttpWebhooks {
    client: reqwest::Client,
    rules: Arc<OutboundRules>,
}

impl HttpWebhooks {
    /// A sender allowing the non-public `allowed_webhook_hosts` (names or
    /// addresses) besides every public address.
    pub fn new(allowed_webhook_hosts: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let rules = Arc::new(OutboundRules::new(allowed_webhook_hosts));
        let client = reqwest::Client::builder()
            // A proxy would resolve names itself, past the rules.
            .no_proxy()
            // A redirect is a failed attempt: the receiver's URL is the one saved.
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(CheckedResolver {
                rules: rules.clone(),
            }))
            .timeout(WEBHOOK_TIMEOUT)
            .user_agent(concat!("spool-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a client with these settings builds");
        Self { client, rules }
    }

    /// Why `url` may not be sent to: not http(s), or an address (given, or
    /// all those its name resolves to) that is neither public nor allowed.
    /// `lookup` bounds the wait for DNS; a name that does not resolve
    /// passes when saving, and fails when sending.
    async fn refuse(&self, url: &str, lookup: Option<Duration>) -> Option<String> {
        let url = match reqwest::Url::parse(url) {
            Ok(url) => url,
            Err(err) => return Some(format!("The url is not a valid URL: {err}.")),
        };
        if !matches!(url.scheme(), "http" | "https") {
            return Some("The url must be an http or https URL.".into());
        }
        let Some(host) = url
            .host_str()
            .map(|h| h.trim_matches(['[', ']']).to_owned())
        else {
            return Some("The url must name a host.".into());
        };
        if let Ok(ip) = host.parse::<IpAddr>() {
            return (!self.rules.permits(&host, ip)).then(|| refusal(&host));
        }
        let port = url.port_or_known_default().unwrap_or(443);
        let found = tokio::net::lookup_host((host.as_str(), port));
        let found: Vec<SocketAddr> = match lookup {
            Some(wait) => match tokio::time::timeout(wait, found).await {
                Ok(Ok(found)) => found.collect(),
                _ => return None,
            },
            None => match found.await {
                Ok(found) => found.collect(),
                Err(err) => return Some(format!("The receiver's name did not resolve: {err}.")),
            },
        };
        (!found.is_empty() && !found.iter().any(|a| self.rules.permits(&host, a.ip())))
            .then(|| refusal(&host))
    }
}

fn refusal(host: &str) -> String {
    format!(
        "The address of {host} is not public (loopback, private, link-local, multicast or \
         metadata); webhooks may not reach it unless the server's allowed_webhook_hosts names it."
    )
}

/// The error's own words and its causes.
fn describe(err: &reqwest::Error) -> String {
    let mut text = if err.is_timeout() {
        "The receiver did not answer in time".to_owned()
    } else {
        "The receiver could not be reached".to_owned()
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.push('.');
    text
}

#[async_trait::async_trait]
impl WebhookSender for HttpWebhooks {
    async fn check(&self, url: &str) -> Result<(), String> {
        match self.refuse(url, Some(SAVE_LOOKUP_TIMEOUT)).await {
            Some(why) => Err(why),
            None => Ok(()),
        }
    }

    async fn send(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: &str,
    ) -> Result<u16, String> {
        // Checked here with the webhook's wording; the resolver checks the
        // addresses it connects to again.
        if let Some(why) = self.refuse(url, None).await {
            return Err(why);
        }
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.map_err(|e| describe(&e))?;
        Ok(response.status().as_u16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn non_public_receivers_are_refused_unless_allowed() {
        let strict = HttpWebhooks::new(Vec::<String>::new());
        for url in [
            "http://127.0.0.1:9/hook",
            "http://[::1]/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.1/",
            "http://localhost/hook",
        ] {
            let why = strict.check(url).await.unwrap_err();
            assert!(why.contains("allowed_webhook_hosts"), "{url}: {why}");
        }
        for url in ["ftp://example.com/", "not a url", "file:///etc/passwd"] {
            assert!(strict.check(url).await.is_err(), "{url}");
        }
        let open = HttpWebhooks::new(["127.0.0.1"]);
        assert_eq!(open.check("http://127.0.0.1:9/hook").await, Ok(()));
    }
}
