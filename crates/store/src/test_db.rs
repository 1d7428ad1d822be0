//! Test support shared by the store and HTTP tests: a fresh PostgreSQL
//! database per test, dropped when the test is done, so that tests run in
//! parallel without seeing each other's rows and leave nothing behind.

use sqlx::{AssertSqlSafe, Connection, PgConnection};
use std::fmt;

const URL_VAR: &str = "SPOOL_TEST_PG_URL";

/// A database that exists for as long as this value does.
pub struct TestDb {
    /// Connects to the fresh database; hand it to `PostgresStore::connect`.
    pub url: String,
    admin_url: String,
    name: String,
}

impl fmt::Debug for TestDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestDb")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Creates an empty database (no migrations applied) in the throwaway
/// cluster that `SPOOL_TEST_PG_URL` names.
pub async fn fresh_postgres() -> TestDb {
    let admin_url = std::env::var(URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| {
            panic!("{URL_VAR} is not set: run scripts/test, which starts a throwaway PostgreSQL")
        });
    let name = format!("spool_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|err| {
            panic!("cannot connect to the PostgreSQL that {URL_VAR} names: {err}")
        });
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|err| panic!("cannot create test database {name}: {err}"));
    // A failed close leaves only an idle connection behind.
    let _ = admin.close().await;
    TestDb {
        url: with_database(&admin_url, &name),
        admin_url,
        name,
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which may be single-threaded
        // and so cannot be blocked on; a runtime of its own on a short-lived
        // thread can.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                // FORCE: pools the test left open must not keep it alive.
                sqlx::query(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await?;
                admin.close().await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(err)) => eprintln!("warning: could not drop test database {}: {err}", self.name),
            Err(_) => eprintln!("warning: dropping test database {} panicked", self.name),
        }
    }
}

/// The same server and credentials with another database name in the path.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_only_the_database_name() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5432/postgres", "t"),
            "postgres://u@127.0.0.1:5432/t"
        );
        assert_eq!(
            with_database("postgres://u:p@h/postgres?sslmode=disable", "t"),
            "postgres://u:p@h/t?sslmode=disable"
        );
        assert_eq!(with_database("postgresql://h:1", "t"), "postgresql://h:1/t");
    }
}
