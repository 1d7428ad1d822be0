//! The providers workspaces add: built on demand from their stored
//! endpoint and opened credentials, with the server's timeouts and retries,
//! and sent only where the outbound-address rules allow
//! (`allowed_provider_hosts`): no proxy, no redirects, every name checked
//! when it resolves and every address literal before the provider is built.

use crate::config::{ApiKey, Headers};
use crate::outbound::{CheckedResolver, OutboundRules};
use crate::retry::RetryPolicy;
use crate::timeouts::{Timeouts, WithTimeouts};
use crate::{Anthropic, AnthropicSettings, OpenAi, OpenAiSettings, Retrying};
use spool_core::model::ProviderKind;
use spool_core::provider::{Provider, ProviderEndpoint, ProviderFactory};
use std::sync::Arc;

/// Anthropic's required reply limit when a request names none.
const ANTHROPIC_DEFAULT_MAX_TOKENS: u32 = 4_096;

pub struct OutboundProviders {
    rules: Arc<OutboundRules>,
    client: reqwest::Client,
    timeouts: Timeouts,
}

impl OutboundProviders {
    /// Providers that may reach every public address and the non-public
    /// `allowed_provider_hosts` (names or addresses).
    pub fn new(allowed_provider_hosts: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let rules = Arc::new(OutboundRules::new(allowed_provider_hosts));
        let timeouts = Timeouts::default();
        let client = reqwest::Client::builder()
            // A proxy would resolve names itself, past the rules.
            .no_proxy()
            // A redirect could lead past the rules, and carry the key along.
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(CheckedResolver {
                rules: rules.clone(),
            }))
            .connect_timeout(timeouts.connect)
            .user_agent(concat!("spool/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a client with these settings builds");
        Self {
            rules,
            client,
            timeouts,
        }
    }
}

#[async_trait::async_trait]
impl ProviderFactory for OutboundProviders {
    async fn refuse_base_url(&self, base_url: &str) -> Option<String> {
        let url = match reqwest::Url::parse(base_url) {
            Ok(url) => url,
            Err(err) => return Some(format!("The base_url is not a valid URL: {err}.")),
        };
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Some("The base_url must be an http or https URL with a host.".into());
        }
        self.rules.refuse_url(base_url).await
    }

    fn build(&self, endpoint: &ProviderEndpoint) -> Result<Arc<dyn Provider>, String> {
        let url = reqwest::Url::parse(&endpoint.base_url)
            .map_err(|err| format!("The base_url is not a valid URL: {err}."))?;
        if let Some(why) = self.rules.refuse_literal(&url) {
            return Err(why);
        }
        let name = endpoint.name.as_str();
        let explain = |err: crate::ConfigError| {
            let field = err.key.rsplit('.').next().unwrap_or_default().to_owned();
            format!("{field}: {}", err.message)
        };
        let mut headers = endpoint.headers.clone();
        let policy = RetryPolicy::default();
        Ok(match endpoint.kind {
            ProviderKind::OpenAi => {
                let settings = OpenAiSettings {
                    base_url: endpoint.base_url.clone(),
                    api_key: endpoint.api_key.clone().map(ApiKey::new),
                    api_key_header: endpoint.api_key_header.clone(),
                    headers: Headers(headers),
                    max_tokens_field: "max_tokens".into(),
                    stream_usage: true,
                };
                let provider = OpenAi::new(name, settings, self.client.clone()).map_err(explain)?;
                Arc::new(Retrying::new(
                    WithTimeouts::new(provider, self.timeouts),
                    policy,
                    name,
                ))
            }
            ProviderKind::Anthropic => {
                let mut api_key = endpoint.api_key.clone().map(ApiKey::new);
                // A key for another header than `x-api-key` goes there raw.
                if let (Some(header), Some(key)) = (&endpoint.api_key_header, &api_key) {
                    headers.insert(header.clone(), key.expose().to_owned());
                    api_key = None;
                }
                let settings = AnthropicSettings {
                    base_url: endpoint.base_url.clone(),
                    api_key,
                    headers: Headers(headers),
                    default_max_tokens: ANTHROPIC_DEFAULT_MAX_TOKENS,
                };
                let provider =
                    Anthropic::new(name, settings, self.client.clone()).map_err(explain)?;
                Arc::new(Retrying::new(
                    WithTimeouts::new(provider, self.timeouts),
                    policy,
                    name,
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn endpoint(base_url: &str) -> ProviderEndpoint {
        ProviderEndpoint {
            name: "mine".into(),
            kind: ProviderKind::OpenAi,
            base_url: base_url.into(),
            api_key: Some("sk-test-key-0000".into()),
            api_key_header: None,
            headers: BTreeMap::new(),
        }
    }

    #[tokio::test]
    async fn non_public_base_urls_are_refused_unless_allowed() {
        let strict = OutboundProviders::new(Vec::<String>::new());
        for url in [
            "http://127.0.0.1:9/v1",
            "http://[::1]/v1",
            "http://169.254.169.254/latest",
            "http://10.0.0.1/v1",
        ] {
            assert!(strict.refuse_base_url(url).await.is_some(), "{url}");
            assert!(strict.build(&endpoint(url)).is_err(), "{url}");
        }
        assert!(strict.refuse_base_url("ftp://example.com").await.is_some());
        assert!(strict.refuse_base_url("not a url").await.is_some());
        let allowing = OutboundProviders::new(["127.0.0.1"]);
        assert_eq!(
            allowing.refuse_base_url("http://127.0.0.1:9/v1").await,
            None
        );
        assert!(allowing.build(&endpoint("http://127.0.0.1:9/v1")).is_ok());
    }

    #[test]
    fn a_bad_header_is_named() {
        let providers = OutboundProviders::new(["127.0.0.1"]);
        let mut bad = endpoint("http://127.0.0.1:9/v1");
        bad.api_key_header = Some("bad header".into());
        let err = providers.build(&bad).err().expect("refused");
        assert!(err.starts_with("api_key_header:"), "{err}");
    }
}
