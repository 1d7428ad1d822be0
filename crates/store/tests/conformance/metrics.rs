//! Metrics: rows created in `[from, to)` counted per UTC day, week (from
//! Monday) and month, with token sums for messages.

use crate::builders::{self, append, insert_thread, message, reply, thread};
use crate::fixtures;
use chrono::{TimeZone, Utc};
use spool_core::query::{Bucket, MetricsPoint, MetricsQuery, MetricsSubject};
use spool_core::{AgentId, Store, Timestamp, WorkspaceId};
use std::sync::Arc;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Timestamp {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn day(y: i32, mo: u32, d: u32) -> Timestamp {
    utc(y, mo, d, 0, 0, 0)
}

fn point(start: Timestamp, count: u64) -> MetricsPoint {
    MetricsPoint {
        start,
        count,
        input_tokens: 0,
        output_tokens: 0,
    }
}

fn tokens(start: Timestamp, count: u64, input: u64, output: u64) -> MetricsPoint {
    MetricsPoint {
        start,
        count,
        input_tokens: input,
        output_tokens: output,
    }
}

struct Ask<'a> {
    store: &'a Arc<dyn Store>,
    workspace: WorkspaceId,
    from: Timestamp,
    to: Timestamp,
}

impl Ask<'_> {
    async fn get(
        &self,
        subject: MetricsSubject,
        agent: Option<AgentId>,
        bucket: Bucket,
    ) -> Vec<MetricsPoint> {
        self.store
            .metrics(MetricsQuery {
                workspace: self.workspace,
                subject,
                agent,
                bucket,
                from: self.from,
                to: self.to,
            })
            .await
            .expect("metrics")
    }
}

pub async fn story_metrics(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let ws = fixtures::insert_workspace(&store, "Engines", ada.id).await;
    let other = fixtures::insert_workspace(&store, "Elsewhere", ada.id).await;
    let helper = builders::insert_agent(&store, ws.id, ada.id, utc(2024, 1, 15, 9, 0, 0)).await;
    let second = builders::insert_agent(&store, ws.id, ada.id, utc(2024, 3, 4, 0, 0, 0)).await;
    builders::insert_agent(&store, ws.id, ada.id, utc(2024, 3, 31, 23, 59, 59)).await;
    builders::insert_agent(&store, ws.id, ada.id, utc(2023, 12, 31, 23, 59, 59)).await;
    builders::insert_agent(&store, other.id, ada.id, utc(2024, 3, 5, 0, 0, 0)).await;

    // Threads: a leap day (Thursday), the last microsecond of a Sunday and
    // the first of the Monday after, month ends, and rows out of range.
    let last_sunday_micro = utc(2024, 3, 3, 23, 59, 59) + chrono::Duration::microseconds(999_999);
    let mut made = Vec::new();
    for (created, agent) in [
        (utc(2024, 2, 29, 10, 0, 0), None),
        (last_sunday_micro, None),
        (day(2024, 3, 4), None),
        (utc(2024, 3, 4, 12, 0, 0), Some(helper.id)),
        (utc(2024, 3, 31, 23, 0, 0), None),
        (day(2024, 4, 1), Some(second.id)),
        (day(2024, 5, 1), None),                         // == to: out
        (utc(2024, 1, 31, 23, 59, 59), Some(helper.id)), // before from
    ] {
        let mut t = thread(ws.id, Some(ada.id), created);
        t.agent_id = agent;
        made.push(insert_thread(&store, t).await);
    }
    insert_thread(&store, thread(other.id, Some(ada.id), day(2024, 3, 4))).await;

    let ask = Ask {
        store: &store,
        workspace: ws.id,
        from: day(2024, 2, 1),
        to: day(2024, 5, 1),
    };
    use MetricsSubject::{Agents, Messages, Threads};
    assert_eq!(
        ask.get(Threads, None, Bucket::Day).await,
        [
            point(day(2024, 2, 29), 1),
            point(day(2024, 3, 3), 1),
            point(day(2024, 3, 4), 2),
            point(day(2024, 3, 31), 1),
            point(day(2024, 4, 1), 1),
        ]
    );
    assert_eq!(
        ask.get(Threads, None, Bucket::Week).await,
        [
            point(day(2024, 2, 26), 2),
            point(day(2024, 3, 4), 2),
            point(day(2024, 3, 25), 1),
            point(day(2024, 4, 1), 1),
        ]
    );
    assert_eq!(
        ask.get(Threads, None, Bucket::Month).await,
        [
            point(day(2024, 2, 1), 1),
            point(day(2024, 3, 1), 4),
            point(day(2024, 4, 1), 1),
        ]
    );
    assert_eq!(
        ask.get(Threads, Some(helper.id), Bucket::Month).await,
        [point(day(2024, 3, 1), 1)]
    );

    // Messages carry their thread's agent; tokens are summed per bucket.
    let (plain, with_helper) = (&made[2], &made[3]);
    append(
        &store,
        message(with_helper, "hi", utc(2024, 3, 4, 13, 0, 0)),
    )
    .await;
    append(
        &store,
        reply(
            with_helper,
            "hello",
            utc(2024, 3, 5, 8, 0, 0),
            Some("m"),
            (100, 20),
        ),
    )
    .await;
    append(
        &store,
        reply(with_helper, "more", utc(2024, 3, 5, 9, 0, 0), None, (50, 5)),
    )
    .await;
    append(&store, message(plain, "hey", utc(2024, 3, 4, 14, 0, 0))).await;
    append(
        &store,
        reply(plain, "yo", utc(2024, 3, 10, 23, 59, 59), None, (1, 1)),
    )
    .await;
    append(
        &store,
        reply(plain, "late", utc(2024, 3, 11, 0, 0, 0), None, (2, 2)),
    )
    .await;
    append(
        &store,
        reply(plain, "out", day(2024, 5, 1), None, (1000, 1000)),
    )
    .await;
    assert_eq!(
        ask.get(Messages, None, Bucket::Day).await,
        [
            tokens(day(2024, 3, 4), 2, 0, 0),
            tokens(day(2024, 3, 5), 2, 150, 25),
            tokens(day(2024, 3, 10), 1, 1, 1),
            tokens(day(2024, 3, 11), 1, 2, 2),
        ]
    );
    assert_eq!(
        ask.get(Messages, None, Bucket::Week).await,
        [
            tokens(day(2024, 3, 4), 5, 151, 26),
            tokens(day(2024, 3, 11), 1, 2, 2),
        ]
    );
    assert_eq!(
        ask.get(Messages, Some(helper.id), Bucket::Week).await,
        [tokens(day(2024, 3, 4), 3, 150, 25)]
    );
    assert_eq!(
        ask.get(Messages, None, Bucket::Month).await,
        [tokens(day(2024, 3, 1), 6, 153, 28)]
    );
    assert!(
        ask.get(Messages, Some(second.id), Bucket::Day)
            .await
            .is_empty()
    );

    // Agents of the workspace, by the month they were made.
    let agents = Ask {
        from: day(2023, 12, 1),
        ..ask
    };
    assert_eq!(
        agents.get(Agents, None, Bucket::Month).await,
        [
            point(day(2023, 12, 1), 1),
            point(day(2024, 1, 1), 1),
            point(day(2024, 3, 1), 2),
        ]
    );
    assert_eq!(
        agents.get(Agents, Some(second.id), Bucket::Week).await,
        [point(day(2024, 3, 4), 1)]
    );
    assert_eq!(
        agents.get(Agents, None, Bucket::Week).await,
        [
            point(day(2023, 12, 25), 1),
            point(day(2024, 1, 15), 1),
            point(day(2024, 3, 4), 1),
            point(day(2024, 3, 25), 1),
        ]
    );

    // Before 1970 the buckets still start on the right day.
    insert_thread(&store, thread(ws.id, None, utc(1969, 12, 31, 23, 0, 0))).await;
    let early = Ask {
        from: day(1969, 12, 1),
        to: day(1970, 1, 2),
        ..ask
    };
    assert_eq!(
        early.get(Threads, None, Bucket::Day).await,
        [point(day(1969, 12, 31), 1)]
    );
    assert_eq!(
        early.get(Threads, None, Bucket::Week).await,
        [point(day(1969, 12, 29), 1)]
    );
    assert_eq!(
        early.get(Threads, None, Bucket::Month).await,
        [point(day(1969, 12, 1), 1)]
    );
    let empty = Ask {
        workspace: WorkspaceId::new(),
        ..ask
    };
    assert!(empty.get(Threads, None, Bucket::Day).await.is_empty());
}
