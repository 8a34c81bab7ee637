//! The database handle: connection pools, migrations, and the mapping of driver errors to
//! "unavailable" (answered 503) versus "conflict" versus internal faults.

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor, Row};

use crate::config::DatabaseConfig;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Pools for reads and writes. On SQLite all writes go through one connection, so writers
/// queue in the pool instead of spinning on `SQLITE_BUSY`; readers run beside it (WAL).
/// On PostgreSQL both are the same pool.
#[derive(Clone, Debug)]
pub struct Db {
    read: AnyPool,
    write: AnyPool,
    pub backend: Backend,
    /// Immutable fields of grants already seen (see `grants::GrantMemo`).
    pub grant_memo: super::grants::GrantMemo,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached now; the request may be retried.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            // A protocol error is what a connection closed by a proxy or a restarting
            // server looks like mid-handshake (e.g. EOF answering the SSLRequest).
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_owned())
            }
            sqlx::Error::Database(db) => {
                // PostgreSQL: class 08 (connection), 57P0x (shutdown), 53 (resources) are transient.
                let code = db.code().unwrap_or_default();
                if code.starts_with("08") || code.starts_with("57P") || code.starts_with("53") {
                    StoreError::Unavailable(e.to_string())
                } else {
                    StoreError::Internal(e.to_string())
                }
            }
            _ => StoreError::Internal(e.to_string()),
        }
    }
}

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "core",
        include_str!("../../../migrations/sqlite/0001_core.sql"),
    ),
    (
        2,
        "messages_codes_events",
        include_str!("../../../migrations/sqlite/0002_messages_codes_events.sql"),
    ),
    (
        3,
        "registration",
        include_str!("../../../migrations/sqlite/0003_registration.sql"),
    ),
    (
        4,
        "recovery",
        include_str!("../../../migrations/sqlite/0004_recovery.sql"),
    ),
    (
        5,
        "verification",
        include_str!("../../../migrations/sqlite/0005_verification.sql"),
    ),
    (
        6,
        "profile",
        include_str!("../../../migrations/sqlite/0006_profile.sql"),
    ),
    (
        7,
        "totp",
        include_str!("../../../migrations/sqlite/0007_totp.sql"),
    ),
    (
        9,
        "refresh_rotation",
        include_str!("../../../migrations/sqlite/0009_refresh_rotation.sql"),
    ),
    (
        10,
        "admins",
        include_str!("../../../migrations/sqlite/0010_admins.sql"),
    ),
    (
        11,
        "passkeys",
        include_str!("../../../migrations/sqlite/0011_passkeys.sql"),
    ),
    (
        12,
        "login_settings_devices",
        include_str!("../../../migrations/sqlite/0012_login_settings_devices.sql"),
    ),
    (
        13,
        "client_auth_policy",
        include_str!("../../../migrations/sqlite/0013_client_auth_policy.sql"),
    ),
    (
        14,
        "consent_store",
        include_str!("../../../migrations/sqlite/0014_consent_store.sql"),
    ),
    (
        15,
        "history_notifications",
        include_str!("../../../migrations/sqlite/0015_history_notifications.sql"),
    ),
    (
        16,
        "signature_certificates",
        include_str!("../../../migrations/sqlite/0016_signature_certificates.sql"),
    ),
    (
        17,
        "esia_systems",
        include_str!("../../../migrations/sqlite/0017_esia_systems.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "core",
        include_str!("../../../migrations/postgres/0001_core.sql"),
    ),
    (
        2,
        "messages_codes_events",
        include_str!("../../../migrations/postgres/0002_messages_codes_events.sql"),
    ),
    (
        3,
        "registration",
        include_str!("../../../migrations/postgres/0003_registration.sql"),
    ),
    (
        4,
        "recovery",
        include_str!("../../../migrations/postgres/0004_recovery.sql"),
    ),
    (
        5,
        "verification",
        include_str!("../../../migrations/postgres/0005_verification.sql"),
    ),
    (
        6,
        "profile",
        include_str!("../../../migrations/postgres/0006_profile.sql"),
    ),
    (
        7,
        "totp",
        include_str!("../../../migrations/postgres/0007_totp.sql"),
    ),
    (
        9,
        "refresh_rotation",
        include_str!("../../../migrations/postgres/0009_refresh_rotation.sql"),
    ),
    (
        10,
        "admins",
        include_str!("../../../migrations/postgres/0010_admins.sql"),
    ),
    (
        11,
        "passkeys",
        include_str!("../../../migrations/postgres/0011_passkeys.sql"),
    ),
    (
        12,
        "login_settings_devices",
        include_str!("../../../migrations/postgres/0012_login_settings_devices.sql"),
    ),
    (
        13,
        "client_auth_policy",
        include_str!("../../../migrations/postgres/0013_client_auth_policy.sql"),
    ),
    (
        14,
        "consent_store",
        include_str!("../../../migrations/postgres/0014_consent_store.sql"),
    ),
    (
        15,
        "history_notifications",
        include_str!("../../../migrations/postgres/0015_history_notifications.sql"),
    ),
    (
        16,
        "signature_certificates",
        include_str!("../../../migrations/postgres/0016_signature_certificates.sql"),
    ),
    (
        17,
        "esia_systems",
        include_str!("../../../migrations/postgres/0017_esia_systems.sql"),
    ),
];

impl Db {
    /// Connects; fails at once (with the reason) if the database cannot be reached.
    pub async fn connect(cfg: &DatabaseConfig) -> Result<Db, String> {
        install_default_drivers();
        let timeout = Duration::from_millis(cfg.acquire_timeout_ms);
        if let Some(path) = cfg.url.strip_prefix("sqlite://") {
            let path = path.split('?').next().unwrap_or(path);
            if let Some(dir) = std::path::Path::new(path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            let url = format!("sqlite://{path}?mode=rwc");
            // A local file cannot go away between queries: no ping before each acquire.
            let options = |max: u32| {
                AnyPoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(timeout)
                    .test_before_acquire(false)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -1024;")
                                .await?;
                            Ok(())
                        })
                    })
            };
            let write = options(1)
                .connect(&url)
                .await
                .map_err(|e| format!("cannot open SQLite database {path}: {e}"))?;
            let read = options(cfg.max_connections.max(2))
                .connect(&url)
                .await
                .map_err(|e| format!("cannot open SQLite database {path}: {e}"))?;
            Ok(Db {
                read,
                write,
                backend: Backend::Sqlite,
                grant_memo: Default::default(),
            })
        } else {
            let pool = AnyPoolOptions::new()
                .max_connections(cfg.max_connections)
                .acquire_timeout(timeout)
                .connect(&cfg.url)
                .await
                .map_err(|e| {
                    format!(
                        "cannot connect to PostgreSQL ({}): {e}",
                        redact_url(&cfg.url)
                    )
                })?;
            Ok(Db {
                read: pool.clone(),
                write: pool,
                backend: Backend::Postgres,
                grant_memo: Default::default(),
            })
        }
    }

    /// The pool for reads that need no transaction.
    pub fn read(&self) -> &AnyPool {
        &self.read
    }

    /// The pool for writes and read-then-write transactions.
    pub fn write(&self) -> &AnyPool {
        &self.write
    }

    /// Applies the embedded migrations that are not applied yet; safe to run from several
    /// nodes at once (an advisory lock on PostgreSQL, the single writer on SQLite).
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let mut conn = self.write.acquire().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_lock(7245112)")
                .execute(&mut *conn)
                .await?;
        }
        let result = self.migrate_on(&mut conn).await;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_unlock(7245112)")
                .execute(&mut *conn)
                .await?;
        }
        result
    }

    async fn migrate_on(&self, conn: &mut sqlx::AnyConnection) -> Result<usize, StoreError> {
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
            .execute(&mut *conn)
            .await?;
        let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>(0))
            .collect::<Result<_, _>>()?;
        let list = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let mut count = 0;
        for (version, name, sql) in list.iter().filter(|(v, ..)| !applied.contains(v)) {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            sqlx::raw_sql(*sql).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(*version)
            .bind(*name)
            .bind(crate::clock::Clock::default().now())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            count += 1;
        }
        Ok(count)
    }

    /// Cheap liveness probe of the database.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// Reads an optional integer flag column as bool.
pub fn flag(row: &sqlx::any::AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PostgreSQL migrations are the SQLite ones with BIGINT for INTEGER and BYTEA for
    /// BLOB, except where a backend needs its own dialect (triggers): keep them from drifting.
    #[test]
    fn backends_have_the_same_migrations() {
        let own_dialect = ["refresh_rotation"];
        assert_eq!(SQLITE_MIGRATIONS.len(), POSTGRES_MIGRATIONS.len());
        for ((v1, n1, sqlite), (v2, n2, postgres)) in
            SQLITE_MIGRATIONS.iter().zip(POSTGRES_MIGRATIONS)
        {
            assert_eq!(
                (v1, n1),
                (v2, n2),
                "the migration lists must name the same versions in the same order"
            );
            if own_dialect.contains(n1) {
                continue;
            }
            let derived = sqlite
                .replace(" INTEGER", " BIGINT")
                .replace(" BLOB", " BYTEA");
            assert_eq!(
                &derived, postgres,
                "migration {v1} ({n1}) differs between the backends beyond the type names"
            );
        }
    }
}
