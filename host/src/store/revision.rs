//! Optimistic concurrency for the system API (`If-Match`):
//! every row an administrator edits carries a `revision` that each change
//! bumps inside the change's own transaction, so a writer who read an older
//! revision is refused instead of overwriting what it never saw.

use super::StoreError;
use sqlx::{Any, Row, Transaction};

/// Which revisions a writer accepts the row to be at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Expected {
    /// Whatever it is now (no `If-Match`, or `If-Match: *`).
    #[default]
    Any,
    /// One of these (an `If-Match` list); empty never matches.
    OneOf(Vec<i64>),
}

impl Expected {
    fn admits(&self, revision: i64) -> bool {
        match self {
            Expected::Any => true,
            Expected::OneOf(revisions) => revisions.contains(&revision),
        }
    }
}

/// The tables whose rows carry a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revised {
    /// `fusio_user`.
    User,
    /// `fusio_app`.
    App,
    /// `fusio_scope`.
    Scope,
    /// `fusio_role`.
    Role,
}

impl Revised {
    /// The statement that bumps a row's revision and answers the new one.
    fn bump_sql(self) -> &'static str {
        macro_rules! bump {
            ($table:literal) => {
                concat!(
                    "UPDATE ",
                    $table,
                    " SET revision = revision + 1 WHERE id = $1 RETURNING revision"
                )
            };
        }
        match self {
            Revised::User => bump!("fusio_user"),
            Revised::App => bump!("fusio_app"),
            Revised::Scope => bump!("fusio_scope"),
            Revised::Role => bump!("fusio_role"),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Revised::User => "user",
            Revised::App => "app",
            Revised::Scope => "scope",
            Revised::Role => "role",
        }
    }
}

/// Bumps the row's revision as the first write of `tx` (which also locks
/// the row until the transaction ends) and answers the new revision;
/// [`StoreError::Stale`] when the row was at a revision `expected` does not
/// admit, [`StoreError::Missing`] when it is gone. Dropping `tx` on either
/// error undoes the bump.
pub(super) async fn bump(
    tx: &mut Transaction<'_, Any>,
    kind: Revised,
    id: i64,
    expected: &Expected,
) -> Result<i64, StoreError> {
    let revision: i64 = sqlx::query(kind.bump_sql())
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::Missing(format!("{} {id}", kind.noun())))?
        .try_get(0)?;
    if !expected.admits(revision - 1) {
        return Err(StoreError::Stale(kind.noun().to_owned()));
    }
    Ok(revision)
}
