//! o200k_base counts, checked against known encodings.

use spool_providers::{O200kTokenizer, tokenizer};

#[test]
fn known_counts() {
    let tokens = tokenizer();
    assert_eq!(tokens.count(""), 0);
    assert_eq!(tokens.count("hello world"), 2);
    assert_eq!(tokens.count("Hello, world!"), 4);
    assert_eq!(tokens.count(" "), 1);
    assert_eq!(
        tokens.count(&["hello"; 100].join(" ")),
        100,
        "one token per repeated word"
    );
}

#[test]
fn special_token_text_counts_as_text() {
    assert!(tokenizer().count("<|endoftext|>") > 1);
}

#[test]
fn the_instance_is_shared() {
    assert!(std::sync::Arc::ptr_eq(
        &O200kTokenizer::shared(),
        &O200kTokenizer::shared()
    ));
}

/// Long texts' counts are remembered: asking again answers the same, and
/// texts of the same length are not mistaken for each other.
#[test]
fn remembered_counts_are_the_counts() {
    let tokens = tokenizer();
    let words = ["hello "; 40].concat();
    let same_length = ["hallo "; 40].concat();
    let encoded = |text: &str| {
        tiktoken_rs::o200k_base_singleton()
            .encode_ordinary(text)
            .len()
    };
    let first = tokens.count(&words);
    assert_eq!(first, encoded(&words));
    assert_eq!(tokens.count(&words), first);
    let other = tokens.count(&same_length);
    assert_eq!(words.len(), same_length.len());
    assert_eq!(tokens.count(&same_length), other);
    assert_eq!(other, encoded(&same_length));
}
