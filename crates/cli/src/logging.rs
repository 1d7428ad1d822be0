//! Logs go to stderr, as text for people or JSON lines for collectors, so
//! that stdout stays for what a command prints (a key, a uuid, a sign-in).

use crate::config::{Config, LogFormat};
use std::fmt::{self, Write as _};
use std::io::IsTerminal;
use tracing::field::{Field, Visit};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::Writer;

pub fn init(config: &Config) -> anyhow::Result<()> {
    // Validated with the rest of the config; this cannot fail in practice.
    let filter = EnvFilter::try_new(&config.log)?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match config.log_format {
        LogFormat::Text => builder
            .fmt_fields(QuotedFields)
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        // The span list carries the request id even from inside nested spans.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .try_init(),
    };
    installed.map_err(|err| anyhow::anyhow!("log: cannot install the logger: {err}"))
}

/// Text-format fields as `name=value`, the value quoted and escaped unless it
/// is plain (letters, digits, `._:/@%+,-`). Request ids, paths and error texts
/// can come from clients; quoted, a value such as `x status=500` stays one
/// field instead of forging another, and no value can start a new line.
pub struct QuotedFields;

impl<'a> MakeVisitor<Writer<'a>> for QuotedFields {
    type Visitor = QuotedVisitor<'a>;

    fn make_visitor(&self, writer: Writer<'a>) -> QuotedVisitor<'a> {
        QuotedVisitor {
            writer,
            first: true,
            result: Ok(()),
        }
    }
}

pub struct QuotedVisitor<'a> {
    writer: Writer<'a>,
    first: bool,
    result: fmt::Result,
}

impl QuotedVisitor<'_> {
    fn write(&mut self, name: &str, value: &str) {
        if self.result.is_err() {
            return;
        }
        let separator = if self.first { "" } else { " " };
        self.first = false;
        self.result = if name == "message" {
            // The event's text, written by spool's code, not by clients:
            // kept readable, with only control characters escaped.
            write!(self.writer, "{separator}{}", Escaped(value, false))
        } else if is_plain(value) {
            write!(self.writer, "{separator}{name}={value}")
        } else {
            write!(
                self.writer,
                "{separator}{name}=\"{}\"",
                Escaped(value, true)
            )
        };
    }
}

impl Visit for QuotedVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.write(field.name(), value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `%value` fields arrive here too, their Debug being their Display.
        self.write(field.name(), &format!("{value:?}"));
    }
}

impl VisitOutput<fmt::Result> for QuotedVisitor<'_> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

impl VisitFmt for QuotedVisitor<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        &mut self.writer
    }
}

fn is_plain(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:/@%+,-".contains(&b))
}

/// `value` with control characters (and, when `quoted`, `"`, `\` and every
/// non-ASCII character) escaped, so the output is one line.
struct Escaped<'a>(&'a str, bool);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Escaped(value, quoted) = *self;
        for c in value.chars() {
            match c {
                '"' | '\\' if quoted => write!(f, "\\{c}")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if c.is_control() || (quoted && !c.is_ascii()) => {
                    write!(f, "\\u{{{:x}}}", u32::from(c))?
                }
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::QuotedFields;
    use std::sync::{Arc, Mutex};

    /// What one event inside a request span prints in text format.
    fn logged(emit: impl FnOnce()) -> String {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(QuotedFields)
            .with_ansi(false)
            .without_time()
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        String::from_utf8(buffer.lock().unwrap().clone()).unwrap()
    }

    /// A line split at the spaces outside double quotes, as a logfmt reader
    /// splits it (`\"` inside quotes does not end them).
    fn logfmt_words(line: &str) -> Vec<String> {
        let (mut words, mut word) = (Vec::new(), String::new());
        let (mut quoted, mut escaped) = (false, false);
        for c in line.chars() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                c if c.is_whitespace() && !quoted => {
                    if !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                    continue;
                }
                _ => {}
            }
            word.push(c);
        }
        if !word.is_empty() {
            words.push(word);
        }
        words
    }

    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn client_strings_cannot_forge_fields_or_lines() {
        let hostile = "abc status=500 path=/admin\nINFO forged line \"q\" caf\u{e9}";
        let out = logged(|| {
            let span = tracing::info_span!("request", request_id = %hostile, path = hostile);
            let _entered = span.enter();
            tracing::info!(status = 404, error = %hostile, "finished");
        });
        assert_eq!(out.lines().count(), 1, "{out}");
        let words = logfmt_words(&out);
        assert!(!words.iter().any(|w| w == "status=500"), "{out}");
        assert!(words.iter().any(|w| w == "status=404"), "{out}");
        let quoted = r#""abc status=500 path=/admin\nINFO forged line \"q\" caf\u{e9}""#;
        assert!(out.contains(&format!("request_id={quoted}")), "{out}");
        assert!(out.contains(&format!("path={quoted}")), "{out}");
        assert!(out.contains(&format!("error={quoted}")), "{out}");
    }

    #[test]
    fn plain_values_stay_bare() {
        let out = logged(|| {
            tracing::info!(
                path = "/api/v1/threads",
                request_id = %"0192c1f0-a1b2-7c3d-8e9f-0a1b2c3d4e5f",
                empty = "",
                "listening on 127.0.0.1:8080"
            );
        });
        assert!(out.contains(" listening on 127.0.0.1:8080 "), "{out}");
        assert!(out.contains(" path=/api/v1/threads "), "{out}");
        assert!(
            out.contains(" request_id=0192c1f0-a1b2-7c3d-8e9f-0a1b2c3d4e5f "),
            "{out}"
        );
        assert!(out.trim_end().ends_with("empty=\"\""), "{out}");
    }
}
