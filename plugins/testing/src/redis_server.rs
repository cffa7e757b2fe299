//! A throwaway `redis-server` process for one test.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to answer `PING` after it was spawned.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How many free ports to try when another process grabs the one we picked.
const PORT_ATTEMPTS: usize = 5;

/// Options for [`RedisServer::start_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RedisOptions {
    /// Run with `--appendonly yes --appendfsync always`, so every
    /// acknowledged write is on disk before the reply (durability tests).
    pub appendonly: bool,
}

/// A `redis-server` child process, listening on `127.0.0.1:<port>`, with its
/// working directory in a temp dir. Killed (SIGKILL) and reaped on drop.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    options: RedisOptions,
    /// Kept across `kill` + `restart`, so AOF files survive; removed on drop
    /// (after `Drop::drop` has killed the child).
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts a server with persistence off (`--save "" --appendonly no`).
    ///
    /// # Panics
    /// When `redis-server` is missing or does not answer `PING` in time:
    /// this is test support, and a loud failure is the point.
    pub fn start() -> Self {
        Self::start_with(RedisOptions::default())
    }

    /// Starts a server with the given options.
    ///
    /// # Panics
    /// As [`RedisServer::start`].
    pub fn start_with(options: RedisOptions) -> Self {
        let dir = tempfile::tempdir().expect("create temp dir for redis-server");
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            match spawn(port, dir.path(), options) {
                Ok(child) => {
                    return Self {
                        child: Some(child),
                        port,
                        options,
                        dir,
                    };
                }
                Err(error) => last_error = error,
            }
        }
        panic!("could not start redis-server: {last_error}");
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A `redis://` URL for this server.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The server's working directory (AOF files live here).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Kills the server with SIGKILL (no shutdown save) and waits for it, so
    /// the port is free and clients see the connection drop.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and directory, after
    /// [`RedisServer::kill`]. With `appendonly`, the data written before the
    /// kill is loaded back from the AOF.
    ///
    /// # Panics
    /// When the server does not come back.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            match spawn(self.port, self.dir.path(), self.options) {
                Ok(child) => {
                    self.child = Some(child);
                    return;
                }
                Err(error) if Instant::now() > deadline => {
                    panic!("could not restart redis-server on {}: {error}", self.port)
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn redis_binary() -> PathBuf {
    std::env::var_os("WARDEN_REDIS_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("redis-server"))
}

/// A port that was free a moment ago. The race with other processes is
/// covered by retrying in [`RedisServer::start_with`].
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

fn spawn(port: u16, dir: &Path, options: RedisOptions) -> Result<Child, String> {
    let appendonly = if options.appendonly { "yes" } else { "no" };
    let mut command = Command::new(redis_binary());
    command
        .arg("--port")
        .arg(port.to_string())
        .args(["--bind", "127.0.0.1", "--save", "", "--daemonize", "no"])
        .args(["--appendonly", appendonly, "--appendfsync", "always"])
        .arg("--dir")
        .arg(dir)
        .arg("--logfile")
        .arg(dir.join("redis.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command
        .spawn()
        .map_err(|e| format!("spawn {:?} (install redis-server?): {e}", redis_binary()))?;
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(dir.join("redis.log")).unwrap_or_default();
            return Err(format!("redis-server exited with {status}: {log}"));
        }
        if ping(port) {
            return Ok(child);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("redis-server on port {port} did not answer PING"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a server on `port` answers `PING` with `+PONG` (and has finished
/// loading its data: a loading server answers `-LOADING`).
fn ping(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0_u8; 7];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_answers_and_restarts_on_the_same_port() {
        let mut server = RedisServer::start();
        assert_ne!(server.port(), 6379);
        assert!(ping(server.port()));
        server.kill();
        assert!(!ping(server.port()));
        server.restart();
        assert!(ping(server.port()));
    }
}
