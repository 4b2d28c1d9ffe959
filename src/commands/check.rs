//! `check`: everything a first report can get wrong, found without reporting anything. The
//! settings (each with its source, the token masked), the way to the server (DNS, TCP, then TLS
//! and HTTP with a GET on the webhook URL, which is not a job), the token's form, the outbox,
//! the CI provider and the job a report would send. One line per check on stderr, the job's
//! payload on stdout (as `--dry-run`); exit 0 when all is well, 1 when something is wrong.
//!
//! No endpoint proves a token valid without posting a job, so `check` cannot; it says so.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::{Duration, Instant};

use super::report::{in_ci, plan, print_job};
use super::ui_for;
use crate::ci;
use crate::cli::{ConnArgs, ReportArgs};
use crate::client;
use crate::context::CiContext;
use crate::delivery::{self, Delivery};
use crate::env::{Env, Sourced};
use crate::outbox;
use crate::resolve::Plan;
use crate::settings::{self, DeliverySettings, JobSettings};
use crate::state;
use crate::ui::Ui;

/// `check`: returns the exit code.
pub fn check(args: ReportArgs, env: &Env, cwd: &Path) -> i32 {
    let token_source = token_source(&args.conn, env);
    let mut errors = Vec::new();
    let d = settings::delivery(args.conn, env, &mut errors);
    let ui = ui_for(&d, env);
    let js = settings::job(args.job, env, &mut errors);
    let mut c = Checks {
        ui: &ui,
        counts: [0; 4],
    };
    for e in &errors {
        c.line(Mark::Fail, "setting", e);
    }
    c.endpoint(&d);
    c.token(&d, &token_source);
    let conn = delivery::check_connection(&d);
    match &conn.url {
        Some(url) => c.network(&d, env, url),
        None => c.line(
            Mark::Skip,
            "network",
            "not checked: no webhook URL (see above)",
        ),
    }
    let ci = ci::detect(env);
    c.outbox(&d, env, in_ci(&ci, env), conn.url.as_deref());
    c.line(Mark::Ok, "provider", &provider(&ci));
    c.job(js, &ci, env, cwd);
    c.finish()
}

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Ok,
    Warn,
    Fail,
    /// Not checked: an earlier check failed.
    Skip,
}

/// The lines said so far, counted by mark.
struct Checks<'a> {
    ui: &'a Ui,
    counts: [usize; 4],
}

impl Checks<'_> {
    /// `ok    url         https://... (from ALLSTACKS_URL)`.
    fn line(&mut self, mark: Mark, what: &str, detail: &str) {
        let word = match mark {
            Mark::Ok => "ok",
            Mark::Warn => "warn",
            Mark::Fail => "FAIL",
            Mark::Skip => "skip",
        };
        self.counts[mark as usize] += 1;
        self.ui.plain(&format!("{word:<4}  {what:<9}  {detail}"));
    }

    /// The URL and the company id, each checked on its own.
    fn endpoint(&mut self, d: &DeliverySettings) {
        let stand_in = |v: &str| Sourced::new(v.to_string(), "stand-in");
        let (mark, url) = match &d.url {
            None => (Mark::Fail, NO_URL.to_string()),
            Some(u) => match client::endpoint(Some(u), Some(&stand_in("0")), d.allow_http) {
                Ok(_) => (
                    Mark::Ok,
                    format!(
                        "{} (from {})",
                        client::redact_userinfo(u.value.trim()),
                        u.source
                    ),
                ),
                Err(e) => (Mark::Fail, e),
            },
        };
        self.line(mark, "url", &url);
        let in_url = d
            .url
            .as_ref()
            .is_some_and(|u| u.value.contains("/webhook/company/"));
        let base = stand_in("https://stand-in.invalid");
        let (mark, company) = match &d.company_id {
            _ if in_url => (Mark::Ok, "in the URL".to_string()),
            None => (Mark::Fail, NO_COMPANY.to_string()),
            Some(c) => match client::endpoint(Some(&base), Some(c), true) {
                Ok(_) => (Mark::Ok, format!("{} (from {})", c.value.trim(), c.source)),
                Err(e) => (Mark::Fail, e),
            },
        };
        self.line(mark, "company", &company);
    }

    /// The token's form: it is never shown, and only a report proves it valid.
    fn token(&mut self, d: &DeliverySettings, source: &str) {
        let Some(token) = &d.token else {
            let why = if d.token_refused {
                "refused (the error above says why)"
            } else {
                "not set: set ALLSTACKS_TOKEN (or --token-file) to an Allstacks Personal Access \
                 Token"
            };
            return self.line(Mark::Fail, "token", why);
        };
        let form = format!("set ({} characters, from {source}; not shown)", token.len());
        match foreign_token(token) {
            Some(why) => self.line(Mark::Fail, "token", &format!("{form}, but {why}")),
            None => self.line(
                Mark::Ok,
                "token",
                &format!(
                    "{form}: one line of visible characters. No endpoint proves a token valid \
                     without posting a job: only a report does"
                ),
            ),
        }
    }

    /// DNS, TCP, then TLS and HTTP (a GET on the webhook URL, without the token).
    fn network(&mut self, d: &DeliverySettings, env: &Env, url: &str) {
        let Some((host, port)) = client::host_and_port(url) else {
            return self.line(Mark::Fail, "network", &format!("no host in {url}"));
        };
        let limit = d.timeout.min(Duration::from_secs(10));
        // Through a proxy, the proxy resolves and connects: our own failures only warn.
        let proxy = proxy_of(env, url, &host);
        let soft = if proxy.is_some() {
            Mark::Warn
        } else {
            Mark::Fail
        };
        let via = proxy.map_or(String::new(), |p| {
            format!("; requests go through the proxy in {p}, which may reach it")
        });
        match resolve(&host, port, limit) {
            Ok(addrs) => {
                let shown: Vec<String> = addrs.iter().take(3).map(|a| a.ip().to_string()).collect();
                let dns = if host.parse::<std::net::IpAddr>().is_ok() {
                    format!("{host} is an address: nothing to resolve")
                } else {
                    format!("{host} is {}", shown.join(", "))
                };
                self.line(Mark::Ok, "dns", &dns);
                match connect(&addrs, limit) {
                    Ok((addr, ms)) => {
                        self.line(Mark::Ok, "tcp", &format!("connected to {addr} in {ms} ms"))
                    }
                    Err(e) => self.line(
                        soft,
                        "tcp",
                        &format!("could not connect to {host}:{port}: {e}{via}"),
                    ),
                }
            }
            Err(e) => self.line(soft, "dns", &format!("{host} does not resolve: {e}{via}")),
        }
        self.http(d, env, url, limit);
    }

    /// One GET on the webhook URL: any HTTP answer proves the way there (and, over https, TLS).
    fn http(&mut self, d: &DeliverySettings, env: &Env, url: &str, limit: Duration) {
        let what = if url.starts_with("https:") {
            "tls+http"
        } else {
            "http"
        };
        let sender = match Delivery::new(d, env, d.token.as_deref().unwrap_or(""), url, None) {
            Ok(delivery) => delivery,
            Err(f) => return self.line(Mark::Fail, what, f.message()),
        };
        let (status, to) = match sender.sender().probe(url, limit) {
            Ok(answer) => answer,
            Err(f) => return self.line(Mark::Fail, what, f.message()),
        };
        let (mark, detail) = match status {
            404 => (
                Mark::Warn,
                "the server answers, but maybe not for this company: check ALLSTACKS_COMPANY_ID \
                 and the URL's path"
                    .to_string(),
            ),
            300..=399 => (
                Mark::Warn,
                format!(
                    "a redirect to {}: reports are not redirected; set the URL to where it points",
                    to.as_deref().unwrap_or("?")
                ),
            ),
            500.. => (
                Mark::Warn,
                "the server has trouble; a report now would be retried".to_string(),
            ),
            _ => (
                Mark::Ok,
                "the server answers at the webhook's path (a GET is not a job)".to_string(),
            ),
        };
        let detail = format!("GET {url} answered HTTP {status}: {detail}");
        self.line(mark, what, &detail);
    }

    /// Where undelivered reports go: there, private, and what waits in it.
    fn outbox(&mut self, d: &DeliverySettings, env: &Env, in_ci: bool, url: Option<&str>) {
        let Some(dir) = delivery::outbox_dir(d, env, in_ci) else {
            let none = "none: in CI an undelivered report is kept only where ALLSTACKS_OUTBOX says";
            return self.line(Mark::Ok, "outbox", none);
        };
        let shown = dir.display();
        if !dir.exists() {
            let later = format!(
                "{shown} does not exist yet; it is made, private, when a report cannot be delivered"
            );
            return self.line(Mark::Ok, "outbox", &later);
        }
        // The one reader of the outbox checks that it is ours and private.
        let found = match outbox::pending(&dir) {
            Ok(found) => found,
            Err(e) => return self.line(Mark::Fail, "outbox", &e),
        };
        let elsewhere = found
            .files
            .iter()
            .filter(|p| outbox::read(p).is_ok_and(|s| Some(s.url.as_str()) != url))
            .count();
        let (all, foreign) = (found.files.len(), found.foreign.len());
        if all + foreign == 0 {
            return self.line(
                Mark::Ok,
                "outbox",
                &format!("{shown}: private, nothing waiting"),
            );
        }
        self.line(
            Mark::Warn,
            "outbox",
            &format!(
                "{shown}: private; {} report(s) wait for `allstacks-cd flush`, {elsewhere} saved \
                 for another endpoint (`flush --adopt`), {foreign} of another user (never sent)",
                all - elsewhere
            ),
        );
    }

    /// The job a report would send here, printed as `--dry-run` prints it.
    fn job(&mut self, mut js: JobSettings, ci: &CiContext, env: &Env, cwd: &Path) {
        let no_status = js.status.is_none()
            && js.needs_json.is_none()
            && js.default_status.is_none()
            && ci.status.is_none();
        if no_status {
            js.default_status = Some(Sourced::new("success".into(), "check's stand-in"));
            let why = "none given and none from the CI provider: a report here needs --status \
                       (the job below says success)";
            self.line(Mark::Warn, "status", why);
        }
        let path = js
            .state_file
            .clone()
            .unwrap_or_else(|| state::default_path(env, cwd));
        let (planned, warnings) = plan(&js, ci, &state::StateFile::read(path), None, env, cwd);
        for w in &warnings {
            self.line(Mark::Warn, "job", w);
        }
        match planned {
            Ok(Plan::Send { job, provenance }) => {
                print_job(&job, &provenance, self.ui);
                let what = format!(
                    "job {} ({}) for {}: its payload is on stdout",
                    job.job_id(),
                    job.status(),
                    job.commit_sha()
                );
                self.line(Mark::Ok, "job", &what);
            }
            Ok(Plan::Skip { reason }) => self.line(
                Mark::Ok,
                "job",
                &format!("a report here sends nothing: {reason}"),
            ),
            Err(errors) => {
                for e in &errors {
                    self.line(Mark::Fail, "job", e);
                }
            }
        }
    }

    /// The closing line; the exit code.
    fn finish(&self) -> i32 {
        let [ok, warn, fail, skip] = self.counts;
        let verdict = if fail == 0 {
            "all is well"
        } else {
            "something is wrong"
        };
        self.ui.result(&format!(
            "allstacks-cd: check: {verdict}: {ok} ok, {warn} warning(s), {fail} failed, {skip} \
             skipped; nothing was sent"
        ));
        i32::from(fail > 0)
    }
}

const NO_URL: &str = "not set: set ALLSTACKS_URL (or --url) to your Allstacks server, e.g. \
                      https://allstacks.example.com";
const NO_COMPANY: &str =
    "not set: set ALLSTACKS_COMPANY_ID (or --company-id) to your company's id in Allstacks";

/// Where the token came from, for the token's line: `--token`, `ALLSTACKS_TOKEN`, or its file.
fn token_source(conn: &ConnArgs, env: &Env) -> String {
    if conn.token.as_deref().is_some_and(|t| !t.trim().is_empty()) {
        return "--token".into();
    }
    if env.get("ALLSTACKS_TOKEN").is_some() {
        return "ALLSTACKS_TOKEN".into();
    }
    let file = conn.token_file.clone();
    let file = file.or_else(|| env.get("ALLSTACKS_TOKEN_FILE").map(Into::into));
    file.map_or("?".into(), |f| format!("the file {}", f.display()))
}

/// Why `token` is not an Allstacks token, when its form says so: another service's prefix, or
/// quotes copied along with it.
fn foreign_token(token: &str) -> Option<&'static str> {
    const OTHERS: [(&str, &str); 3] = [
        ("ghp_", "it looks like a GitHub token"),
        ("github_pat_", "it looks like a GitHub token"),
        ("glpat-", "it looks like a GitLab token"),
    ];
    if let Some((_, why)) = OTHERS.iter().find(|(p, _)| token.starts_with(p)) {
        return Some(why);
    }
    let quoted = |q: char| token.len() > 1 && token.starts_with(q) && token.ends_with(q);
    (quoted('"') || quoted('\'')).then_some("it is in quotes: set the token without them")
}

/// The proxy variable requests to `url` go through, if any: https to another host only (plain
/// http and loopback never use a proxy).
fn proxy_of(env: &Env, url: &str, host: &str) -> Option<&'static str> {
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !url.starts_with("https:") || loopback {
        return None;
    }
    ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        .into_iter()
        .find(|v| env.get(v).is_some())
}

/// The addresses of `host`, within `limit` (the system resolver has no deadline of its own).
fn resolve(host: &str, port: u16, limit: Duration) -> Result<Vec<SocketAddr>, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let target = (host.to_string(), port);
    std::thread::spawn(move || {
        let _ = tx.send(target.to_socket_addrs().map(Iterator::collect::<Vec<_>>));
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err("no address".into()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {}s", limit.as_secs())),
    }
}

/// The first address that accepts a connection, and how long it took.
fn connect(addrs: &[SocketAddr], limit: Duration) -> Result<(SocketAddr, u128), String> {
    let mut last = String::from("no address");
    for addr in addrs {
        let started = Instant::now();
        match TcpStream::connect_timeout(addr, limit) {
            Ok(_) => return Ok((*addr, started.elapsed().as_millis())),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

/// `github-actions (detected)`, or `local` when no CI system is.
fn provider(ci: &CiContext) -> String {
    if ci.provider.is_ci() {
        format!("{} (detected)", ci.provider.id())
    } else {
        format!("{}: no CI system detected", ci.provider.id())
    }
}
