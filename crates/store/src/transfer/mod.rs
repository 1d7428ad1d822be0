//! `spool export` and `spool import`: a database, or one workspace of it,
//! as JSON Lines — one `{"type": …, "data": {…}}` a row, the tables in the
//! order of [`schema::TABLES`] so that every reference comes before the row
//! holding it. Both backends read and write the same lines: moving from
//! SQLite to PostgreSQL is an export and an import.
//!
//! Export reads one snapshot and streams it. Import is one transaction: any
//! conflict (a row whose id, or a user whose email, is there already) or bad
//! line rolls it all back, and the conflicts are reported.

mod postgres;
pub mod schema;
mod sqlite;

use schema::{Kind, Table};
use serde_json::{Map, Value};
use spool_core::{StoreError, WorkspaceId};
use std::fmt;
use std::io::{BufRead, Write};

/// What to export.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExportOptions {
    /// One workspace and what its rows name; every row when `None`.
    pub workspace: Option<WorkspaceId>,
    /// Users' argon2id hashes; without them imported users cannot sign in.
    pub password_hashes: bool,
}

/// Told the count of rows written or read so far, every [`PROGRESS_EVERY`].
pub type Progress = Box<dyn FnMut(u64) + Send>;
pub const PROGRESS_EVERY: u64 = 1000;

/// Conflicts named in an error at most.
const CONFLICTS_SHOWN: usize = 20;

#[derive(Debug)]
pub enum TransferError {
    Store(StoreError),
    Io(std::io::Error),
    /// A line that is not one spool wrote.
    Line {
        line: u64,
        message: String,
    },
    /// Rows already in the database; nothing was imported.
    Conflicts {
        count: u64,
        examples: Vec<String>,
    },
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransferError::Store(err) => write!(f, "{err}"),
            TransferError::Io(err) => write!(f, "{err}"),
            TransferError::Line { line, message } => write!(f, "line {line}: {message}"),
            TransferError::Conflicts { count, examples } => write!(
                f,
                "{count} rows are in the database already, nothing was imported: {}{}",
                examples.join(", "),
                if *count as usize > examples.len() {
                    ", …"
                } else {
                    ""
                }
            ),
        }
    }
}

impl std::error::Error for TransferError {}

impl From<StoreError> for TransferError {
    fn from(err: StoreError) -> Self {
        TransferError::Store(err)
    }
}

impl From<std::io::Error> for TransferError {
    fn from(err: std::io::Error) -> Self {
        TransferError::Io(err)
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Writes the database at `url` (or one workspace of it) to `out`; answers
/// the number of lines.
pub async fn export(
    url: &str,
    options: ExportOptions,
    out: Box<dyn Write + Send>,
    progress: Progress,
) -> Result<u64, TransferError> {
    if is_postgres(url) {
        postgres::export(url, options, out, progress).await
    } else {
        sqlite::export(url, options, out, progress).await
    }
}

/// Adds the lines of `input` to the database at `url` (migrated first), in
/// one transaction; answers the number of rows.
pub async fn import(
    url: &str,
    input: Box<dyn BufRead + Send>,
    progress: Progress,
) -> Result<u64, TransferError> {
    crate::open(url).await?;
    if is_postgres(url) {
        postgres::import(url, input, progress).await
    } else {
        sqlite::import(url, input, progress).await
    }
}

/// Objects with their keys sorted, at every depth: PostgreSQL's `jsonb`
/// keeps keys in an order of its own, SQLite keeps the text as written.
fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// One line of the file.
fn render(table: &Table, data: Map<String, Value>) -> String {
    let data = canonical(Value::Object(data));
    format!("{{\"type\":\"{}\",\"data\":{data}}}\n", table.name)
}

/// `Time` in the file: RFC 3339, microseconds, UTC.
fn time_text(at: spool_core::Timestamp) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A parsed line: its table and its columns' values, in the table's order.
struct Row {
    table: &'static Table,
    values: Vec<Value>,
}

impl Row {
    fn value(&self, column: &str) -> &Value {
        let at = self
            .table
            .columns
            .iter()
            .position(|(c, _)| *c == column)
            .expect("a column of the table");
        &self.values[at]
    }

    fn set_null(&mut self, column: &str) {
        if let Some(at) = self.table.columns.iter().position(|(c, _)| *c == column) {
            self.values[at] = Value::Null;
        }
    }

    /// What a conflict report calls the row: `thread 0193…`.
    fn describe(&self) -> String {
        let key: Vec<String> = self
            .table
            .key
            .iter()
            .map(|k| match self.value(k) {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        format!("{} {}", self.table.name, key.join("/"))
    }
}

/// Reads line `number`: a known type, the table's columns and no others,
/// each of its kind (absent means null). A user without a hash gets an
/// empty one, which matches no password.
fn parse(number: u64, text: &str) -> Result<Row, TransferError> {
    let bad = |message: String| TransferError::Line {
        line: number,
        message,
    };
    let line: Value =
        serde_json::from_str(text).map_err(|e| bad(format!("not a JSON object: {e}")))?;
    let name = line["type"]
        .as_str()
        .ok_or_else(|| bad("no \"type\"".into()))?;
    let table = schema::table(name).ok_or_else(|| bad(format!("unknown type '{name}'")))?;
    let Some(data) = line["data"].as_object() else {
        return Err(bad("no \"data\" object".into()));
    };
    if let Some(extra) = data
        .keys()
        .find(|k| !table.columns.iter().any(|(c, _)| c == k))
    {
        return Err(bad(format!("{name} has no column '{extra}'")));
    }
    let mut values = Vec::with_capacity(table.columns.len());
    for (column, kind) in table.columns {
        let value = match data.get(*column) {
            None if table.name == "user" && *column == "password_hash" => {
                Value::String(String::new())
            }
            None => Value::Null,
            Some(value) => value.clone(),
        };
        let fits = match (kind, &value) {
            (_, Value::Null) | (Kind::Json, _) => true,
            (Kind::Uuid, Value::String(s)) => uuid::Uuid::try_parse(s).is_ok(),
            (Kind::Time, Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
            (Kind::Text, Value::String(_)) => true,
            (Kind::Int, Value::Number(n)) => n.is_i64(),
            (Kind::Real, Value::Number(_)) => true,
            (Kind::Bool, Value::Bool(_)) => true,
            _ => false,
        };
        if !fits {
            return Err(bad(format!("{name}.{column}: {value} is not a {kind:?}")));
        }
        values.push(value);
    }
    Ok(Row { table, values })
}

fn uuid_of(value: &Value) -> Option<uuid::Uuid> {
    value.as_str().and_then(|s| uuid::Uuid::try_parse(s).ok())
}

fn time_of(value: &Value) -> Option<spool_core::Timestamp> {
    value
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// The users' primary workspaces, set once every workspace is in (users
/// come first, and workspaces name their owners).
struct Deferred {
    primary_workspaces: Vec<(i64, uuid::Uuid)>,
}

/// Line reading shared by both imports: parsed rows, counted, with
/// progress.
struct Lines {
    input: Box<dyn BufRead + Send>,
    number: u64,
    progress: Progress,
}

impl Lines {
    fn next(&mut self) -> Result<Option<Row>, TransferError> {
        let mut text = String::new();
        loop {
            text.clear();
            if self.input.read_line(&mut text)? == 0 {
                return Ok(None);
            }
            self.number += 1;
            if self.number.is_multiple_of(PROGRESS_EVERY) {
                (self.progress)(self.number);
            }
            if !text.trim().is_empty() {
                return parse(self.number, text.trim_end()).map(Some);
            }
        }
    }
}

/// Collects conflicts and decides the import's fate.
#[derive(Default)]
struct Conflicts {
    count: u64,
    examples: Vec<String>,
}

impl Conflicts {
    fn add(&mut self, row: &Row) {
        self.count += 1;
        if self.examples.len() < CONFLICTS_SHOWN {
            self.examples.push(row.describe());
        }
    }

    fn into_result(self) -> Result<(), TransferError> {
        if self.count == 0 {
            Ok(())
        } else {
            Err(TransferError::Conflicts {
                count: self.count,
                examples: self.examples,
            })
        }
    }
}

/// Under a workspace scope, references that leave it are dropped: a user's
/// primary workspace elsewhere, a thread's agent shared from elsewhere.
struct Scope {
    workspace: Option<WorkspaceId>,
    agents: std::collections::HashSet<uuid::Uuid>,
}

impl Scope {
    fn new(workspace: Option<WorkspaceId>) -> Self {
        Self {
            workspace,
            agents: Default::default(),
        }
    }

    fn keep(&mut self, table: &Table, data: &mut Map<String, Value>, password_hashes: bool) {
        if table.name == "user" && !password_hashes {
            data.remove("password_hash");
        }
        let Some(workspace) = self.workspace else {
            return;
        };
        match table.name {
            "user" if uuid_of(&data["primary_workspace_id"]) != Some(workspace.0) => {
                data.insert("primary_workspace_id".into(), Value::Null);
            }
            "agent" => self.agents.extend(uuid_of(&data["id"])),
            "thread" if uuid_of(&data["agent_id"]).is_some_and(|a| !self.agents.contains(&a)) => {
                data.insert("agent_id".into(), Value::Null);
            }
            _ => {}
        }
    }
}

/// The scope predicate of `table` with `{w}` as `placeholder`, or none.
fn scope_sql(table: &Table, workspace: Option<WorkspaceId>, placeholder: &str) -> String {
    match workspace {
        Some(_) => format!(" WHERE {}", table.scope.replace("{w}", placeholder)),
        None => String::new(),
    }
}

fn order_sql(table: &Table) -> String {
    format!(" ORDER BY {}", table.key.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys_are_sorted_at_every_depth() {
        let value: Value =
            serde_json::from_str(r#"{"b": {"z": 1, "a": [{"y": 2, "c": 3}]}, "a": null}"#).unwrap();
        assert_eq!(
            canonical(value).to_string(),
            r#"{"a":null,"b":{"a":[{"c":3,"y":2}],"z":1}}"#
        );
    }

    #[test]
    fn lines_are_checked_against_the_schema() {
        let ok = parse(
            1,
            r#"{"type":"member","data":{"workspace_id":"0193a1b2-0000-7000-8000-000000000001","user_id":3,"role":"owner","created_at":"2026-12-01T10:00:00.000000Z"}}"#,
        );
        assert!(ok.is_ok());
        for (text, says) in [
            ("nope", "not a JSON object"),
            (r#"{"type":"session","data":{}}"#, "unknown type 'session'"),
            (r#"{"type":"member","data":{"when":1}}"#, "no column 'when'"),
            (
                r#"{"type":"member","data":{"user_id":"3"}}"#,
                "member.user_id",
            ),
            (
                r#"{"type":"member","data":{"workspace_id":"x"}}"#,
                "member.workspace_id",
            ),
        ] {
            let err = parse(7, text).err().expect(text).to_string();
            assert!(
                err.starts_with("line 7: ") && err.contains(says),
                "{text}: {err}"
            );
        }
    }
}
