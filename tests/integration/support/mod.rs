//! Helpers shared by every test: guest components, stores on both backends,
//! an in-process app, and captured logs.

pub mod app;
pub mod db;
pub mod guests;
pub mod logs;
pub mod process;
pub mod sqldb;

pub use app::TestApp;

/// A project with one protected route, `GET /private` (scope `echo.read`),
/// answered by the echo guest.
pub const PROTECTED_ECHO: &str = r#"
routes:
  /private:
    methods:
      GET: { action: echo, scopes: [echo.read] }
action:
  echo:
    component: "{guest:echo}"
"#;
pub use db::Backend;

/// Generates one test per store backend from an async fn taking a [`Backend`].
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::support::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::support::Backend::Postgres).await
                }
            }
        )*
    };
}
pub(crate) use on_both_stores;
