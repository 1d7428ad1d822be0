//! The offline echo model: deterministic pieces, counted usage, max_tokens.

use crate::support::{request, run, timed};
use spool_core::provider::{ChatMessage, ChatRole, FinishReason, Usage};
use spool_providers::{ECHO_LABEL, Echo, build, tokenizer};
use std::time::Duration;

fn echo() -> Echo {
    Echo::new(tokenizer(), Duration::ZERO)
}

#[tokio::test]
async fn echoes_the_last_user_message_in_pieces_with_usage() {
    let request = request("hello big  world");
    let outcome = run(&echo(), request.clone()).await;
    assert_eq!(outcome.deltas, ["Echo: ", "hello ", "big  ", "world"]);
    assert_eq!(outcome.finish, Some(FinishReason::Stop));
    let count = |text: &str| tokenizer().count(text) as u32;
    assert_eq!(
        outcome.usage,
        Some(Usage {
            input_tokens: count("You are terse.") + count("hello big  world"),
            output_tokens: count("Echo: hello big  world"),
        })
    );
    let again = run(&echo(), request).await;
    assert_eq!(again.deltas, outcome.deltas, "deterministic");
    assert_eq!(again.usage, outcome.usage);
}

#[tokio::test]
async fn a_thread_without_user_messages_gets_a_fixed_reply() {
    let mut request = request("unused");
    request.messages.retain(|m| m.role != ChatRole::User);
    request.messages.push(ChatMessage::text(
        ChatRole::Assistant,
        "earlier reply".to_owned(),
    ));
    let outcome = run(&echo(), request).await;
    assert!(outcome.text().starts_with("Echo: "), "{}", outcome.text());
    assert!(!outcome.text().contains("earlier reply"));
    assert_eq!(outcome.finish, Some(FinishReason::Stop));
}

#[tokio::test]
async fn max_tokens_cuts_the_reply_and_finishes_with_length() {
    let mut request = request("one two three four five six seven eight nine ten");
    request.max_tokens = Some(4);
    let outcome = run(&echo(), request.clone()).await;
    assert_eq!(outcome.finish, Some(FinishReason::Length));
    let text = outcome.text();
    assert!(!text.is_empty());
    assert!("Echo: one two three four five six seven eight nine ten".starts_with(&text));
    let usage = outcome.usage.expect("usage is reported");
    assert_eq!(usage.output_tokens as usize, tokenizer().count(&text));
    assert!(usage.output_tokens <= 4);

    request.max_tokens = Some(0);
    let outcome = run(&echo(), request.clone()).await;
    assert!(outcome.deltas.is_empty());
    assert_eq!(outcome.finish, Some(FinishReason::Length));

    request.max_tokens = Some(1000);
    let outcome = run(&echo(), request).await;
    assert_eq!(
        outcome.finish,
        Some(FinishReason::Stop),
        "a limit it fits in"
    );
}

/// On a paused clock: the pieces come exactly 30 ms apart, in no real time.
#[tokio::test(start_paused = true)]
async fn built_from_config_it_streams_with_its_piece_delay() {
    let config = toml::from_str("kind = \"echo\"\nname = \"echo\"\npiece_delay_ms = 30").unwrap();
    let (outcome, times) = timed(&*build(&config).unwrap(), request("a b c")).await;
    assert_eq!(outcome.deltas, ["Echo: ", "a ", "b ", "c"]);
    let ms = |ms| Duration::from_millis(ms);
    assert_eq!(times.deltas, [ms(0), ms(30), ms(60), ms(90)]);
    assert_eq!(times.ended, ms(90), "usage and finish follow at once");
}

#[test]
fn it_is_labelled_as_a_development_model() {
    assert!(ECHO_LABEL.starts_with("echo"));
    assert!(ECHO_LABEL.contains("development model"));
}
