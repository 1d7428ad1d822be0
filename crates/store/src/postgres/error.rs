//! sqlx errors as the store reports them. Messages never carry the database
//! URL: sqlx's own messages name hosts and users, never the password.

use spool_core::StoreError;

/// SQLSTATE classes and codes that mean "the database cannot be reached
/// right now" rather than "this statement is wrong".
fn is_unavailable_code(code: &str) -> bool {
    code.starts_with("08") // connection exception
        || matches!(code, "53300" | "57P01" | "57P02" | "57P03") // too many connections, shutdown
}

pub(super) fn db(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db_err) => match db_err.code() {
            Some(code) if code == "23505" => {
                StoreError::Unique(db_err.constraint().unwrap_or_default().to_owned())
            }
            Some(code) if is_unavailable_code(&code) => {
                StoreError::Unavailable(db_err.message().to_owned())
            }
            _ => StoreError::Backend(Box::new(err)),
        },
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => StoreError::Unavailable(err.to_string()),
        _ => StoreError::Backend(Box::new(err)),
    }
}

/// A stored value the model cannot represent (a role or hash the schema
/// should have prevented).
pub(super) fn corrupt(what: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("stored {what} is not valid").into())
}
