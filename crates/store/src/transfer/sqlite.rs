//! Export from and import into a SQLite file, on a connection of their own
//! (the command holds the database's lock, so no server writes meanwhile).

use super::schema::{Kind, TABLES, Table};
use super::{
    Conflicts, Deferred, ExportOptions, Lines, PROGRESS_EVERY, Progress, Scope, TransferError,
    canonical, order_sql, render, scope_sql, time_of, time_text, uuid_of,
};
use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::{Connection, OpenFlags, params_from_iter};
use serde_json::{Map, Value};
use spool_core::StoreError;
use std::io::{BufRead, Write};
use std::path::PathBuf;

/// SQLite keeps instants as microseconds since the Unix epoch.
fn instant_of(micros: i64) -> Option<spool_core::Timestamp> {
    chrono::DateTime::from_timestamp_micros(micros)
}

fn micros_of(at: spool_core::Timestamp) -> i64 {
    at.timestamp_micros()
}

fn path(url: &str) -> PathBuf {
    PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(url))
}

fn db(err: rusqlite::Error) -> TransferError {
    TransferError::Store(StoreError::Backend(Box::new(err)))
}

fn column(kind: Kind, value: ValueRef<'_>) -> Result<Value, TransferError> {
    let corrupt = |what: &str| TransferError::Store(StoreError::Unavailable(what.to_owned()));
    Ok(match (kind, value) {
        (_, ValueRef::Null) => Value::Null,
        (Kind::Uuid, ValueRef::Blob(bytes)) => Value::String(
            uuid::Uuid::from_slice(bytes)
                .map_err(|_| corrupt("a stored id is not 16 bytes"))?
                .to_string(),
        ),
        (Kind::Time, ValueRef::Integer(micros)) => Value::String(time_text(
            instant_of(micros).ok_or_else(|| corrupt("a stored instant is out of range"))?,
        )),
        (Kind::Int, ValueRef::Integer(n)) => Value::from(n),
        (Kind::Bool, ValueRef::Integer(n)) => Value::Bool(n != 0),
        (Kind::Real, ValueRef::Real(x)) => Value::from(x),
        (Kind::Real, ValueRef::Integer(n)) => Value::from(n as f64),
        (Kind::Text, ValueRef::Text(text)) => Value::String(String::from_utf8_lossy(text).into()),
        (Kind::Json, ValueRef::Text(text)) => canonical(
            serde_json::from_slice(text)
                .map_err(|_| corrupt("a stored JSON column is not JSON"))?,
        ),
        _ => return Err(corrupt("a stored column has an unexpected type")),
    })
}

pub(super) async fn export(
    url: &str,
    options: ExportOptions,
    mut out: Box<dyn Write + Send>,
    mut progress: Progress,
) -> Result<u64, TransferError> {
    let path = path(url);
    tokio::task::spawn_blocking(move || {
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
        // One read transaction: every table from the same snapshot.
        conn.execute_batch("BEGIN").map_err(db)?;
        let mut scope = Scope::new(options.workspace);
        let mut written = 0;
        for table in TABLES {
            written += export_table(
                &conn,
                table,
                options,
                &mut scope,
                &mut out,
                &mut progress,
                written,
            )?;
        }
        out.flush()?;
        conn.execute_batch("COMMIT").map_err(db)?;
        Ok(written)
    })
    .await
    .map_err(|e| StoreError::Backend(Box::new(e)))?
}

fn export_table(
    conn: &Connection,
    table: &Table,
    options: ExportOptions,
    scope: &mut Scope,
    out: &mut Box<dyn Write + Send>,
    progress: &mut Progress,
    before: u64,
) -> Result<u64, TransferError> {
    let columns: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
    let sql = format!(
        "SELECT {} FROM {}{}{}",
        columns.join(", "),
        table.table,
        scope_sql(table, options.workspace, "?1"),
        order_sql(table)
    );
    let mut statement = conn.prepare(&sql).map_err(db)?;
    let bound: Vec<Sql> = options
        .workspace
        .map(|w| Sql::Blob(w.0.as_bytes().to_vec()))
        .into_iter()
        .collect();
    let mut rows = statement.query(params_from_iter(bound)).map_err(db)?;
    let mut written = 0;
    while let Some(row) = rows.next().map_err(db)? {
        let mut data = Map::new();
        for (i, (name, kind)) in table.columns.iter().enumerate() {
            data.insert(
                (*name).to_owned(),
                column(*kind, row.get_ref(i).map_err(db)?)?,
            );
        }
        scope.keep(table, &mut data, options.password_hashes);
        out.write_all(render(table, data).as_bytes())?;
        written += 1;
        if (before + written).is_multiple_of(PROGRESS_EVERY) {
            progress(before + written);
        }
    }
    Ok(written)
}

fn bind(kind: Kind, value: &Value) -> Sql {
    match (kind, value) {
        (_, Value::Null) => Sql::Null,
        (Kind::Uuid, v) => uuid_of(v).map_or(Sql::Null, |u| Sql::Blob(u.as_bytes().to_vec())),
        (Kind::Time, v) => time_of(v).map_or(Sql::Null, |t| Sql::Integer(micros_of(t))),
        (Kind::Int, Value::Number(n)) => n.as_i64().map_or(Sql::Null, Sql::Integer),
        (Kind::Real, Value::Number(n)) => n.as_f64().map_or(Sql::Null, Sql::Real),
        (Kind::Bool, Value::Bool(b)) => Sql::Integer(i64::from(*b)),
        (Kind::Text, Value::String(s)) => Sql::Text(s.clone()),
        (Kind::Json, v) => Sql::Text(v.to_string()),
        _ => Sql::Null,
    }
}

pub(super) async fn import(
    url: &str,
    input: Box<dyn BufRead + Send>,
    progress: Progress,
) -> Result<u64, TransferError> {
    let path = path(url);
    tokio::task::spawn_blocking(move || {
        let conn = Connection::open(&path)
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; BEGIN IMMEDIATE")
            .map_err(db)?;
        // The search triggers queued what was imported: index it before
        // the commit, as the writer does for every batch.
        let result = import_lines(&conn, input, progress).and_then(|rows| {
            crate::sqlite::index_pending(&conn).map_err(db)?;
            Ok(rows)
        });
        match result {
            Ok(rows) => {
                conn.execute_batch("COMMIT").map_err(db)?;
                Ok(rows)
            }
            Err(err) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(err)
            }
        }
    })
    .await
    .map_err(|e| StoreError::Backend(Box::new(e)))?
}

fn insert_sql(table: &Table) -> String {
    let columns: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
    let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING",
        table.table,
        columns.join(", "),
        marks.join(", ")
    )
}

fn import_lines(
    conn: &Connection,
    input: Box<dyn BufRead + Send>,
    progress: Progress,
) -> Result<u64, TransferError> {
    let mut lines = Lines {
        input,
        number: 0,
        progress,
    };
    let mut conflicts = Conflicts::default();
    let mut deferred = Deferred {
        primary_workspaces: Vec::new(),
    };
    let mut rows = 0;
    while let Some(mut row) = lines.next()? {
        if row.table.name == "user"
            && let Some(workspace) = uuid_of(row.value("primary_workspace_id"))
        {
            let id = row.value("id").as_i64().unwrap_or_default();
            deferred.primary_workspaces.push((id, workspace));
            row.set_null("primary_workspace_id");
        }
        let values: Vec<Sql> = row
            .table
            .columns
            .iter()
            .zip(&row.values)
            .map(|((_, kind), value)| bind(*kind, value))
            .collect();
        let changed = conn
            .prepare_cached(&insert_sql(row.table))
            .and_then(|mut s| s.execute(params_from_iter(values)))
            .map_err(|e| TransferError::Line {
                line: lines.number,
                message: format!("{}: {e}", row.describe()),
            })?;
        if changed == 0 {
            conflicts.add(&row);
        }
        rows += 1;
    }
    conflicts.into_result()?;
    for (user, workspace) in deferred.primary_workspaces {
        conn.prepare_cached("UPDATE users SET primary_workspace_id = ?2 WHERE id = ?1")
            .and_then(|mut s| s.execute(rusqlite::params![user, workspace.as_bytes().to_vec()]))
            .map_err(|e| TransferError::Line {
                line: lines.number,
                message: format!("user {user}'s primary workspace {workspace}: {e}"),
            })?;
    }
    Ok(rows)
}
