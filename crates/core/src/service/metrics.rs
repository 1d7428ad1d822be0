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

/// How the leaderboard ranks agents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaderboardSort {
    Runs,
    Threads,
    Tokens,
    PositiveFeedback,
}

impl LeaderboardSort {
    pub fn as_str(self) -> &'static str {
        match self {
            LeaderboardSort::Runs => "runs",
            LeaderboardSort::Threads => "threads",
            LeaderboardSort::Tokens => "tokens",
            LeaderboardSort::PositiveFeedback => "positive_feedback",
        }
    }

    fn key(self, stats: &crate::query::AgentStats) -> u64 {
        match self {
            LeaderboardSort::Runs => stats.runs,
            LeaderboardSort::Threads => stats.threads,
            LeaderboardSort::Tokens => stats.input_tokens + stats.output_tokens,
            LeaderboardSort::PositiveFeedback => stats.positive_feedback,
        }
    }
}

#[derive(Debug, Default)]
pub struct LeaderboardInput {
    /// `runs` (default), `threads`, `tokens` or `positive_feedback`.
    pub sort: Option<String>,
    /// Inclusive start (default: 30 days before `to`).
    pub from: Option<Timestamp>,
    /// Exclusive end (default: now).
    pub to: Option<Timestamp>,
    /// At most this many agents (default 10, at most 100).
    pub limit: Option<u32>,
}

pub struct Leaderboard {
    /// Best first, with each agent's rank (1-based; ties share none: they
    /// are ordered by the other counts, then by name).
    pub entries: Vec<(crate::model::Agent, crate::query::AgentStats)>,
    pub sort: LeaderboardSort,
    pub from: Timestamp,
    pub to: Timestamp,
}

/// A workspace's threads, messages and runs per period.
pub struct WorkspaceMetrics {
    pub workspace: crate::model::Workspace,
    pub threads: MetricsSeries,
    pub messages: MetricsSeries,
    pub runs: MetricsSeries,
}

impl Spool {
    /// The workspace's agents the caller may use, ranked by what they did
    /// in the range.
    pub async fn agent_leaderboard(
        &self,
        principal: &crate::Principal,
        scope: &Scope,
        input: LeaderboardInput,
    ) -> Result<Leaderboard, CoreError> {
        let mut errors = ValidationErrors::new();
        let sort = match input.sort.as_deref() {
            None | Some("runs") => LeaderboardSort::Runs,
            Some("threads") => LeaderboardSort::Threads,
            Some("tokens") => LeaderboardSort::Tokens,
            Some("positive_feedback") => LeaderboardSort::PositiveFeedback,
            Some(_) => {
                errors.add(
                    "sort",
                    "The sort must be runs, threads, tokens or positive_feedback.",
                );
                LeaderboardSort::Runs
            }
        };
        let limit = input.limit.unwrap_or(10);
        if !(1..=100).contains(&limit) {
            errors.add("limit", "The limit must be between 1 and 100.");
        }
        let to = input.to.unwrap_or_else(now);
        let from = input.from.unwrap_or(to - Duration::days(30));
        if from >= to {
            errors.add("from", "The from date must be before the to date.");
        }
        errors.into_result()?;
        let mut entries = Vec::new();
        for stats in self.store.agent_stats(scope.id(), from, to).await? {
            let Some(agent) = self.store.agent(stats.agent).await? else {
                continue;
            };
            if self.may_use_agent(principal, scope, &agent) {
                entries.push((agent, stats));
            }
        }
        entries.sort_by(|(a, x), (b, y)| {
            sort.key(y)
                .cmp(&sort.key(x))
                .then(y.runs.cmp(&x.runs))
                .then(y.threads.cmp(&x.threads))
                .then(a.name.cmp(&b.name))
                .then(a.id.0.cmp(&b.id.0))
        });
        entries.truncate(limit as usize);
        Ok(Leaderboard {
            entries,
            sort,
            from,
            to,
        })
    }

    /// Threads, messages and runs per period for each of the caller's
    /// workspaces (an API key: its own).
    pub async fn workspace_metrics(
        &self,
        principal: &crate::Principal,
        period: Option<String>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<WorkspaceMetrics>, CoreError> {
        let to = Some(to.unwrap_or_else(now));
        let page = crate::paging::PageRequest {
            page: 1,
            per_page: 100,
        };
        let mut answer = Vec::new();
        for workspace in self.list_workspaces(principal, page).await?.items {
            let scope = self.resolve_scope(principal, Some(workspace.id)).await?;
            let series = |subject| MetricsInput {
                subject,
                agent: None,
                period: period.clone(),
                from,
                to,
            };
            answer.push(WorkspaceMetrics {
                threads: self
                    .metrics(&scope, series(MetricsSubject::Threads))
                    .await?,
                messages: self
                    .metrics(&scope, series(MetricsSubject::Messages))
                    .await?,
                runs: self.metrics(&scope, series(MetricsSubject::Runs)).await?,
                workspace,
            });
        }
        Ok(answer)
    }
}
