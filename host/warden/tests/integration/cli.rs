//! The `warden` binary as a user drives it: clear errors for every mistake,
//! deploy against a running server, graceful SIGTERM, and crash safety of
//! uploads under `kill -9`.

use crate::common::component;
use bytes::Bytes;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use warden_test_components as guests;

const BIN: &str = env!("CARGO_BIN_EXE_warden");

/// Runs `warden args...` to completion; returns (exit code, stdout, stderr).
fn run(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("WARDEN_ADMIN_URL")
        .env_remove("WARDEN_ADMIN_TOKEN");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run warden");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A `warden serve` child process with its bound addresses.
struct Server {
    child: Child,
    addr: SocketAddr,
    admin: SocketAddr,
    stdout: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    fn start(data_dir: &Path) -> Self {
        Self::spawn(Command::new(BIN), data_dir, &[])
    }

    /// `warden serve` with host config `config` and at most `fds` open
    /// file descriptors (set by the shell before it execs the server).
    fn start_limited(data_dir: &Path, config: &Path, fds: u32) -> Self {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!("ulimit -n {fds} && exec \"$0\" \"$@\""))
            .arg(BIN);
        Self::spawn(cmd, data_dir, &["--config".as_ref(), config.as_os_str()])
    }

    fn spawn(mut cmd: Command, data_dir: &Path, extra: &[&std::ffi::OsStr]) -> Self {
        let mut child = cmd
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--admin-listen",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(data_dir)
            .args(extra)
            .env("WARDEN_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn warden serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = loop {
            let line = lines
                .next()
                .expect("server printed its addresses")
                .expect("line");
            if line.starts_with("warden listening on") {
                break line;
            }
        };
        // "warden listening on http://A (admin http://B)"
        let parts: Vec<&str> = line.split("http://").collect();
        let addr = parts[1]
            .split_whitespace()
            .next()
            .expect("addr")
            .parse()
            .expect("addr");
        let admin = parts[2].trim_end_matches(')').parse().expect("admin addr");
        // Keep draining stdout so the child never blocks on a full pipe.
        let stdout = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = stdout.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(mut sink) = sink.lock() {
                    sink.push(line);
                }
            }
        });
        Self {
            child,
            addr,
            admin,
            stdout,
        }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    fn wait(mut self) -> i32 {
        self.child.wait().expect("wait").code().unwrap_or(-1)
    }
}

/// A failing test must not leave its server running.
impl Drop for Server {
    fn drop(&mut self) {
        // A no-op once `wait` has reaped the child.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_manifest(dir: &Path, component_path: &str) -> std::path::PathBuf {
    let path = dir.join("warden.toml");
    std::fs::write(
        &path,
        format!(
            "tenant = \"acme\"\n\n[[functions]]\nname = \"echo\"\ncomponent = \"{component_path}\"\nroutes = [\"/echo\"]\n"
        ),
    )
    .expect("manifest");
    path
}

#[test]
fn deploy_explains_every_mistake() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.toml");
    let (code, _, err) = run(
        &[
            "deploy",
            missing.to_str().expect("utf8"),
            "--admin-token",
            "x",
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(err.contains("cannot read manifest"), "{err}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "tenant = \"acme\"\n[[functions]]\nname = \"x\"\ncomponent = 3\nroutes = [\"/x\"]\n",
    )
    .expect("write");
    let (code, _, err) = run(
        &["deploy", bad.to_str().expect("utf8"), "--admin-token", "x"],
        &[],
    );
    assert_eq!(code, 1);
    assert!(err.contains("line 4, column"), "{err}");

    let good = write_manifest(dir.path(), guests::ECHO);
    let (code, _, err) = run(
        &[
            "deploy",
            good.to_str().expect("utf8"),
            "--admin-token",
            "x",
            "--admin-url",
            "http://127.0.0.1:1",
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(err.contains("cannot reach the Warden admin API"), "{err}");

    let (code, _, err) = run(
        &[
            "deploy",
            good.to_str().expect("utf8"),
            "--data-dir",
            dir.path().to_str().expect("utf8"),
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(err.contains("no admin token"), "{err}");

    let missing_component = write_manifest(dir.path(), "does-not-exist.wasm");
    let (code, _, err) = run(
        &[
            "deploy",
            missing_component.to_str().expect("utf8"),
            "--admin-token",
            "x",
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(err.contains("cannot read component"), "{err}");
}

#[test]
fn deploy_uploads_what_changed_and_sigterm_drains_in_flight_requests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let manifest = write_manifest(dir.path(), guests::ECHO);
    let admin_url = format!("http://{}", server.admin);
    let deploy = |expect: &str| {
        let (code, out, err) = run(
            &[
                "deploy",
                manifest.to_str().expect("utf8"),
                "--data-dir",
                data.to_str().expect("utf8"),
            ],
            &[("WARDEN_ADMIN_URL", &admin_url)],
        );
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains(expect), "{out}");
    };
    deploy("echo: deployed");
    deploy("echo: unchanged");
    let (code, out, _) = run(
        &["tenants", "--data-dir", data.to_str().expect("utf8")],
        &[("WARDEN_ADMIN_URL", &admin_url)],
    );
    assert_eq!(code, 0);
    assert!(out.contains("acme"), "{out}");
    let (code, out, _) = run(
        &[
            "versions",
            "acme",
            "--data-dir",
            data.to_str().expect("utf8"),
        ],
        &[("WARDEN_ADMIN_URL", &admin_url)],
    );
    assert_eq!(code, 0);
    assert!(out.contains("* sha256:"), "{out}");

    // A request whose body is still streaming when SIGTERM arrives.
    let mut stream = std::net::TcpStream::connect(server.addr).expect("connect");
    write!(
        stream,
        "POST /echo HTTP/1.1\r\nhost: acme.localhost\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n5\r\nfirst\r\n"
    )
    .expect("write head");
    stream.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(300));
    server.signal("-TERM");
    std::thread::sleep(Duration::from_millis(300));
    // New connections are refused once draining started...
    assert!(
        std::net::TcpStream::connect(server.addr).is_err(),
        "the listener is closed while draining"
    );
    // ...but the in-flight one completes.
    write!(stream, "7\r\n-second\r\n0\r\n\r\n").expect("finish body");
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).expect("read response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains("first") && response.contains("second"),
        "{response}"
    );
    let stdout = server.stdout.clone();
    assert_eq!(server.wait(), 0, "clean exit after draining");

    // One JSON access line per request, flushed before exit.
    std::thread::sleep(Duration::from_millis(100));
    let lines: Vec<serde_json::Value> = stdout
        .lock()
        .map(|l| {
            l.iter()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect()
        })
        .unwrap_or_default();
    let access: Vec<_> = lines
        .iter()
        .filter(|l| l["target"] == "warden::access")
        .collect();
    assert_eq!(access.len(), 1, "{lines:?}");
    let line = access[0];
    assert_eq!(line["tenant"], "acme");
    assert_eq!(line["function"], "echo");
    assert_eq!(line["status"], 200);
    assert_eq!(line["path"], "/echo");
    assert_eq!(line["version"].as_str().map(str::len), Some(64));
    assert!(line["duration_us"].as_u64().is_some());
    assert_eq!(line["request_id"].as_str().map(str::len), Some(32));
}

#[test]
fn kill_9_during_an_upload_leaves_a_consistent_registry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let token = std::fs::read_to_string(data.join("admin-token")).expect("token");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let client = warden::cli::AdminClient::new(&format!("http://{}", server.admin), token.trim());
    let put = |path: String, body: &'static str| {
        let client = client.clone();
        rt.block_on(async move {
            client
                .send::<serde_json::Value>(
                    http::Method::PUT,
                    &path,
                    Some(("application/json", Bytes::from(body))),
                )
                .await
                .expect("admin call")
        })
    };
    put("/v1/tenants/acme".into(), "{}");
    put(
        "/v1/tenants/acme/functions/f".into(),
        r#"{"routes":["/f"]}"#,
    );
    // An acknowledged upload must survive kill -9.
    let acked = component(guests::WASI_HELLO);
    let (status, body) = rt
        .block_on(client.send::<serde_json::Value>(
            http::Method::POST,
            "/v1/tenants/acme/functions/f/versions",
            Some(("application/wasm", Bytes::from(acked))),
        ))
        .expect("upload");
    assert_eq!(status, http::StatusCode::CREATED);
    let acked_digest = body["digest"].as_str().expect("digest").to_string();

    // Half an upload on the wire, then the process dies.
    let bytes = component(guests::HELLO);
    let mut stream = std::net::TcpStream::connect(server.admin).expect("connect");
    write!(
        stream,
        "POST /v1/tenants/acme/functions/f/versions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-length: {}\r\n\r\n",
        token.trim(),
        bytes.len()
    )
    .expect("head");
    stream
        .write_all(&bytes[..bytes.len() / 2])
        .expect("half body");
    stream.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(200));
    server.signal("-KILL");
    let _ = server.wait();

    let server = Server::start(&data);
    let client = warden::cli::AdminClient::new(&format!("http://{}", server.admin), token.trim());
    let (_, versions) = rt
        .block_on(client.send::<serde_json::Value>(
            http::Method::GET,
            "/v1/tenants/acme/functions/f/versions",
            None,
        ))
        .expect("list after restart");
    let versions = versions.as_array().expect("array").clone();
    assert_eq!(
        versions.len(),
        1,
        "only the acknowledged version: {versions:?}"
    );
    assert_eq!(versions[0]["digest"], acked_digest.as_str());
    server.signal("-TERM");
    assert_eq!(server.wait(), 0);
}

/// A blocking HTTP/1.1 exchange with `Connection: close`: (status, body).
fn http1(addr: SocketAddr, method: &str, host: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .expect("head");
    stream.write_all(body).expect("body");
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut stream, &mut raw).expect("response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&raw[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[eol + 2..eol + 2 + size]);
        raw = &raw[eol + 2 + size + 2..];
    }
    out
}

#[test]
fn a_kv_write_acknowledged_before_kill_9_is_there_after_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let manifest = dir.path().join("warden.toml");
    std::fs::write(
        &manifest,
        format!(
            "tenant = \"acme\"\n[[functions]]\nname = \"probe\"\ncomponent = \"{}\"\nroutes = [\"/kv\"]\n",
            guests::KV_PROBE
        ),
    )
    .expect("manifest");
    let (code, out, err) = run(
        &[
            "deploy",
            manifest.to_str().expect("utf8"),
            "--data-dir",
            data.to_str().expect("utf8"),
        ],
        &[("WARDEN_ADMIN_URL", &format!("http://{}", server.admin))],
    );
    assert_eq!(code, 0, "{out}{err}");
    for i in 0..20 {
        let (status, _) = http1(
            server.addr,
            "PUT",
            "acme.localhost",
            &format!("/kv?key=k{i}"),
            format!("v{i}").as_bytes(),
        );
        assert_eq!(status, 204, "write {i} acknowledged");
    }
    server.signal("-KILL");
    let _ = server.wait();

    let server = Server::start(&data);
    for i in 0..20 {
        let (status, body) = http1(
            server.addr,
            "GET",
            "acme.localhost",
            &format!("/kv?key=k{i}"),
            b"",
        );
        assert_eq!(status, 200, "k{i} survived");
        assert_eq!(body, format!("v{i}").as_bytes());
    }
    server.signal("-TERM");
    assert_eq!(server.wait(), 0);
}

/// `warden keys create|list|rotate|retire` and `warden token mint` against
/// a running server: public halves only, and a minted token the gateway
/// accepts; `deploy` says which routes need a token.
#[test]
fn keys_and_tokens_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let manifest = dir.path().join("warden.toml");
    std::fs::write(
        &manifest,
        format!(
            "tenant = \"acme\"\n[auth]\nissuer = \"https://acme.test/\"\naudiences = [\"acme-api\"]\n\n[[functions]]\nname = \"probe\"\ncomponent = \"{}\"\nroutes = [\"/whoami\"]\n[functions.route_auth]\n\"GET /whoami/open\" = {{ public = true }}\n",
            guests::AUTH_PROBE
        ),
    )
    .expect("manifest");
    let admin_url = format!("http://{}", server.admin);
    let data_dir = data.to_str().expect("utf8");
    let warden = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--data-dir", data_dir]);
        let (code, out, err) = run(&all, &[("WARDEN_ADMIN_URL", &admin_url)]);
        assert_eq!(code, 0, "warden {args:?}: {out}{err}");
        out
    };
    let out = warden(&["deploy", manifest.to_str().expect("utf8")]);
    assert!(out.contains("/whoami (probe): token required"), "{out}");

    let created = warden(&["keys", "create", "acme"]);
    let kid = created.split('\t').next().expect("kid").to_string();
    assert!(
        created.contains("EdDSA") && created.contains("Active"),
        "{created}"
    );
    let rotated = warden(&["keys", "rotate", "acme", "--alg", "ES256"]);
    assert!(rotated.contains("ES256"), "{rotated}");
    let listed = warden(&["keys", "list", "acme"]);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        listed.contains(&format!("{kid}\tEdDSA\tVerifyOnly")),
        "{listed}"
    );
    let retired = warden(&["keys", "retire", "acme", &kid]);
    assert!(retired.contains("Retired"), "{retired}");

    let token = warden(&["token", "mint", "acme", "--sub", "alice", "--scope", "a"]);
    let token = token.trim();
    assert_eq!(token.split('.').count(), 3, "{token}");
    let request = format!(
        "GET /whoami HTTP/1.1\r\nHost: acme.localhost\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    let mut stream = std::net::TcpStream::connect(server.addr).expect("connect");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"subject\":\"alice\""), "{answer}");

    let (code, _, err) = run(
        &[
            "keys",
            "create",
            "acme",
            "--alg",
            "HS512",
            "--data-dir",
            data_dir,
        ],
        &[("WARDEN_ADMIN_URL", &admin_url)],
    );
    assert_eq!(code, 2, "a usage mistake: {err}");
    assert!(err.contains("unknown algorithm"), "{err}");
    server.signal("-TERM");
    assert_eq!(server.wait(), 0);
}

/// CPU time (user + system) the process `pid` has used, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line (11, 12 here).
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

#[test]
fn running_out_of_file_descriptors_neither_spins_nor_locks_real_clients_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = dir.path().join("warden-host.toml");
    std::fs::write(
        &config,
        "[connections]\nheader_read_timeout_ms = 1500\nmax_per_client = 10000\n",
    )
    .expect("config");
    let server = Server::start_limited(&data, &config, 256);
    // More idle connections than the server has descriptors: the kernel
    // completes the handshakes, the server's accept fails with EMFILE.
    let idle: Vec<std::net::TcpStream> = (0..300)
        .map(|_| std::net::TcpStream::connect(server.addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // While out of descriptors the accept loop backs off: over a second of
    // exhaustion it uses a fraction of a core, where a spinning loop would
    // use all of one.
    let ticks_per_s: u64 = 100;
    let before = cpu_ticks(server.child.id());
    std::thread::sleep(Duration::from_secs(1));
    let spent = cpu_ticks(server.child.id()) - before;
    assert!(
        spent < ticks_per_s / 2,
        "the accept loop spun: {spent} ticks in 1 s"
    );
    // A real client gets in once the idle connections have been cut at
    // their header-read timeout.
    let mut client = std::net::TcpStream::connect(server.addr).expect("connect");
    client
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: nobody.localhost\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut answer = Vec::new();
    std::io::Read::read_to_end(&mut client, &mut answer).expect("answer");
    let head = String::from_utf8_lossy(&answer);
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    assert!(head.contains("\"code\""), "a JSON error: {head}");
    // Every idle connection was closed by the server, none left hanging.
    for mut conn in idle {
        conn.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let mut buf = [0u8; 16];
        match std::io::Read::read(&mut conn, &mut buf) {
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("an idle connection was not closed: {other:?}"),
        }
    }
    server.signal("-TERM");
    assert_eq!(server.wait(), 0);
}

/// `warden users|clients|admin-tokens` against a running server: a user
/// created with its password from a file, a confidential client whose
/// secret and endpoint URLs are printed once, and an admin token shown by
/// `create` and never by `list`.
#[test]
fn users_clients_and_admin_tokens_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let manifest = dir.path().join("warden.toml");
    std::fs::write(
        &manifest,
        format!(
            "tenant = \"acme\"\n[auth]\nissuer = \"https://acme.test/\"\naudiences = [\"acme-api\"]\n\n[[functions]]\nname = \"probe\"\ncomponent = \"{}\"\nroutes = [\"/whoami\"]\n",
            guests::AUTH_PROBE
        ),
    )
    .expect("manifest");
    let password = dir.path().join("password");
    std::fs::write(&password, "correct horse battery\n").expect("password file");
    let admin_url = format!("http://{}", server.admin);
    let data_dir = data.to_str().expect("utf8");
    let warden = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--data-dir", data_dir]);
        let (code, out, err) = run(&all, &[("WARDEN_ADMIN_URL", &admin_url)]);
        assert_eq!(code, 0, "warden {args:?}: {out}{err}");
        out
    };
    warden(&["deploy", manifest.to_str().expect("utf8")]);

    let created = warden(&[
        "users",
        "create",
        "acme",
        "alice",
        "--password-file",
        password.to_str().expect("utf8"),
    ]);
    assert!(created.contains("\talice\tenabled\tpassword"), "{created}");
    let user_id = created.split('\t').next().expect("id").to_owned();
    let listed = warden(&["users", "list", "acme"]);
    assert!(listed.contains(&user_id), "{listed}");
    let disabled = warden(&["users", "disable", "acme", &user_id]);
    assert!(disabled.contains("disabled"), "{disabled}");
    let uri = warden(&["users", "totp", "acme", &user_id]);
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");

    let registered = warden(&[
        "clients",
        "register",
        "acme",
        "--name",
        "Billing",
        "--confidential",
        "--grant",
        "client_credentials",
    ]);
    assert!(registered.contains("client_secret: wcs_"), "{registered}");
    assert!(
        registered.contains("token:         https://acme.test/oauth2/token"),
        "{registered}"
    );
    let listed = warden(&["clients", "list", "acme"]);
    assert!(listed.contains("Billing"), "{listed}");
    assert!(!listed.contains("wcs_"), "no secret in listings: {listed}");

    let token = warden(&[
        "admin-tokens",
        "create",
        "acme",
        "--name",
        "ci",
        "--scope",
        "deploy",
        "--ttl",
        "3600",
    ]);
    let token = token.trim();
    assert!(token.starts_with("wat_"), "{token}");
    let listed = warden(&["admin-tokens", "list", "acme"]);
    assert!(listed.contains("\tci\t"), "{listed}");
    assert!(!listed.contains(token), "no secret in listings: {listed}");
    let (code, _, err) = run(
        &[
            "admin-tokens",
            "create",
            "acme",
            "--name",
            "x",
            "--scope",
            "root",
            "--data-dir",
            data_dir,
        ],
        &[("WARDEN_ADMIN_URL", &admin_url)],
    );
    assert_eq!(code, 2, "a usage mistake: {err}");
    assert!(err.contains("unknown scope"), "{err}");
    server.signal("-TERM");
    assert_eq!(server.wait(), 0);
}
