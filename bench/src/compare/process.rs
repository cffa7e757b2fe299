//! A server under test as a child process: output captured to a log file,
//! address discovery from its output, graceful stop.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::procfs;

/// A running child process whose stdout and stderr go to `log`.
pub struct ServerProcess {
    name: String,
    child: Child,
    log: PathBuf,
    lines: Receiver<String>,
}

impl ServerProcess {
    /// Starts `cmd` with stdin closed and `RUST_BACKTRACE` removed from its
    /// environment (a captured backtrace per wasmtime error costs ~10%).
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> Result<Self> {
        cmd.env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let file = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let file = Arc::new(Mutex::new(file));
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {name}: {cmd:?}"))?;
        let (tx, rx) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            pump(out, Arc::clone(&file), tx.clone());
        }
        if let Some(err) = child.stderr.take() {
            pump(err, file, tx);
        }
        Ok(Self {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
            lines: rx,
        })
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Path of the captured output.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Fails if the process has exited, quoting the end of its log.
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited ({status}); last output ({}):\n{}",
                self.name,
                self.log.display(),
                self.log_tail(15)
            );
        }
        Ok(())
    }

    /// Waits for the first socket address the process prints, such as
    /// `Serving HTTP on http://127.0.0.1:41234/`.
    pub fn wait_for_printed_addr(&mut self, timeout: Duration) -> Result<SocketAddr> {
        let deadline = Instant::now() + timeout;
        loop {
            self.check_alive()?;
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!(
                    "{} printed no address within {timeout:?}; see {}",
                    self.name,
                    self.log.display()
                );
            }
            match self
                .lines
                .recv_timeout(left.min(Duration::from_millis(100)))
            {
                Ok(line) => {
                    if let Some(addr) = find_addr(&line) {
                        return Ok(addr);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }

    /// Waits until `addr` accepts TCP connections.
    pub fn wait_for_port(&mut self, addr: SocketAddr, timeout: Duration) -> Result<Duration> {
        let start = Instant::now();
        loop {
            self.check_alive()?;
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(start.elapsed());
            }
            if start.elapsed() > timeout {
                bail!(
                    "{} did not listen on {addr} within {timeout:?}; see {}",
                    self.name,
                    self.log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// User + system CPU time used so far, all threads.
    pub fn cpu_time(&self, clk_tck: u64) -> Result<Duration> {
        procfs::cpu_time(self.pid(), clk_tck)
    }

    /// Resident set size, bytes.
    pub fn rss_bytes(&self) -> Result<u64> {
        procfs::rss_bytes(self.pid())
    }

    /// SIGTERM, then SIGKILL if the process is still there after `grace`;
    /// returns once it is gone (a pooling server may take a moment).
    pub fn stop(&mut self, grace: Duration) -> Result<()> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        // `kill` from procps/coreutils sends the signal without unsafe code.
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// The last `n` lines of the captured output.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Copies a pipe line by line into the log file and the channel.
fn pump(pipe: impl Read + Send + 'static, file: Arc<Mutex<File>>, tx: Sender<String>) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut f) = file.lock() {
                let _ = writeln!(f, "{line}");
            }
            // Nobody listening any more is fine: keep draining the pipe.
            let _ = tx.send(line);
        }
    });
}

/// First `IP:PORT` in a line, with an optional `http://` and trailing `/`.
fn find_addr(line: &str) -> Option<SocketAddr> {
    line.split(|c: char| c.is_whitespace() || c == ',' || c == '"')
        .map(|w| w.trim_start_matches("http://").trim_end_matches('/'))
        .find_map(|w| w.parse().ok())
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_local_addr() -> Result<SocketAddr> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_printed_addresses() {
        assert_eq!(
            find_addr("Serving HTTP on http://127.0.0.1:41234/"),
            Some("127.0.0.1:41234".parse().expect("addr"))
        );
        assert_eq!(
            find_addr("listening on 127.0.0.1:80, admin on 127.0.0.1:81"),
            Some("127.0.0.1:80".parse().expect("addr"))
        );
        assert_eq!(find_addr("no address here"), None);
    }
}
