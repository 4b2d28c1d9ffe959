//! Test support: run the real binary in a clean environment, git repositories built from
//! scratch, and a real HTTP server on 127.0.0.1 that answers from a script and records what
//! it received.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub const TOKEN: &str = "tok-SECRET-4f1d2c9e7a";
pub const SHA: &str = "a2e7da86cc392417b0d9f605b28038aae80b002f";

/// The output of one run of the binary.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// A command line for the binary, with an empty environment except `PATH` and a private `HOME`.
pub struct Tool {
    cmd: Command,
    _home: Option<tempfile::TempDir>,
    reader_gone: bool,
}

/// The binary under test: this build, or `ALLSTACKS_CD_TEST_BINARY` (to show that a test fails
/// on another build, e.g. the one before a fix).
pub fn binary() -> PathBuf {
    std::env::var_os("ALLSTACKS_CD_TEST_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_allstacks-cd")))
}

pub fn tool(args: &[&str]) -> Tool {
    let home = tempfile::tempdir().expect("temp home");
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("USER", "tester")
        .current_dir(home.path())
        .stdin(Stdio::null());
    Tool {
        cmd,
        _home: Some(home),
        reader_gone: false,
    }
}

impl Tool {
    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Tool {
        self.cmd.env(k, v);
        self
    }

    pub fn envs(mut self, pairs: &[(&str, &str)]) -> Tool {
        for (k, v) in pairs {
            self.cmd.env(k, v);
        }
        self
    }

    /// Writes `contents` to `name` in the private home, the command's working directory.
    pub fn file(self, name: &str, contents: &[u8]) -> Tool {
        let home = self._home.as_ref().expect("a private home").path();
        std::fs::write(home.join(name), contents).expect("write a file in the home");
        self
    }

    /// Standard input from `name` in the private home (else it is empty).
    pub fn stdin_from(mut self, name: &str) -> Tool {
        let home = self._home.as_ref().expect("a private home").path();
        let file = std::fs::File::open(home.join(name)).expect("open the input");
        self.cmd.stdin(file);
        self
    }

    pub fn dir(mut self, dir: &Path) -> Tool {
        self.cmd.current_dir(dir);
        self
    }

    /// The four connection settings pointing at `server`, plus a service id.
    pub fn server(self, server: &Server) -> Tool {
        self.endpoint(&server.url())
    }

    /// The four connection settings pointing at `base` (a server that may not be listening),
    /// plus a service id.
    pub fn endpoint(self, base: &str) -> Tool {
        self.envs(&[
            ("ALLSTACKS_URL", base),
            ("ALLSTACKS_COMPANY_ID", "42"),
            ("ALLSTACKS_TOKEN", TOKEN),
            ("ALLSTACKS_SERVICE_ID", "7"),
        ])
    }

    /// Stdout is a pipe whose reader has gone (`| head` that has had its lines): its read end
    /// is closed as soon as the binary starts, before it can write. `stdout` comes back empty.
    pub fn reader_gone(mut self) -> Tool {
        self.reader_gone = true;
        self
    }

    /// Runs and waits at most 60 s (a hung binary fails the test instead of hanging it).
    pub fn run(self) -> Output {
        self.run_with(|_| {})
    }

    /// Runs like [`Tool::run`], calling `sample(pid)` about every millisecond while the child
    /// runs (for memory sampling).
    pub fn run_with(mut self, mut sample: impl FnMut(u32)) -> Output {
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("spawn allstacks-cd");
        let out = child.stdout.take().expect("stdout");
        // `reader_gone`: the read end is closed here, before the binary can write.
        let out = (!self.reader_gone).then_some(out);
        let mut err = child.stderr.take().expect("stderr");
        let t_out = std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut out) = out {
                let _ = out.read_to_string(&mut s);
            }
            s
        });
        let t_err = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            sample(child.id());
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("allstacks-cd did not finish within 60 s");
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        let out = Output {
            code: status.code().unwrap_or(-1),
            stdout: t_out.join().expect("stdout thread"),
            stderr: t_err.join().expect("stderr thread"),
        };
        // Secret hygiene, checked on every run of every test. The one exception is GitHub's
        // `::add-mask::` command, which must carry the value so the runner hides it; the
        // runner consumes that line and never shows it.
        let mask = format!("::add-mask::{TOKEN}\n");
        let stderr = out.stderr.replace(&mask, "");
        assert!(
            !out.stdout.contains(TOKEN) && !stderr.contains(TOKEN),
            "the token leaked into the output:\n{}\n{}",
            out.stdout,
            out.stderr
        );
        out
    }
}

/// A git repository built from scratch in a temp dir.
pub struct Repo {
    pub dir: tempfile::TempDir,
}

impl Repo {
    /// `git init` (`sha256` picks the object format), one commit with fixed dates.
    pub fn new(object_format: &str) -> Repo {
        let dir = tempfile::tempdir().expect("temp repo");
        let repo = Repo { dir };
        repo.git(&[
            "init",
            "-q",
            &format!("--object-format={object_format}"),
            "-b",
            "main",
        ]);
        repo.git(&["config", "user.email", "dev@example.com"]);
        repo.git(&["config", "user.name", "Dev"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        std::fs::write(repo.path().join("README"), "hello\n").expect("write");
        repo.git(&["add", "README"]);
        repo.git(&["commit", "-q", "-m", "first"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs git in the repository with fixed dates and no user config; returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.path())
            .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }
}

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Send the body one byte at a time, this long apart (a dripping server).
    pub drip: Option<Duration>,
    /// Accept and never answer (until the server stops).
    pub hang: bool,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            drip: None,
            hang: false,
        }
    }

    pub fn drip(mut self, every: Duration) -> Reply {
        self.drip = Some(every);
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = body.into();
        self
    }

    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }

    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }

    pub fn hang() -> Reply {
        Reply {
            hang: true,
            ..Reply::status(200)
        }
    }
}

/// What the server received.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("request body is JSON")
    }
}

/// An HTTP/1.1 server on 127.0.0.1. Each request takes the next reply of the script (the last
/// one repeats). It stops when dropped, and by itself after 90 s at the latest.
pub struct Server {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start(script: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        Server::on(listener, script)
    }

    /// Serves on an already bound listener (for "the server comes up later").
    pub fn on(listener: TcpListener, script: Vec<Reply>) -> Server {
        Server::choosing(
            listener,
            Arc::new(move |n: usize, _: &Received| {
                script
                    .get(n)
                    .or(script.last())
                    .cloned()
                    .unwrap_or(Reply::status(200))
            }),
        )
    }

    /// A server whose answer `route` picks from each request (a fake API routing by path and
    /// query), recording every request like [`Server::start`].
    pub fn route(route: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        Server::choosing(listener, Arc::new(move |_: usize, r: &Received| route(r)))
    }

    /// Serves `listener`, answering the `n`th connection's request with `choose(n, request)`.
    fn choosing(listener: TcpListener, choose: Chooser) -> Server {
        let addr = listener.local_addr().expect("addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (rec, st) = (received.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            let give_up = Instant::now() + Duration::from_secs(90);
            let mut n = 0usize;
            let mut workers = Vec::new();
            while !st.load(Ordering::SeqCst) && Instant::now() < give_up {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (rec, st, choose) = (rec.clone(), st.clone(), choose.clone());
                        let index = n;
                        n += 1;
                        workers.push(std::thread::spawn(move || {
                            serve(stream, |r| choose(index, r), &rec, &st)
                        }));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            st.store(true, Ordering::SeqCst);
            for w in workers {
                let _ = w.join();
            }
        });
        Server {
            addr,
            received,
            stop,
            handle: Some(handle),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// The one request received; panics unless exactly one arrived.
    pub fn only(&self) -> Received {
        let r = self.received();
        assert_eq!(r.len(), 1, "expected exactly one request, got {}", r.len());
        r[0].clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Picks the answer to the `n`th connection's request.
type Chooser = Arc<dyn Fn(usize, &Received) -> Reply + Send + Sync>;

fn serve(
    stream: TcpStream,
    choose: impl FnOnce(&Received) -> Reply,
    rec: &Mutex<Vec<Received>>,
    stop: &AtomicBool,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let (k, v) = (k.trim().to_string(), v.trim().to_string());
            if k.eq_ignore_ascii_case("content-length") {
                length = v.parse().unwrap_or(0);
            }
            headers.push((k, v));
        }
    }
    let mut body = vec![0u8; length];
    let _ = reader.read_exact(&mut body);
    let received = Received {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    };
    let reply = choose(&received);
    rec.lock().expect("lock").push(received);
    if reply.hang {
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
        return;
    }
    let until = Instant::now() + reply.delay;
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut out = stream;
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    match reply.drip {
        None => {
            let _ = out.write_all(&reply.body);
        }
        Some(every) => {
            for byte in &reply.body {
                if stop.load(Ordering::SeqCst) || out.write_all(&[*byte]).is_err() {
                    break;
                }
                let _ = out.flush();
                std::thread::sleep(every);
            }
        }
    }
    let _ = out.flush();
}

/// A temp directory path that is not created (for outboxes, state files).
pub fn temp_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// Panics if the token occurs in `path` or, for a directory, in any file below it. Files the
/// tool writes (outbox, rejected/, GitHub outputs) must never carry it.
pub fn assert_no_token(path: &Path) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("read dir").flatten() {
            assert_no_token(&entry.path());
        }
    } else if let Ok(bytes) = std::fs::read(path) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(TOKEN),
            "the token leaked into {}:\n{text}",
            path.display()
        );
    }
}

/// The saved reports in an outbox (top level only, oldest first), parsed.
pub fn outbox_files(dir: &Path) -> Vec<(PathBuf, serde_json::Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file());
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read saved report");
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {text}", p.display()));
            (p, json)
        })
        .collect()
}

/// A port on 127.0.0.1 that is bound but not listening: connections to it are refused, and no
/// other test can take it, until [`ReservedPort::listen`] turns it into a listener ("the server
/// comes up later" on the very same port).
#[cfg(unix)]
pub struct ReservedPort {
    fd: std::os::fd::OwnedFd,
    pub port: u16,
}

#[cfg(unix)]
impl ReservedPort {
    pub fn new() -> ReservedPort {
        use std::os::fd::FromRawFd;
        // SAFETY: plain socket calls on a descriptor we own; the sockaddr is fully initialised.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
            let fd = std::os::fd::OwnedFd::from_raw_fd(fd);
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
            addr.sin_port = 0;
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
            let rc = libc::bind(raw, &addr as *const _ as *const libc::sockaddr, len);
            assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
            let mut len = len;
            let rc = libc::getsockname(raw, &mut addr as *mut _ as *mut libc::sockaddr, &mut len);
            assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
            ReservedPort {
                fd,
                port: u16::from_be(addr.sin_port),
            }
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts listening on the reserved port.
    pub fn listen(self) -> TcpListener {
        use std::os::fd::AsRawFd;
        // SAFETY: `listen` on a bound socket we own.
        let rc = unsafe { libc::listen(self.fd.as_raw_fd(), 128) };
        assert_eq!(rc, 0, "listen: {}", std::io::Error::last_os_error());
        TcpListener::from(self.fd)
    }
}

impl Tool {
    /// Like [`Tool::run`], and also returns the process's peak resident memory in KiB, or `None`
    /// where it cannot be measured.
    ///
    /// The kernel carries the parent's high-water mark across `exec` into the child's resource
    /// usage, so `wait4` from this (large) test process would report the test's own memory.
    /// GNU time forks from a small process and reports the child's peak alone; without it, the
    /// child's `VmHWM` is sampled from /proc while it runs (a lower bound: the last moments
    /// before exit may be missed).
    pub fn run_measured(self) -> (Output, Option<u64>) {
        let gnu_time = Path::new("/usr/bin/time");
        if !cfg!(target_os = "linux") {
            return (self.run(), None);
        }
        if !gnu_time.is_file() {
            return self.run_sampling_hwm();
        }
        let report = tempfile::NamedTempFile::new().expect("temp file");
        let path = report.path().to_str().expect("utf-8 temp path");
        let out = self
            .under(&[gnu_time.to_str().expect("utf-8"), "-f", "%M", "-o", path])
            .run();
        let text = std::fs::read_to_string(report.path()).unwrap_or_default();
        // GNU time writes "Command exited with non-zero status N" before the numbers.
        let kib = text.lines().last().and_then(|l| l.trim().parse().ok());
        (out, kib)
    }

    fn run_sampling_hwm(self) -> (Output, Option<u64>) {
        let mut peak: Option<u64> = None;
        let out = self.run_with(|pid| {
            let hwm = std::fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|t| {
                    let line = t.lines().find(|l| l.starts_with("VmHWM:"))?;
                    line.split_whitespace().nth(1)?.parse::<u64>().ok()
                });
            if hwm.is_some() {
                peak = peak.max(hwm);
            }
        });
        (out, peak)
    }
}

impl Tool {
    /// A complete job (everything but the connection), with `job_id`.
    pub fn with_job(self, job_id: &str) -> Tool {
        self.envs(&[
            ("ALLSTACKS_COMMIT_SHA", SHA),
            ("ALLSTACKS_REPO_NAME", "acme/web"),
            ("ALLSTACKS_JOB_ID", job_id),
            ("ALLSTACKS_JOB_START_TIME", "1704018030"),
            ("ALLSTACKS_JOB_DURATION", "60"),
            ("ALLSTACKS_STATUS", "success"),
            ("ALLSTACKS_TRIGGERED_BY", "deployer@example.com"),
            ("ALLSTACKS_NO_CONTEXT", "true"),
        ])
    }
}

/// The payload [`Tool::with_job`] sends with service id 7 ([`Tool::server`]).
pub fn job_payload(job_id: &str) -> serde_json::Value {
    serde_json::json!({
        "job_id": job_id,
        "commit_sha": SHA,
        "repo_name": "acme/web",
        "service_id": 7,
        "job_start_time": 1704018030,
        "job_duration": 60,
        "status": "Succeeded",
        "triggered_by": "deployer@example.com",
    })
}

impl Tool {
    /// Runs the binary through `wrapper` (e.g. `["unshare", "--pid", "--fork"]`), keeping the
    /// arguments, environment and directory.
    pub fn under(self, wrapper: &[&str]) -> Tool {
        let mut cmd = Command::new(wrapper[0]);
        cmd.args(&wrapper[1..])
            .arg(self.cmd.get_program())
            .args(self.cmd.get_args())
            .env_clear()
            .stdin(Stdio::null());
        for (k, v) in self.cmd.get_envs() {
            if let Some(v) = v {
                cmd.env(k, v);
            }
        }
        if let Some(dir) = self.cmd.get_current_dir() {
            cmd.current_dir(dir);
        }
        Tool {
            cmd,
            _home: self._home,
            reader_gone: self.reader_gone,
        }
    }

    /// Unsets a variable set before (e.g. by [`Tool::with_job`]).
    pub fn env_remove(mut self, k: &str) -> Tool {
        self.cmd.env_remove(k);
        self
    }
}

/// The webhook URL for `base` and company 42 (what [`Tool::server`] configures).
pub fn webhook(base: &str) -> String {
    format!("{base}/webhook/company/42/cicd_job")
}

/// Saves a report for `url` in `dir` the way `report` does, and returns its file.
pub fn save_report(dir: &Path, url: &str, job_id: &str) -> PathBuf {
    allstacks_cd::outbox::save(
        dir,
        &allstacks_cd::outbox::Saved {
            version: 1,
            url: url.to_string(),
            saved_at: 1_704_018_100,
            last_error: "could not connect".into(),
            payload: job_payload(job_id),
            rejected: None,
            retry: None,
        },
    )
    .expect("save")
}

/// Asserts a `--dry-run` provenance line `field  value  source` (columns separated by two
/// spaces) on stderr.
pub fn has_line(out: &Output, field: &str, value: &str, source: &str) {
    let found = out.stderr.lines().any(|l| {
        let cols: Vec<&str> = l
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        cols.len() >= 3 && cols[0] == field && cols[1] == value && cols[2..].join("  ") == source
    });
    assert!(
        found,
        "no line {field} | {value} | {source} in:\n{}",
        out.stderr
    );
}

/// `flush ARGS` with the token and the endpoint `base` + company 42 configured: saved reports
/// are sent only to the endpoint configured now.
pub fn flush(args: &[&str], base: &str) -> Tool {
    let mut all = vec!["flush"];
    all.extend_from_slice(args);
    tool(&all).envs(&[
        ("ALLSTACKS_TOKEN", TOKEN),
        ("ALLSTACKS_URL", base),
        ("ALLSTACKS_COMPANY_ID", "42"),
    ])
}

impl Tool {
    /// Runs the binary as the leader of a process group of its own, as CI runners and
    /// supervisors start a step: `kill(-pid, sig)` then reaches it and its children at once.
    #[cfg(unix)]
    pub fn own_group(mut self) -> Tool {
        use std::os::unix::process::CommandExt;
        self.cmd.process_group(0);
        self
    }
}

/// Sends `sig` to process `pid` (a negative `pid`: its process group).
#[cfg(unix)]
pub fn signal(pid: i32, sig: i32) {
    // SAFETY: `kill` has no memory-safety preconditions; the tests signal only their own children.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(
        rc,
        0,
        "kill({pid}, {sig}): {}",
        std::io::Error::last_os_error()
    );
}
