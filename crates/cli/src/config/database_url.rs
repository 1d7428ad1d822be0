//! A database URL is a secret when it carries a password: `Debug` and
//! `Display` redact it, and only [`DatabaseUrl::expose`] hands it to the store.

use std::fmt;
use std::path::Path;

#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

const REDACTED: &str = "***";

impl DatabaseUrl {
    /// Accepts `sqlite://PATH`, `postgres://…`, `postgresql://…` or a bare
    /// SQLite path; the message names the problem otherwise.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("must not be empty".into());
        }
        match value.split_once("://") {
            Some(("sqlite", "")) => {
                Err("sqlite:// needs a file path, e.g. sqlite://data/spool.db".into())
            }
            Some(("sqlite" | "postgres" | "postgresql", _)) => Ok(Self(value.to_owned())),
            Some((scheme, _)) => Err(format!(
                "unsupported scheme '{scheme}://' (use sqlite://PATH or postgres://USER@HOST/DB)"
            )),
            None => Ok(Self(value.to_owned())),
        }
    }

    /// The file of a SQLite database (as `spool_store::open` reads the URL);
    /// `None` for PostgreSQL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self.0.split_once("://") {
            Some(("sqlite", path)) => Some(Path::new(path)),
            Some(_) => None,
            None => Some(Path::new(&self.0)),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with the password of its user-info and any `password=` query
    /// parameter replaced by `***`.
    pub fn redacted(&self) -> String {
        let Some((scheme, rest)) = self.0.split_once("://") else {
            return self.0.clone();
        };
        let (authority, tail) = rest
            .find(['/', '?'])
            .map_or((rest, ""), |at| rest.split_at(at));
        let authority = match authority.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _password)) => format!("{user}:{REDACTED}@{host}"),
                None => authority.to_owned(),
            },
            None => authority.to_owned(),
        };
        let tail = match tail.split_once('?') {
            Some((path, query)) => {
                let params: Vec<String> = query
                    .split('&')
                    .map(|param| match param.split_once('=') {
                        Some((name, _)) if name.eq_ignore_ascii_case("password") => {
                            format!("{name}={REDACTED}")
                        }
                        _ => param.to_owned(),
                    })
                    .collect();
                format!("{path}?{}", params.join("&"))
            }
            None => tail.to_owned(),
        };
        format!("{scheme}://{authority}{tail}")
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(url: &str) -> String {
        DatabaseUrl::parse(url).unwrap().redacted()
    }

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redacted("postgres://spool:hunter2@db:5432/spool"),
            "postgres://spool:***@db:5432/spool"
        );
        assert_eq!(
            redacted("postgresql://u:p%40ss@h/d?sslmode=require"),
            "postgresql://u:***@h/d?sslmode=require"
        );
        assert_eq!(
            redacted("postgres://u@h/d?password=hunter2&x=1"),
            "postgres://u@h/d?password=***&x=1"
        );
        assert_eq!(
            redacted("postgres://u:pw@h?password=x"),
            "postgres://u:***@h?password=***"
        );
        assert_eq!(redacted("sqlite://data/spool.db"), "sqlite://data/spool.db");
        assert_eq!(redacted("/var/lib/spool.db"), "/var/lib/spool.db");
        let url = DatabaseUrl::parse("postgres://u:hunter2@h/d").unwrap();
        assert!(!format!("{url:?} {url}").contains("hunter2"));
        assert_eq!(url.expose(), "postgres://u:hunter2@h/d");
    }

    #[test]
    fn refuses_unknown_schemes_and_empty_values() {
        assert!(
            DatabaseUrl::parse("mysql://h/d")
                .unwrap_err()
                .contains("mysql://")
        );
        assert!(DatabaseUrl::parse("  ").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert!(DatabaseUrl::parse("postgresql://h/d").is_ok());
        assert!(DatabaseUrl::parse("x.db").is_ok());
    }

    #[test]
    fn names_the_sqlite_file() {
        let path = |url: &str| {
            DatabaseUrl::parse(url)
                .unwrap()
                .sqlite_path()
                .map(Path::to_owned)
        };
        assert_eq!(path("sqlite://data/spool.db"), Some("data/spool.db".into()));
        assert_eq!(path("sqlite:///srv/spool.db"), Some("/srv/spool.db".into()));
        assert_eq!(path("x.db"), Some("x.db".into()));
        assert_eq!(path("postgres://u@h/d"), None);
        assert_eq!(path("postgresql://u@h/d"), None);
    }
}
