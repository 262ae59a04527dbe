//! Keeps a SQLite connection on its own file. SQL can reach other files in
//! a handful of ways — `ATTACH DATABASE` (also with a `file:` URI),
//! `VACUUM INTO`, the `load_extension()` function, the
//! `temp_store_directory` and `data_store_directory` pragmas — and can
//! damage its own file's structure through `PRAGMA writable_schema`. Each
//! connection of a user's pool, and the connection its migrations run on,
//! gets this guard before any statement of theirs: no database may be
//! attached (a limit of zero, and an authorizer that refuses `ATTACH` and
//! `DETACH`, which `VACUUM INTO` and `VACUUM` use too), extension loading
//! is off, the file pragmas and the extension functions are refused, and
//! SQLite's defensive mode forbids writing the schema or pages directly.
//! A refused statement fails with SQLite's "not authorized" (or "too many
//! attached databases").
//!
//! sqlx has no safe API for authorizers or limits, so this one module
//! calls SQLite's C API on the connection sqlx opened; the authorizer is a
//! plain function that neither allocates nor panics.
#![allow(unsafe_code)]

use libsqlite3_sys as ffi;
use sqlx::sqlite::LockedSqliteHandle;
use std::ffi::{CStr, c_char, c_int, c_void};

/// Pragmas that open, create or redirect files, or bypass the schema.
const REFUSED_PRAGMAS: &[&str] = &[
    "temp_store_directory",
    "data_store_directory",
    "writable_schema",
];

/// Functions that load code or reach files (most are not compiled in;
/// refusing them by name keeps a future build from opening them).
const REFUSED_FUNCTIONS: &[&str] = &[
    "load_extension",
    "fts3_tokenizer",
    "readfile",
    "writefile",
    "edit",
];

/// Installs the guard on `handle`'s connection; `Err` when SQLite refused
/// a setting (the connection must then not be used).
pub(super) fn confine(handle: &mut LockedSqliteHandle<'_>) -> Result<(), sqlx::Error> {
    let db = handle.as_raw_handle().as_ptr();
    let failed = |what: &str, rc: c_int| {
        sqlx::Error::Configuration(
            format!("cannot confine the SQLite connection ({what}: {rc})").into(),
        )
    };
    // SAFETY: `db` is the live connection sqlx holds locked for us; these
    // calls only change its settings. The authorizer is a `'static`
    // function that reads only the strings SQLite passes for the call.
    unsafe {
        ffi::sqlite3_limit(db, ffi::SQLITE_LIMIT_ATTACHED, 0);
        for (what, option, wanted) in [
            (
                "extension loading",
                ffi::SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION,
                0,
            ),
            ("defensive mode", ffi::SQLITE_DBCONFIG_DEFENSIVE, 1),
        ] {
            let mut now: c_int = -1;
            let rc = ffi::sqlite3_db_config(db, option, wanted as c_int, &mut now as *mut c_int);
            if rc != ffi::SQLITE_OK || now != wanted {
                return Err(failed(what, rc));
            }
        }
        let rc = ffi::sqlite3_set_authorizer(db, Some(authorize), std::ptr::null_mut());
        if rc != ffi::SQLITE_OK {
            return Err(failed("authorizer", rc));
        }
    }
    Ok(())
}

/// Whether `name` (SQLite's argument, possibly null) is one of `refused`,
/// ignoring ASCII case as SQLite does.
fn is_one_of(name: *const c_char, refused: &[&str]) -> bool {
    if name.is_null() {
        return false;
    }
    // SAFETY: SQLite passes a NUL-terminated string valid for this call.
    let name = unsafe { CStr::from_ptr(name) }.to_bytes();
    refused
        .iter()
        .any(|r| r.as_bytes().eq_ignore_ascii_case(name))
}

/// SQLite's authorizer callback: consulted while each statement is
/// prepared, for each action it would take.
unsafe extern "C" fn authorize(
    _: *mut c_void,
    action: c_int,
    first: *const c_char,
    second: *const c_char,
    _database: *const c_char,
    _trigger: *const c_char,
) -> c_int {
    let refused = match action {
        ffi::SQLITE_ATTACH | ffi::SQLITE_DETACH => true,
        ffi::SQLITE_PRAGMA => is_one_of(first, REFUSED_PRAGMAS),
        ffi::SQLITE_FUNCTION => is_one_of(second, REFUSED_FUNCTIONS),
        _ => false,
    };
    if refused {
        ffi::SQLITE_DENY
    } else {
        ffi::SQLITE_OK
    }
}
