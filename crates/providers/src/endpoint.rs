//! Where a provider's requests go and the headers they carry, checked when
//! the provider is built so that a bad config fails at start.

use crate::config::{ConfigError, Headers};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// `{base_url}/{path}`, keeping `base_url`'s query string.
pub(crate) fn endpoint(
    provider: &str,
    base_url: &str,
    path: &str,
) -> Result<reqwest::Url, ConfigError> {
    let bad = |message: String| ConfigError::new(format!("providers.{provider}.base_url"), message);
    let mut url = reqwest::Url::parse(base_url).map_err(|err| bad(format!("not a URL: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("expected an http:// or https:// URL".to_owned()));
    }
    let joined = format!("{}/{path}", url.path().trim_end_matches('/'));
    url.set_path(&joined);
    Ok(url)
}

pub(crate) fn extra_headers(provider: &str, headers: &Headers) -> Result<HeaderMap, ConfigError> {
    let mut map = HeaderMap::new();
    for (name, value) in &headers.0 {
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            ConfigError::new(
                format!("providers.{provider}.headers.{name}"),
                "not a valid header value",
            )
        })?;
        // Some deployments put credentials here: nothing may print them.
        value.set_sensitive(true);
        map.insert(header_name(provider, "headers", name)?, value);
    }
    Ok(map)
}

pub(crate) fn header_name(
    provider: &str,
    field: &str,
    name: &str,
) -> Result<HeaderName, ConfigError> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        ConfigError::new(
            format!("providers.{provider}.{field}"),
            format!("'{name}' is not a header name"),
        )
    })
}

/// A header value marked sensitive, so that nothing prints it.
pub(crate) fn secret_value(provider: &str, value: &str) -> Result<HeaderValue, ConfigError> {
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        ConfigError::new(
            format!("providers.{provider}.api_key"),
            "the key is not a valid header value",
        )
    })?;
    value.set_sensitive(true);
    Ok(value)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_keeps_the_query_string() {
        let azure = "https://x.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21";
        assert_eq!(
            endpoint("p", azure, "chat/completions").unwrap().as_str(),
            "https://x.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(
            endpoint("p", "http://localhost:11434/v1/", "chat/completions")
                .unwrap()
                .as_str(),
            "http://localhost:11434/v1/chat/completions"
        );
        assert_eq!(
            endpoint("p", "ftp://x", "a").unwrap_err().key,
            "providers.p.base_url"
        );
        assert!(endpoint("p", "localhost:8000", "a").is_err());
    }
}
