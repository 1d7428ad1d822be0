//! Counts per day, week or month for dashboards, from the created_at indexes.

use super::{Scope, Spool};
use crate::error::{CoreError, ValidationErrors};
use crate::query::{Bucket, MetricsPoint, MetricsQuery, MetricsSubject};
use crate::{AgentId, Timestamp, now};
use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};

/// Longest series answered at once.
pub const MAX_BUCKETS: i64 = 400;

#[derive(Debug)]
pub struct MetricsInput {
    pub subject: MetricsSubject,
    pub agent: Option<AgentId>,
    /// `day` (default), `week` or `month`.
    pub period: Option<String>,
    /// Inclusive start (default: 30 days before `to`).
    pub from: Option<Timestamp>,
    /// Exclusive end (default: now).
    pub to: Option<Timestamp>,
}

/// The first instant of the bucket holding `at`.
pub fn bucket_start(bucket: Bucket, at: Timestamp) -> Timestamp {
    let date = at.date_naive();
    let first = match bucket {
        Bucket::Day => date,
        Bucket::Week => date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
        Bucket::Month => {
            NaiveDate::from_ymd_opt(date.year(), date.month(), 1).expect("first of a month exists")
        }
    };
    Utc.from_utc_datetime(&first.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

fn next_bucket(bucket: Bucket, start: Timestamp) -> Timestamp {
    match bucket {
        Bucket::Day => start + Duration::days(1),
        Bucket::Week => start + Duration::days(7),
        Bucket::Month => start
            .checked_add_months(chrono::Months::new(1))
            .expect("in range"),
    }
}

/// Every period of the range in order, zeros included.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsSeries {
    pub points: Vec<MetricsPoint>,
    pub bucket: Bucket,
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Spool {
    pub async fn metrics(
        &self,
        scope: &Scope,
        input: MetricsInput,
    ) -> Result<MetricsSeries, CoreError> {
        let mut errors = ValidationErrors::new();
        let bucket = match input.period.as_deref() {
            None | Some("day") => Bucket::Day,
            Some("week") => Bucket::Week,
            Some("month") => Bucket::Month,
            Some(_) => {
                errors.add("period", "The period must be day, week or month.");
                Bucket::Day
            }
        };
        let to = input.to.unwrap_or_else(now);
        let from = input.from.unwrap_or(to - Duration::days(30));
        if from >= to {
            errors.add("from", "The from date must be before the to date.");
        }
        let span = match bucket {
            Bucket::Day => (to - from).num_days(),
            Bucket::Week => (to - from).num_weeks(),
            Bucket::Month => (to - from).num_days() / 28,
        };
        if span > MAX_BUCKETS {
            errors.add("from", format!("At most {MAX_BUCKETS} periods at once."));
        }
        errors.into_result()?;
        let query = MetricsQuery {
            workspace: scope.id(),
            subject: input.subject,
            agent: input.agent,
            bucket,
            from,
            to,
        };
        let found = self.store.metrics(query).await?;
        // Every bucket of the range, zero where nothing was created.
        let mut series = Vec::new();
        let mut start = bucket_start(bucket, from);
        let mut found = found.into_iter().peekable();
        while start < to {
            let point = match found.peek() {
                Some(p) if p.start == start => found.next().expect("peeked"),
                _ => MetricsPoint {
                    start,
                    count: 0,
                    input_tokens: 0,
                    output_tokens: 0,
                },
            };
            series.push(point);
            start = next_bucket(bucket, start);
        }
        Ok(MetricsSeries {
            points: series,
            bucket,
            from,
            to,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_start_at_midnight_monday_and_the_first() {
        let at = Utc.with_ymd_and_hms(2026, 11, 19, 15, 4, 5).unwrap(); // a Thursday
        assert_eq!(
            bucket_start(Bucket::Day, at),
            Utc.with_ymd_and_hms(2026, 11, 19, 0, 0, 0).unwrap()
        );
        assert_eq!(
            bucket_start(Bucket::Week, at),
            Utc.with_ymd_and_hms(2026, 11, 16, 0, 0, 0).unwrap()
        );
        assert_eq!(
            bucket_start(Bucket::Month, at),
            Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
        );
    }
}
