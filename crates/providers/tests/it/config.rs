//! Provider and model tables: what is accepted, what is refused at start, and
//! that secrets stay out of `Debug`.

use spool_providers::{
    Catalog, ECHO_LABEL, ProviderConfig, ProvidersConfig, Timeouts, build_with_env,
};
use std::time::Duration;

fn parse(text: &str) -> Result<ProviderConfig, String> {
    toml::from_str(text).map_err(|err| err.to_string())
}

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn a_full_openai_table_parses() {
    let config = parse(
        r#"
        kind = "openai"
        name = "openrouter"
        base_url = "https://openrouter.ai/api/v1"
        api_key_env = "OPENROUTER_API_KEY"
        headers = { "HTTP-Referer" = "https://example.org" }
        max_retries = 3
        max_retry_wait_secs = 10
        timeouts = { connect_secs = 5, first_token_secs = 90, between_chunks_secs = 0.5 }
        "#,
    )
    .unwrap();
    let ProviderConfig::OpenAi(openai) = &config else {
        panic!("{config:?}")
    };
    assert_eq!(config.name(), "openrouter");
    assert_eq!(openai.max_retries, 3);
    assert_eq!(openai.max_retry_wait, Duration::from_secs(10));
    assert_eq!(
        openai.timeouts,
        Timeouts {
            connect: Duration::from_secs(5),
            first_token: Duration::from_secs(90),
            between_chunks: Duration::from_millis(500),
        }
    );
}

#[test]
fn defaults_are_sensible() {
    let ProviderConfig::OpenAi(openai) = parse("kind = \"openai\"\nname = \"o\"").unwrap() else {
        panic!()
    };
    assert_eq!(openai.base_url, "https://api.openai.com/v1");
    assert_eq!(openai.max_retries, 2);
    assert_eq!(openai.timeouts.connect, Duration::from_secs(10));
    assert_eq!(openai.timeouts.first_token, Duration::from_secs(60));
    assert_eq!(openai.timeouts.between_chunks, Duration::from_secs(30));
}

#[test]
fn unknown_keys_and_kinds_are_refused() {
    let err = parse("kind = \"openai\"\nname = \"o\"\napi_kee = \"x\"").unwrap_err();
    assert!(err.contains("api_kee"), "{err}");
    let err =
        parse("kind = \"anthropic\"\nname = \"a\"\ntimeouts = { first_token = 3 }").unwrap_err();
    assert!(err.contains("first_token"), "{err}");
    let err = parse("kind = \"gemini\"\nname = \"g\"").unwrap_err();
    assert!(err.contains("gemini"), "{err}");
    let err =
        parse("kind = \"openai\"\nname = \"o\"\ntimeouts = { connect_secs = 0 }").unwrap_err();
    assert!(err.contains("greater than 0"), "{err}");
}

#[test]
fn debug_never_shows_keys_or_header_values() {
    let config = parse(
        "kind = \"openai\"\nname = \"o\"\napi_key = \"sk-very-secret\"\nheaders = { x-extra = \"hdr-secret\" }",
    )
    .unwrap();
    let shown = format!("{config:?}");
    assert!(!shown.contains("sk-very-secret"), "{shown}");
    assert!(!shown.contains("hdr-secret"), "{shown}");
    assert!(shown.contains("x-extra"), "header names are fine: {shown}");
}

#[test]
fn keys_come_from_the_named_environment_variable() {
    let config =
        parse("kind = \"anthropic\"\nname = \"claude\"\napi_key_env = \"SPOOL_TEST_KEY\"").unwrap();
    let err = build_with_env(&config, &no_env)
        .err()
        .expect("a missing variable is refused");
    assert_eq!(err.key, "providers.claude.api_key_env");
    assert!(err.message.contains("SPOOL_TEST_KEY"), "{err}");
    let env = |var: &str| (var == "SPOOL_TEST_KEY").then(|| "sk-from-env".to_owned());
    assert!(build_with_env(&config, &env).is_ok());
}

#[test]
fn bad_tables_fail_at_build_with_the_key_at_fault() {
    let cases = [
        (
            "kind = \"anthropic\"\nname = \"a\"",
            "providers.a.api_key_env",
        ),
        (
            "kind = \"openai\"\nname = \"o\"\napi_key = \"k\"\napi_key_env = \"K\"",
            "providers.o.api_key",
        ),
        (
            "kind = \"openai\"\nname = \"o\"\nbase_url = \"localhost:8000\"",
            "providers.o.base_url",
        ),
        (
            "kind = \"openai\"\nname = \"o\"\nmax_tokens_field = \"limit\"",
            "providers.o.max_tokens_field",
        ),
        (
            "kind = \"openai\"\nname = \"o\"\napi_key = \"k\"\napi_key_header = \"bad header\"",
            "providers.o.api_key_header",
        ),
    ];
    for (text, key) in cases {
        let err = build_with_env(&parse(text).unwrap(), &no_env)
            .err()
            .unwrap_or_else(|| panic!("accepted: {text}"));
        assert_eq!(err.key, key, "{text}: {err}");
    }
}

#[test]
fn the_catalog_joins_models_to_providers() {
    let config: ProvidersConfig = toml::from_str(
        r#"
        [[providers]]
        kind = "openai"
        name = "local"
        base_url = "http://127.0.0.1:11434/v1"

        [[providers]]
        kind = "echo"
        name = "echo"

        [[models]]
        name = "llama3"
        provider = "local"
        upstream_model = "llama3.1:8b"
        context_window = 8192
        max_output_tokens = 1024
        label = "Llama 3.1 8B (local)"

        [[models]]
        name = "echo"
        provider = "echo"
        context_window = 128000
        "#,
    )
    .unwrap();
    let catalog = Catalog::from_config(&config).unwrap();
    let llama = catalog.get("llama3").unwrap();
    assert_eq!(llama.upstream_model, "llama3.1:8b");
    assert_eq!(llama.context_window, 8192);
    assert!(!llama.development);
    let echo = catalog.get("echo").unwrap();
    assert!(echo.development);
    assert_eq!(echo.label, ECHO_LABEL);
    assert_eq!(catalog.models().count(), 2);
    assert!(Catalog::offline().get("echo").unwrap().development);
}

#[test]
fn the_catalog_refuses_dangling_and_duplicate_names() {
    let parse = |text: &str| -> ProvidersConfig { toml::from_str(text).unwrap() };
    let dangling = parse("[[models]]\nname = \"m\"\nprovider = \"nowhere\"\ncontext_window = 10");
    assert_eq!(
        Catalog::from_config(&dangling).unwrap_err().key,
        "models[0].provider"
    );
    let twice = parse(
        "[[providers]]\nkind = \"echo\"\nname = \"e\"\n[[providers]]\nkind = \"echo\"\nname = \"e\"",
    );
    assert_eq!(
        Catalog::from_config(&twice).unwrap_err().key,
        "providers[1].name"
    );
    let too_big = parse(
        "[[providers]]\nkind = \"echo\"\nname = \"e\"\n[[models]]\nname = \"m\"\nprovider = \"e\"\ncontext_window = 10\nmax_output_tokens = 10",
    );
    assert_eq!(
        Catalog::from_config(&too_big).unwrap_err().key,
        "models[0].max_output_tokens"
    );
}
