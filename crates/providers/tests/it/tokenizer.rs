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
