//! A Warden node under test: `warden serve` on its own data dir and ports,
//! deploys through `warden deploy` (the many-tenants and seed scenarios use
//! the admin API directly, see [`super::admin`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use http::header::HeaderValue;

use super::config::Config;
use super::process::{ServerProcess, free_local_addr};
use crate::target::Target;

/// How long a node may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// One function of a manifest.
#[derive(Debug, Clone)]
pub struct Function {
    /// Function name.
    pub name: String,
    /// Absolute path of the component.
    pub component: PathBuf,
    /// Route, e.g. `/hello`.
    pub route: String,
}

/// A `warden serve` process and what it needs to be restarted and deployed to.
pub struct WardenNode {
    bin: PathBuf,
    name: String,
    /// The node's data dir (registry, components, artifacts, admin token).
    pub data_dir: PathBuf,
    logs: PathBuf,
    /// Gateway address.
    pub listen: SocketAddr,
    /// Admin API address.
    pub admin: SocketAddr,
    config: Option<PathBuf>,
    process: Option<ServerProcess>,
    starts: u32,
}

impl WardenNode {
    /// A node named `name` with a fresh data dir under the work dir; not
    /// started yet.
    pub fn new(cfg: &Config, bin: &Path, name: &str) -> Result<Self> {
        let data_dir = cfg.work_dir.join(format!("{name}-data"));
        if data_dir.exists() {
            std::fs::remove_dir_all(&data_dir)
                .with_context(|| format!("clearing {}", data_dir.display()))?;
        }
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        Ok(Self {
            bin: bin.to_owned(),
            name: name.to_owned(),
            data_dir,
            logs: cfg.work_dir.clone(),
            listen: free_local_addr()?,
            admin: free_local_addr()?,
            config: cfg.args.warden_config.clone(),
            process: None,
            starts: 0,
        })
    }

    /// Runs the node with host config `path` instead of `--warden-config`.
    pub fn set_config(&mut self, path: PathBuf) {
        self.config = Some(path);
    }

    /// Starts `warden serve` and waits until both listeners accept
    /// connections; returns the time from spawn to listening.
    pub fn start(&mut self) -> Result<Duration> {
        if self.process.is_some() {
            bail!("{} is already running", self.name);
        }
        self.starts += 1;
        let log = self.logs.join(format!("{}-{}.log", self.name, self.starts));
        let mut cmd = Command::new(&self.bin);
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--listen")
            .arg(self.listen.to_string())
            .arg("--admin-listen")
            .arg(self.admin.to_string());
        if let Some(config) = &self.config {
            cmd.arg("--config").arg(config);
        }
        let started = Instant::now();
        let mut p = ServerProcess::spawn(&self.name, cmd, &log)?;
        p.wait_for_port(self.admin, START_TIMEOUT)?;
        p.wait_for_port(self.listen, START_TIMEOUT)?;
        self.process = Some(p);
        Ok(started.elapsed())
    }

    /// Stops the node (SIGTERM, then SIGKILL after 10 s) and waits until it
    /// is gone, so a restart can bind the same ports.
    pub fn stop(&mut self) -> Result<()> {
        if let Some(mut p) = self.process.take() {
            p.stop(Duration::from_secs(10))?;
        }
        Ok(())
    }

    /// The running process.
    pub fn process(&self) -> Result<&ServerProcess> {
        self.process
            .as_ref()
            .with_context(|| format!("{} is not running", self.name))
    }

    /// The running process, mutably (for readiness checks).
    pub fn process_mut(&mut self) -> Result<&mut ServerProcess> {
        self.process
            .as_mut()
            .with_context(|| format!("{} is not running", self.name))
    }

    /// The admin token the node wrote into its data dir.
    pub fn admin_token(&self) -> Result<String> {
        let path = self.data_dir.join("admin-token");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match std::fs::read_to_string(&path) {
                Ok(t) if !t.trim().is_empty() => return Ok(t.trim().to_owned()),
                _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                Ok(_) => bail!("{} is empty", path.display()),
                Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
            }
        }
    }

    /// Writes a manifest for `tenant` with `functions` to `path`.
    pub fn write_manifest(path: &Path, tenant: &str, functions: &[Function]) -> Result<()> {
        let mut s = format!("tenant = {}\n", toml_str(tenant));
        for f in functions {
            s.push_str(&format!(
                "\n[[functions]]\nname = {}\ncomponent = {}\nroutes = [{}]\n",
                toml_str(&f.name),
                toml_str(&f.component.to_string_lossy()),
                toml_str(&f.route)
            ));
        }
        std::fs::write(path, s).with_context(|| format!("writing {}", path.display()))
    }

    /// Runs `warden deploy MANIFEST` against this node; returns how long it took.
    pub fn deploy(&self, manifest: &Path, token: &str) -> Result<Duration> {
        self.deployer().deploy(manifest, token)
    }

    /// What deploying needs, shareable across threads.
    pub fn deployer(&self) -> Deployer {
        Deployer {
            bin: self.bin.clone(),
            admin: self.admin,
        }
    }

    /// The target `http://<tenant>.localhost:PORT<route>`, connecting to the
    /// gateway address.
    pub fn target(&self, tenant: &str, route: &str) -> Result<Target> {
        let host = format!("{tenant}.localhost:{}", self.listen.port());
        Ok(Target {
            connect: self.listen,
            host: HeaderValue::from_str(&host).with_context(|| format!("bad host {host:?}"))?,
            path: route.to_owned(),
        })
    }
}

/// Runs `warden deploy` against one node's admin API.
#[derive(Debug, Clone)]
pub struct Deployer {
    bin: PathBuf,
    admin: SocketAddr,
}

impl Deployer {
    /// Runs `warden deploy MANIFEST --admin-url URL --admin-token TOKEN`;
    /// returns how long it took.
    pub fn deploy(&self, manifest: &Path, token: &str) -> Result<Duration> {
        let started = Instant::now();
        let out = Command::new(&self.bin)
            .arg("deploy")
            .arg(manifest)
            .arg("--admin-url")
            .arg(format!("http://{}", self.admin))
            .arg("--admin-token")
            .arg(token)
            .env_remove("RUST_BACKTRACE")
            .output()
            .with_context(|| format!("running {} deploy", self.bin.display()))?;
        if !out.status.success() {
            bail!(
                "warden deploy {} failed ({}): {} {}",
                manifest.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(started.elapsed())
    }
}

impl Drop for WardenNode {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Locates the `warden` binary, building it with cargo unless `--no-build`.
pub fn locate_binary(cfg: &Config) -> Result<PathBuf> {
    if let Some(p) = &cfg.args.warden {
        if p.is_file() {
            return Ok(p.clone());
        }
        bail!("--warden {} does not exist", p.display());
    }
    let beside = cfg.bin_dir.join("warden");
    if cfg.args.no_build {
        if beside.is_file() {
            return Ok(beside);
        }
        bail!(
            "{} is missing (build it with `cargo build --release -p warden`)",
            beside.display()
        );
    }
    // Always ask cargo: it is a no-op when the binary is fresh, and a stale
    // binary would measure old code.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&cfg.workspace)
        .args(["build", "-p", "warden", "--bin", "warden"]);
    if cfg.is_release() {
        cmd.arg("--release");
    }
    eprintln!("building warden: {cmd:?}");
    let status = cmd.status().context("running cargo build -p warden")?;
    if !status.success() {
        bail!("cargo build -p warden failed ({status})");
    }
    if beside.is_file() {
        Ok(beside)
    } else {
        bail!("cargo built warden but {} is missing", beside.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_strings_are_escaped() {
        assert_eq!(toml_str(r#"a"b\c"#), r#""a\"b\\c""#);
        let dir = std::env::temp_dir().join(format!("warden-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let path = dir.join("warden.toml");
        WardenNode::write_manifest(
            &path,
            "bench",
            &[Function {
                name: "hello".into(),
                component: "/abs/wasi_hello.wasm".into(),
                route: "/hello".into(),
            }],
        )
        .expect("write");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            "tenant = \"bench\"\n\n[[functions]]\nname = \"hello\"\ncomponent = \"/abs/wasi_hello.wasm\"\nroutes = [\"/hello\"]\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
