//! The scenarios (athena dialect, API-key auth) and the requests each sends.

use crate::load::{Plan, Template};
use crate::seed::{Fixture, message_body, thread_body};
use crate::words::Words;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    CreateThread,
    CreateMessage,
    GetThread,
    ListMessagesSmall,
    ListMessagesBig,
    ListThreads,
    ListThreadsCursor,
    Search,
}

/// What the baseline is measured against: a bare POST or a bare GET.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Write,
    Read,
}

impl Scenario {
    pub const ALL: [Scenario; 8] = [
        Scenario::CreateThread,
        Scenario::CreateMessage,
        Scenario::GetThread,
        Scenario::ListMessagesSmall,
        Scenario::ListMessagesBig,
        Scenario::ListThreads,
        Scenario::ListThreadsCursor,
        Scenario::Search,
    ];

    /// Also the key of its capture in the baseline's file.
    pub fn id(self) -> &'static str {
        match self {
            Scenario::CreateThread => "S1",
            Scenario::CreateMessage => "S2",
            Scenario::GetThread => "S3",
            Scenario::ListMessagesSmall => "S4-small",
            Scenario::ListMessagesBig => "S4-big",
            Scenario::ListThreads => "S5",
            Scenario::ListThreadsCursor => "S5-cursor",
            Scenario::Search => "S6",
        }
    }

    pub fn parse(id: &str) -> Option<Scenario> {
        Scenario::ALL
            .into_iter()
            .find(|s| s.id().eq_ignore_ascii_case(id))
    }

    pub fn kind(self) -> Kind {
        match self {
            Scenario::CreateThread | Scenario::CreateMessage => Kind::Write,
            _ => Kind::Read,
        }
    }

    /// One line for the results table; `sizes` fills in the numbers.
    pub fn title(self, sizes: &crate::seed::Sizes) -> String {
        match self {
            Scenario::CreateThread => "create thread (POST /threads)".into(),
            Scenario::CreateMessage => format!(
                "create message (POST /messages, round-robin over {} threads)",
                sizes.write_threads
            ),
            Scenario::GetThread => "get thread, nested creator and agent".into(),
            Scenario::ListMessagesSmall => format!(
                "list messages, cursor, 20/page, thread of {}",
                sizes.small_thread
            ),
            Scenario::ListMessagesBig => format!(
                "list messages, cursor, 20/page, thread of {}",
                sizes.big_thread
            ),
            Scenario::ListThreads => format!(
                "list threads by last_message_at, 20/page (page mode, counts the total), {} threads",
                sizes.list_threads
            ),
            Scenario::ListThreadsCursor => format!(
                "the same in cursor mode (no total), {} threads",
                sizes.list_threads
            ),
            Scenario::Search => format!(
                "full-text search, 20/page, {} messages",
                sizes.search_messages + sizes.big_thread
            ),
        }
    }

    pub fn plan(self, fixture: &Fixture) -> Plan {
        let read = |templates: Vec<Template>| Plan {
            templates,
            api_key: fixture.read_key.clone(),
        };
        match self {
            Scenario::CreateThread => Plan {
                templates: (0..64)
                    .map(|i| Template::post("/api/v1/threads", &thread_body(i, None)))
                    .collect(),
                api_key: fixture.write_key.clone(),
            },
            Scenario::CreateMessage => {
                let words = Words::new();
                Plan {
                    templates: fixture
                        .write_threads
                        .iter()
                        .enumerate()
                        .map(|(i, thread)| {
                            let body = message_body(thread, &words.sentence(i as u64));
                            Template::post("/api/v1/messages", &body)
                        })
                        .collect(),
                    api_key: fixture.write_key.clone(),
                }
            }
            Scenario::GetThread => read(vec![Template::get(format!(
                "/api/v1/threads/{}",
                fixture.agent_thread
            ))]),
            Scenario::ListMessagesSmall => read(vec![messages_page(&fixture.small_thread)]),
            Scenario::ListMessagesBig => read(vec![messages_page(&fixture.big_thread)]),
            Scenario::ListThreads => read(vec![Template::get(
                "/api/v1/threads?sort=last_message_at&per_page=20",
            )]),
            Scenario::ListThreadsCursor => read(vec![Template::get(
                "/api/v1/threads?sort=last_message_at&per_page=20&cursor=",
            )]),
            Scenario::Search => read(
                fixture
                    .search_words
                    .iter()
                    .map(|w| Template::get(format!("/api/v1/threads?search={w}&per_page=20")))
                    .collect(),
            ),
        }
    }
}

fn messages_page(thread: &str) -> Template {
    Template::get(format!(
        "/api/v1/messages?thread_uuid={thread}&cursor=&per_page=20"
    ))
}
