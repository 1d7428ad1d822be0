//! Export from and import into PostgreSQL on one connection: the export in
//! one repeatable-read snapshot, the import in one transaction.

use super::schema::{Kind, TABLES, Table};
use super::{
    Conflicts, Deferred, ExportOptions, Lines, PROGRESS_EVERY, Progress, Scope, TransferError,
    canonical, order_sql, render, scope_sql, time_of, time_text, uuid_of,
};
use futures_util::TryStreamExt;
use serde_json::{Map, Value};
use spool_core::StoreError;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgRow};
use sqlx::query::Query;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection, Postgres, Row as _};
use std::io::{BufRead, Write};
use std::str::FromStr;

fn db(err: sqlx::Error) -> TransferError {
    TransferError::Store(StoreError::Backend(Box::new(err)))
}

async fn connect(url: &str) -> Result<PgConnection, TransferError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}").into()))?
        .application_name("spool transfer");
    options.connect().await.map_err(db)
}

/// A column as read: integers and reals widened, so one type reads each kind.
fn select_expression(column: &str, kind: Kind) -> String {
    match kind {
        Kind::Int => format!("{column}::int8 AS {column}"),
        Kind::Real => format!("{column}::float8 AS {column}"),
        _ => column.to_owned(),
    }
}

fn column(row: &PgRow, name: &str, kind: Kind) -> Result<Value, sqlx::Error> {
    Ok(match kind {
        Kind::Uuid => row
            .try_get::<Option<uuid::Uuid>, _>(name)?
            .map_or(Value::Null, |u| Value::String(u.to_string())),
        Kind::Time => row
            .try_get::<Option<spool_core::Timestamp>, _>(name)?
            .map_or(Value::Null, |t| Value::String(time_text(t))),
        Kind::Int => row
            .try_get::<Option<i64>, _>(name)?
            .map_or(Value::Null, Value::from),
        Kind::Real => row
            .try_get::<Option<f64>, _>(name)?
            .map_or(Value::Null, Value::from),
        Kind::Bool => row
            .try_get::<Option<bool>, _>(name)?
            .map_or(Value::Null, Value::Bool),
        Kind::Text => row
            .try_get::<Option<String>, _>(name)?
            .map_or(Value::Null, Value::String),
        Kind::Json => row
            .try_get::<Option<Json<Value>>, _>(name)?
            .map_or(Value::Null, |Json(v)| canonical(v)),
    })
}

pub(super) async fn export(
    url: &str,
    options: ExportOptions,
    mut out: Box<dyn Write + Send>,
    mut progress: Progress,
) -> Result<u64, TransferError> {
    let mut conn = connect(url).await?;
    let mut tx = conn.begin().await.map_err(db)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let mut scope = Scope::new(options.workspace);
    let mut written = 0;
    for table in TABLES {
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|(c, k)| select_expression(c, *k))
            .collect();
        let sql = format!(
            "SELECT {} FROM {}{}{}",
            columns.join(", "),
            table.table,
            scope_sql(table, options.workspace, "$1"),
            order_sql(table)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(workspace) = options.workspace {
            query = query.bind(workspace.0);
        }
        let mut rows = query.fetch(&mut *tx);
        while let Some(row) = rows.try_next().await.map_err(db)? {
            let mut data = Map::new();
            for (name, kind) in table.columns {
                data.insert((*name).to_owned(), column(&row, name, *kind).map_err(db)?);
            }
            scope.keep(table, &mut data, options.password_hashes);
            out.write_all(render(table, data).as_bytes())?;
            written += 1;
            if written % PROGRESS_EVERY == 0 {
                progress(written);
            }
        }
    }
    out.flush()?;
    tx.commit().await.map_err(db)?;
    Ok(written)
}

/// The cast each kind's parameter takes (PostgreSQL narrows an `int8` to an
/// `int4` column on assignment).
fn cast(kind: Kind) -> &'static str {
    match kind {
        Kind::Uuid => "uuid",
        Kind::Time => "timestamptz",
        Kind::Text => "text",
        Kind::Int => "int8",
        Kind::Real => "float8",
        Kind::Bool => "bool",
        Kind::Json => "jsonb",
    }
}

fn insert_sql(table: &Table) -> String {
    let columns: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
    let marks: Vec<String> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| format!("${}::{}", i + 1, cast(*kind)))
        .collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING",
        table.table,
        columns.join(", "),
        marks.join(", ")
    )
}

fn bind<'q>(
    query: Query<'q, Postgres, PgArguments>,
    kind: Kind,
    value: &Value,
) -> Query<'q, Postgres, PgArguments> {
    match kind {
        Kind::Uuid => query.bind(uuid_of(value)),
        Kind::Time => query.bind(time_of(value)),
        Kind::Text => query.bind(value.as_str().map(str::to_owned)),
        Kind::Int => query.bind(value.as_i64()),
        Kind::Real => query.bind(value.as_f64()),
        Kind::Bool => query.bind(value.as_bool()),
        Kind::Json => query.bind((!value.is_null()).then(|| Json(value.clone()))),
    }
}

pub(super) async fn import(
    url: &str,
    input: Box<dyn BufRead + Send>,
    progress: Progress,
) -> Result<u64, TransferError> {
    let mut conn = connect(url).await?;
    // Dropped without a commit on any error: nothing is written.
    let mut tx = conn.begin().await.map_err(db)?;
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
    let mut statements: Vec<(&'static str, String)> = Vec::new();
    while let Some(mut row) = lines.next()? {
        if row.table.name == "user"
            && let Some(workspace) = uuid_of(row.value("primary_workspace_id"))
        {
            let id = row.value("id").as_i64().unwrap_or_default();
            deferred.primary_workspaces.push((id, workspace));
            row.set_null("primary_workspace_id");
        }
        let sql = match statements.iter().find(|(t, _)| *t == row.table.name) {
            Some((_, sql)) => sql.clone(),
            None => {
                let sql = insert_sql(row.table);
                statements.push((row.table.name, sql.clone()));
                sql
            }
        };
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for ((_, kind), value) in row.table.columns.iter().zip(&row.values) {
            query = bind(query, *kind, value);
        }
        let done = query
            .execute(&mut *tx)
            .await
            .map_err(|e| TransferError::Line {
                line: lines.number,
                message: format!("{}: {e}", row.describe()),
            })?;
        if done.rows_affected() == 0 {
            conflicts.add(&row);
        }
        rows += 1;
    }
    conflicts.into_result()?;
    for (user, workspace) in deferred.primary_workspaces {
        sqlx::query("UPDATE users SET primary_workspace_id = $2 WHERE id = $1")
            .bind(user)
            .bind(workspace)
            .execute(&mut *tx)
            .await
            .map_err(|e| TransferError::Line {
                line: lines.number,
                message: format!("user {user}'s primary workspace {workspace}: {e}"),
            })?;
    }
    // Users keep their ids: the next one made gets a larger one.
    sqlx::query(
        "SELECT setval(pg_get_serial_sequence('users', 'id'), GREATEST((SELECT max(id) FROM users), 1))",
    )
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(rows)
}
