//! Captures every log line of the test process so tests can assert what was
//! logged for a given request id.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

static LINES: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LINES.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber once per process.
pub fn install() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        tracing_subscriber::fmt()
            .with_env_filter("info")
            .with_ansi(false)
            .with_writer(|| Capture)
            .init();
    });
}

/// Every captured line that mentions `needle`.
pub fn lines_with(needle: &str) -> Vec<String> {
    let all = LINES.lock().unwrap();
    String::from_utf8_lossy(&all)
        .lines()
        .filter(|line| line.contains(needle))
        .map(str::to_owned)
        .collect()
}
