//! The open-file limit. Every connection is a file descriptor, and so are the
//! database's files, the listener and the sockets to model providers. The
//! soft limit is often 1024 while the hard one is far higher, so `serve`
//! raises the soft limit to the hard one first, and the connection limit is
//! what is left after a reserve.

use crate::config::Origin;
use anyhow::anyhow;
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
use std::fmt;

/// Descriptors kept for what is not a client connection: SQLite's file, WAL
/// and shared memory for the writer and each reader, the lock file, the
/// listener, the runtime's own, connections to model providers, the 503s
/// being written to refused clients.
pub const RESERVED: u64 = 128;
/// A derived connection limit stops here (each connection also costs
/// memory); `max_connections` may go higher.
pub const DERIVED_CEILING: u64 = 65_536;

/// The soft limit before and after [`raise`], and the hard limit. `None` is
/// unlimited.
pub struct OpenFiles {
    pub before: Limit,
    pub soft: Limit,
    pub hard: Limit,
    /// Why the soft limit could not be raised, if it could not.
    pub refused: Option<std::io::Error>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit(pub Option<u64>);

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("unlimited"),
        }
    }
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit.
pub fn raise() -> OpenFiles {
    let Rlimit { current, maximum } = getrlimit(Resource::Nofile);
    let (before, hard) = (Limit(current), Limit(maximum));
    if current == maximum {
        return OpenFiles {
            before,
            soft: before,
            hard,
            refused: None,
        };
    }
    // An unlimited hard limit is refused as a soft one on some systems
    // (macOS); the soft limit then stays as it was.
    match setrlimit(
        Resource::Nofile,
        Rlimit {
            current: maximum,
            maximum,
        },
    ) {
        Ok(()) => OpenFiles {
            before,
            soft: hard,
            hard,
            refused: None,
        },
        Err(err) => OpenFiles {
            before,
            soft: before,
            hard,
            refused: Some(err.into()),
        },
    }
}

impl OpenFiles {
    pub fn log(&self) {
        let (before, soft, hard) = (self.before, self.soft, self.hard);
        match &self.refused {
            Some(err) => tracing::warn!(
                soft = %before, hard = %hard, error = %err,
                "cannot raise the open-file limit (RLIMIT_NOFILE) from {before} to the hard limit {hard}"
            ),
            None if before == soft => tracing::info!(
                soft = %soft, hard = %hard,
                "open-file limit (RLIMIT_NOFILE): soft {soft}, hard {hard}"
            ),
            None => tracing::info!(
                soft = %soft, hard = %hard, before = %before,
                "raised the open-file limit (RLIMIT_NOFILE) from {before} to the hard limit {hard}"
            ),
        }
    }

    /// The configured connection limit, checked against the soft limit, or
    /// one derived from it.
    pub fn max_connections(&self, configured: Option<u64>, origin: &Origin) -> anyhow::Result<u64> {
        let usable = usable(self.soft);
        match configured {
            None => Ok(usable.min(DERIVED_CEILING)),
            Some(n) if n <= usable => Ok(n),
            Some(n) => Err(anyhow!(
                "max_connections: {n} is more than the open-file limit of {} leaves for \
                 connections ({usable}, after {RESERVED} kept for the database and other files); \
                 lower it or raise the hard limit (ulimit -Hn) ({origin})",
                self.soft,
            )),
        }
    }
}

/// The descriptors connections may use: the limit less [`RESERVED`], or
/// half of a limit too small for that.
fn usable(files: Limit) -> u64 {
    match files.0 {
        None => u64::MAX,
        Some(files) if files > 2 * RESERVED => files - RESERVED,
        Some(files) => (files / 2).max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_get_what_the_reserve_leaves() {
        assert_eq!(usable(Limit(Some(1024))), 1024 - RESERVED);
        assert_eq!(usable(Limit(Some(200))), 100);
        assert_eq!(usable(Limit(Some(1))), 1);
        assert_eq!(usable(Limit(None)), u64::MAX);
    }

    fn soft(limit: u64) -> OpenFiles {
        OpenFiles {
            before: Limit(Some(limit)),
            soft: Limit(Some(limit)),
            hard: Limit(Some(limit)),
            refused: None,
        }
    }

    #[test]
    fn the_connection_limit_is_derived_or_checked() {
        let origin = Origin::Env("SPOOL_MAX_CONNECTIONS".into());
        assert_eq!(soft(1024).max_connections(None, &origin).unwrap(), 896);
        assert_eq!(
            soft(1 << 20).max_connections(None, &origin).unwrap(),
            DERIVED_CEILING
        );
        assert_eq!(
            soft(1 << 20)
                .max_connections(Some(100_000), &origin)
                .unwrap(),
            100_000
        );
        assert_eq!(soft(1024).max_connections(Some(896), &origin).unwrap(), 896);
        let err = soft(1024)
            .max_connections(Some(897), &origin)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("max_connections: 897 is more than the open-file limit of 1024")
                && err.ends_with("(from SPOOL_MAX_CONNECTIONS)"),
            "{err}"
        );
    }

    #[test]
    fn the_soft_limit_never_ends_below_where_it_was() {
        let files = raise();
        assert!(files.soft.0.unwrap_or(u64::MAX) >= files.before.0.unwrap_or(u64::MAX));
        assert_eq!(Limit(getrlimit(Resource::Nofile).current), files.soft);
    }
}
