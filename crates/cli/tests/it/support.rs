//! Spawning the binary and talking to it.

use serde_json::{Value, json};
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub const ADMIN_EMAIL: &str = "owner@example.com";
pub const ADMIN_PASSWORD: &str = "quartz-lantern-harbor-7";

/// The binary, run in `dir` (so that `./spool.toml` and `./data` are the
/// test's own) with none of the caller's `SPOOL_*` variables.
pub fn spool(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spool"));
    command.current_dir(dir);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SPOOL_") {
            command.env_remove(name);
        }
    }
    command
}

pub fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().expect("run spool")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs and expects success; returns stdout with the final newline trimmed.
pub fn ok(command: &mut Command) -> String {
    let output = run(command);
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        stderr(&output)
    );
    stdout(&output).trim_end().to_owned()
}

/// Runs and expects exit code 1 with a one-line error; returns that line.
pub fn fails(command: &mut Command) -> String {
    let output = run(command);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{command:?}: {}{}",
        stdout(&output),
        stderr(&output)
    );
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 1, "want one error line, got: {err}");
    assert!(!lines[0].contains('\n'));
    lines[0].to_owned()
}

/// A temp dir and the database the binary uses there.
pub struct Site {
    pub dir: tempfile::TempDir,
    database_url: String,
    _pg: Option<spool_store::test_db::TestDb>,
}

impl Site {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, pg) = match std::env::var("SPOOL_TEST_BACKEND").as_deref() {
            Ok("postgres") => {
                let db = spool_store::test_db::fresh_postgres().await;
                (db.url.clone(), Some(db))
            }
            _ => (
                format!("sqlite://{}", dir.path().join("data/spool.db").display()),
                None,
            ),
        };
        Self {
            dir,
            database_url,
            _pg: pg,
        }
    }

    pub fn spool(&self) -> Command {
        let mut command = spool(self.dir.path());
        command.env("SPOOL_DATABASE_URL", &self.database_url);
        command
    }

    /// `spool serve` with the owner from [`ADMIN_EMAIL`] / [`ADMIN_PASSWORD`].
    pub fn serve(&self) -> Server {
        let mut command = self.spool();
        command
            .env("SPOOL_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("SPOOL_ADMIN_PASSWORD", ADMIN_PASSWORD);
        Server::start(command)
    }
}

type Buffer = Arc<Mutex<Vec<u8>>>;

/// Copies `from` into `into` until it closes, telling `wrote` (if any) after
/// each piece; `wrote`'s receiver sees the end as a hang-up.
fn drain(
    mut from: impl Read + Send + 'static,
    into: Buffer,
    wrote: Option<Sender<()>>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n @ 1..) = from.read(&mut chunk) {
            into.lock().unwrap().extend_from_slice(&chunk[..n]);
            if let Some(wrote) = &wrote {
                let _ = wrote.send(());
            }
        }
    })
}

/// A running `spool serve`, killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    out: Buffer,
    err: Buffer,
    readers: Vec<JoinHandle<()>>,
}

impl Server {
    /// Starts `command serve --listen 127.0.0.1:0` and waits for the
    /// "listening on ADDR" log line (so the log level must admit INFO),
    /// reading stderr as it comes: no polling, no deadline (a hang is
    /// nextest's to catch, .config/nextest.toml).
    pub fn start(mut command: Command) -> Self {
        command.args(["serve", "--listen", "127.0.0.1:0"]);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn spool serve");
        let (out, err) = (Buffer::default(), Buffer::default());
        let (wrote, logged) = channel();
        let readers = vec![
            drain(child.stdout.take().unwrap(), out.clone(), None),
            drain(child.stderr.take().unwrap(), err.clone(), Some(wrote)),
        ];
        let mut server = Server {
            child,
            base: String::new(),
            out,
            err,
            readers,
        };
        loop {
            if let Some(addr) = listening_address(&server.stderr()) {
                server.base = format!("http://{addr}");
                return server;
            }
            if logged.recv().is_err() {
                // stderr closed before the line: the process has ended.
                let status = server.child.wait().unwrap();
                panic!(
                    "spool serve exited ({status}) before listening: {}",
                    server.stderr()
                );
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.err.lock().unwrap()).into_owned()
    }

    /// SIGTERM, then waits for the exit; returns the status, stdout, stderr.
    pub fn terminate(mut self) -> (ExitStatus, String, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        self.finish()
    }

    /// SIGKILL: no chance to flush or clean up anything.
    pub fn kill(mut self) -> (String, String) {
        self.child.kill().expect("SIGKILL spool");
        let (_, out, err) = self.finish();
        (out, err)
    }

    /// Waits for the exit itself (a hang is nextest's to catch).
    fn finish(&mut self) -> (ExitStatus, String, String) {
        let status = self.child.wait().expect("wait for spool serve");
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        (status, self.stdout(), self.stderr())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The address in the "listening on ADDR" line, text or JSON logs alike.
fn listening_address(log: &str) -> Option<String> {
    let (_, rest) = log.split_once("listening on ")?;
    let addr: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || ".:[]".contains(*c))
        .collect();
    addr.parse::<std::net::SocketAddr>()
        .ok()
        .map(|addr| addr.to_string())
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// Signs in and returns the session token.
pub async fn sign_in(server: &Server, email: &str, password: &str) -> String {
    let response = client()
        .post(server.url("/api/v1/auth/sign-in"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("sign-in request");
    let status = response.status();
    let body: Value = response.json().await.expect("sign-in body");
    assert!(status.is_success(), "sign-in answered {status}: {body}");
    body["data"]["token"]
        .as_str()
        .expect("data.token")
        .to_owned()
}

/// Every API key (`spk_` + 64 hex digits) anywhere in a JSON value.
pub fn api_keys_in(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) if is_api_key(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(api_keys_in).collect(),
        Value::Object(fields) => fields.values().flat_map(api_keys_in).collect(),
        _ => Vec::new(),
    }
}

pub fn is_api_key(s: &str) -> bool {
    s.strip_prefix("spk_")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `GET /api/v1/user` with the credential; the status code.
pub async fn user_status(server: &Server, credential: &str) -> reqwest::StatusCode {
    client()
        .get(server.url("/api/v1/user"))
        .bearer_auth(credential)
        .send()
        .await
        .expect("GET /api/v1/user")
        .status()
}
