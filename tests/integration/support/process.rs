//! The `fusio` binary as a separate process: started on a free port, its
//! log lines handed to the test, killed when the test ends.

use super::guests::build_target_dir;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// The `fusio` binary, without the caller's store or listen settings.
pub fn fusio() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fusio"));
    command
        .env_remove("FUSIO_DATABASE_URL")
        .env_remove("FUSIO_LISTEN");
    command
}

/// A running server; killed (SIGKILL) when dropped, however the test ends.
pub struct Server {
    child: Child,
    /// `host:port` it listens on.
    pub address: String,
    /// Its log lines after the one that said where it listens.
    pub logs: Receiver<String>,
}

impl Server {
    /// Kills the process at once, as a crash or `kill -9` would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process's resident memory, in KiB (Linux: `/proc/PID/status`).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server runs");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS is in the status")
    }

    /// Waits up to `within` for a log line containing `text`.
    pub fn wait_for_log(&self, text: &str, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.logs.recv_timeout(left) {
                Ok(line) if line.contains(text) => return Some(line),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `fusio serve` on a free port with `args` and the data in
/// `data_dir`; returns once it listens.
pub fn serve(args: &[&str], data_dir: &std::path::Path) -> Server {
    serve_with_env(args, data_dir, &[])
}

/// [`serve`] with extra environment variables.
pub fn serve_with_env(args: &[&str], data_dir: &std::path::Path, env: &[(&str, &str)]) -> Server {
    let mut child = fusio()
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .arg("--build-target-dir")
        .arg(build_target_dir("examples"))
        .args(args)
        .env("FUSIO_LOG", "info")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("fusio starts");
    let stdout = child.stdout.take().unwrap();
    let (send, logs) = channel();
    let (found, address) = channel();
    std::thread::spawn(move || {
        let mut found = Some(found);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if let Some(address) = line.split("address=").nth(1)
                && let Some(found) = found.take()
            {
                let _ = found.send(address.trim().to_owned());
                continue;
            }
            // Keep reading even when nobody listens, so the server never
            // writes into a closed pipe.
            let _ = send.send(line);
        }
    });
    let address = address
        .recv_timeout(Duration::from_secs(300))
        .expect("fusio listens");
    Server {
        child,
        address,
        logs,
    }
}
