//! HTTP: the only module that touches reqwest. For the webhook, one client, one `send` that
//! posts, classifies the answer, and retries transient failures with exponential backoff and
//! jitter inside the deadline (honouring `Retry-After`). For the GitHub and GitLab REST APIs,
//! one [`Api`] client that every call goes through (the start time, the relay's job lookup,
//! `backfill` via [`crate::api`]), with one set of guards and messages.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};

use crate::env::Sourced;
use crate::ui::Ui;

/// The server's response is read up to this many bytes; the rest is ignored.
pub const MAX_RESPONSE: u64 = 64 * 1024;
/// Messages shown from a 400/422 are cut to this many bytes.
const MAX_MESSAGE: usize = 2 * 1024;

pub const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// Builds the webhook URL from `--url` and `--company-id`, and applies the guards before any
/// connection is made: no credentials in the URL, no plain HTTP to another host.
pub fn endpoint(
    url: Option<&Sourced<String>>,
    company_id: Option<&Sourced<String>>,
    allow_http: bool,
) -> Result<String, String> {
    let url = url.ok_or(
        "url is required: set ALLSTACKS_URL (or --url) to your Allstacks server, e.g. \
         https://allstacks.example.com",
    )?;
    let raw = url.value.trim();
    let shown = redact_userinfo(raw);
    let parsed = reqwest::Url::parse(raw).map_err(|e| {
        format!(
            "url {shown:?} (from {}) is not a valid URL: {e}",
            url.source
        )
    })?;
    refuse_credentials(&parsed, "url", &url.source)?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_http || is_loopback(&parsed) => {}
        "http" => {
            return Err(format!(
                "url {shown:?} (from {}) uses plain http:// to a host that is not this machine: the \
                 token would travel in clear. Use https://, or pass --allow-http \
                 (ALLSTACKS_ALLOW_HTTP=true) if you really mean it",
                url.source
            ));
        }
        other => {
            return Err(format!(
                "url {shown:?} (from {}) must start with https:// (got {other}://)",
                url.source
            ));
        }
    }
    if raw.contains("/webhook/company/") {
        return Ok(raw.to_string());
    }
    let company = company_id.ok_or(
        "company id is required: set ALLSTACKS_COMPANY_ID (or --company-id), or give the full \
         webhook URL (…/webhook/company/{id}/cicd_job) as the url",
    )?;
    let id = company.value.trim();
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "company id must be letters, digits, - or _, got {:?} (from {})",
            company.value, company.source
        ));
    }
    let mut base = raw.trim_end_matches('/').to_string();
    if let Some(q) = base.find(['?', '#']) {
        base.truncate(q);
    }
    Ok(format!("{base}/webhook/company/{id}/cicd_job"))
}

/// Credentials belong in the token only (SPEC.md, Security rules): a URL with a user name or
/// password is refused, and the message does not repeat them.
fn refuse_credentials(url: &reqwest::Url, what: &str, source: &str) -> Result<(), String> {
    if url.username().is_empty() && url.password().is_none() {
        return Ok(());
    }
    Err(format!(
        "{what} {:?} (from {source}) contains a user name or password: credentials go only in \
         the token. Remove the `user:password@` part",
        redact_userinfo(url.as_str())
    ))
}

/// `text` (a URL, maybe unparsable) with any `user:password@` before the host replaced by
/// `***@`, for messages.
pub fn redact_userinfo(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else {
        return text.to_string();
    };
    let rest = &text[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}***@{}", &text[..scheme_end + 3], &rest[at + 1..]),
        None => text.to_string(),
    }
}

/// The host (IPv6 without brackets) and port of `url`, the scheme's default port when none is
/// given (`check` resolves and connects to them).
pub fn host_and_port(url: &str) -> Option<(String, u16)> {
    let url = reqwest::Url::parse(url).ok()?;
    let host = url
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']');
    Some((host.to_string(), url.port_or_known_default()?))
}

/// Whether requests to `url` must bypass any proxy: a proxy cannot reach this machine's
/// loopback for us, and a plain-HTTP request would hand the token to the proxy in clear.
fn bypasses_proxy(url: &reqwest::Url) -> bool {
    url.scheme() == "http" || is_loopback(url)
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// How delivery ended, when it did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Transient failures until the retries or the deadline ran out. Worth keeping in the outbox.
    GaveUp(String),
    /// The server answered with a final status (400, 401, 404, ...).
    Rejected { status: u16, message: String },
    /// The TLS handshake failed (untrusted certificate, ...): a configuration problem.
    Tls(String),
    /// Our side could not even build a request (unreadable --ca-cert, ...).
    Setup(String),
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::GaveUp(m) | Failure::Tls(m) | Failure::Setup(m) => m,
            Failure::Rejected { message, .. } => message,
        }
    }
}

/// The result of [`Sender::send`].
#[derive(Debug, Clone)]
pub struct Sent {
    pub attempts: u32,
    /// The last HTTP status received, if any.
    pub http_status: Option<u16>,
    /// `Ok(response body)` on a 2xx.
    pub result: Result<String, Failure>,
    /// The last attempt could not reach the server at all (no connection: refused, DNS, a
    /// connect timeout; or a TLS failure), as opposed to a server that answered or timed out.
    pub unreachable: bool,
    /// The last answer's `Retry-After`, when it gave one.
    pub retry_after: Option<Duration>,
}

/// Options for the client.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    pub token: &'a str,
    pub timeout: Duration,
    pub retries: u32,
    pub ca_cert: Option<&'a Path>,
    /// `SSL_CERT_FILE`, added to the roots like `--ca-cert`.
    pub ssl_cert_file: Option<&'a Path>,
    /// The webhook URL this sender posts to (already through [`endpoint`]'s guards). A plain
    /// `http://` one loads no TLS roots (reading the system store is most of the cost of a
    /// report) and, like a loopback one, never goes through a proxy.
    pub url: &'a str,
}

/// One HTTP client and the token.
pub struct Sender {
    client: Client,
    token: HeaderValue,
    retries: u32,
    timeout: Duration,
}

impl Sender {
    /// Builds the client: user agent, TLS roots (system + bundled, plus `--ca-cert` and
    /// `SSL_CERT_FILE`), proxies from the environment, no redirects (a redirected POST would
    /// lose its body, and the token must not follow it elsewhere).
    pub fn new(opts: &Options) -> Result<Sender, Failure> {
        let url = reqwest::Url::parse(opts.url)
            .map_err(|e| Failure::Setup(format!("the webhook URL is not valid: {e}")))?;
        let mut builder = Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(opts.timeout.min(Duration::from_secs(10)));
        for (path, what) in [
            (opts.ca_cert, "--ca-cert / ALLSTACKS_CA_CERT"),
            (opts.ssl_cert_file, "SSL_CERT_FILE"),
        ] {
            let Some(path) = path else { continue };
            let pem = std::fs::read(path).map_err(|e| {
                Failure::Setup(format!("cannot read {} ({what}): {e}", path.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                Failure::Setup(format!(
                    "{} ({what}) is not a PEM bundle: {e}",
                    path.display()
                ))
            })?;
            if certs.is_empty() {
                return Err(Failure::Setup(format!(
                    "{} ({what}) holds no PEM certificate",
                    path.display()
                )));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if url.scheme() == "http" {
            builder = builder.tls_built_in_root_certs(false);
        }
        if bypasses_proxy(&url) {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| Failure::Setup(format!("cannot set up the HTTP client: {e}")))?;
        let mut token = HeaderValue::from_str(&format!("Bearer {}", opts.token)).map_err(|_| {
            Failure::Setup("the token contains characters that cannot go in a header".into())
        })?;
        token.set_sensitive(true);
        Ok(Sender {
            client,
            token,
            retries: opts.retries,
            timeout: opts.timeout,
        })
    }

    /// One GET of `url`, without the token and without retries (`check`: does the server
    /// answer there?). Any HTTP answer is `Ok`: its status and, for a redirect, where to.
    pub fn probe(&self, url: &str, timeout: Duration) -> Result<(u16, Option<String>), Failure> {
        match self.client.get(url).timeout(timeout).send() {
            Ok(resp) => {
                let to = resp.headers().get(reqwest::header::LOCATION);
                let to = to.and_then(|v| v.to_str().ok()).map(redact_userinfo);
                Ok((resp.status().as_u16(), to))
            }
            Err(e) => match transport_failure(&e, error_chain(&e)) {
                Attempt::Final(_, Err(f)) => Err(f),
                Attempt::Transient { why, .. } => Err(Failure::GaveUp(why)),
                Attempt::Final(_, Ok(_)) => Err(Failure::GaveUp("no answer".into())),
            },
        }
    }

    /// The deadline `--timeout` gives a delivery that starts now.
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.timeout
    }

    /// Posts `body` (JSON) to `url`, retrying transient failures until `1 + retries` attempts or
    /// `deadline` ([`Sender::deadline`], or a shared one so that a report and the flush of the
    /// outbox before it stay inside one `--timeout`). `max_attempts` can lower the attempts.
    pub fn send(
        &self,
        url: &str,
        body: &[u8],
        ui: &Ui,
        max_attempts: Option<u32>,
        deadline: Instant,
    ) -> Sent {
        let allowed = max_attempts
            .unwrap_or(self.retries.saturating_add(1))
            .max(1);
        let mut sent = Sent {
            attempts: 0,
            http_status: None,
            result: Err(Failure::GaveUp(String::new())),
            unreachable: false,
            retry_after: None,
        };
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                sent.result = Err(Failure::GaveUp(format!(
                    "gave up after {} attempt(s): the {}s deadline (--timeout) passed",
                    sent.attempts,
                    self.timeout.as_secs_f64()
                )));
                return sent;
            }
            sent.attempts += 1;
            let n = sent.attempts;
            let (why, retry_after) = match self.attempt(url, body, ui, (n, allowed), remaining) {
                Attempt::Final(status, result) => {
                    sent.http_status = status.or(sent.http_status);
                    sent.unreachable = matches!(result, Err(Failure::Tls(_)));
                    sent.result = result;
                    return sent;
                }
                Attempt::Transient {
                    status,
                    why,
                    retry_after,
                    unreachable,
                } => {
                    sent.http_status = status.or(sent.http_status);
                    sent.unreachable = unreachable;
                    sent.retry_after = retry_after;
                    (why, retry_after)
                }
            };
            if n >= allowed {
                sent.result = Err(Failure::GaveUp(format!(
                    "gave up after {n} attempt(s); last: {why}"
                )));
                return sent;
            }
            // A Retry-After of 0 or a past date does not mean "hammer me": never wait less
            // than the normal backoff.
            let normal = backoff(n);
            let wait = retry_after.map_or(normal, |r| r.max(normal));
            if wait >= deadline.saturating_duration_since(Instant::now()) {
                sent.result = Err(Failure::GaveUp(format!(
                    "gave up after {n} attempt(s); last: {why}; the next try ({:.1}s away) \
                     would pass the {}s deadline (--timeout)",
                    wait.as_secs_f64(),
                    self.timeout.as_secs_f64()
                )));
                return sent;
            }
            ui.verbose(&format!(
                "attempt {n} failed ({why}); retrying in {:.1}s",
                wait.as_secs_f64()
            ));
            std::thread::sleep(wait);
        }
    }

    /// One POST, classified: a final answer (2xx, or a status retrying cannot change, or a TLS
    /// failure), or a transient failure worth another attempt.
    fn attempt(
        &self,
        url: &str,
        body: &[u8],
        ui: &Ui,
        (n, allowed): (u32, u32),
        remaining: Duration,
    ) -> Attempt {
        let started = Instant::now();
        let sent = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(AUTHORIZATION, self.token.clone())
            .timeout(remaining)
            .body(body.to_vec())
            .send();
        let ms = started.elapsed().as_millis();
        let resp = match sent {
            Ok(resp) => resp,
            Err(e) => {
                let chain = error_chain(&e);
                ui.debug(&format!(
                    "attempt {n}/{allowed}: POST {url} failed after {ms} ms: {chain}"
                ));
                return transport_failure(&e, chain);
            }
        };
        let status = resp.status().as_u16();
        let retry_after = retry_after(&resp);
        let text = read_capped(resp);
        ui.debug(&format!(
            "attempt {n}/{allowed}: POST {url} → HTTP {status} in {ms} ms"
        ));
        if (200..300).contains(&status) {
            if !text.trim().is_empty() {
                ui.verbose(&format!("server answered: {}", text.trim()));
            }
            return Attempt::Final(Some(status), Ok(text));
        }
        if !matches!(status, 408 | 429 | 500 | 502 | 503 | 504) {
            let message = explain(status, &text, url);
            return Attempt::Final(Some(status), Err(Failure::Rejected { status, message }));
        }
        Attempt::Transient {
            status: Some(status),
            why: format!("HTTP {status}{}", short(&text)),
            retry_after,
            unreachable: false,
        }
    }
}

/// How one attempt ended.
enum Attempt {
    Final(Option<u16>, Result<String, Failure>),
    Transient {
        status: Option<u16>,
        why: String,
        retry_after: Option<Duration>,
        /// No connection was made.
        unreachable: bool,
    },
}

/// A request that got no answer: TLS failures are final (the next attempt would meet the same
/// certificate); not connecting or timing out is transient.
fn transport_failure(e: &reqwest::Error, chain: String) -> Attempt {
    if let Some(advice) = tls_advice(&chain) {
        return Attempt::Final(
            None,
            Err(Failure::Tls(format!("TLS failed: {chain}. {advice}"))),
        );
    }
    // What was tried: the host and port, never the path (it holds the company id) or
    // credentials.
    let to = e
        .url()
        .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
        .unwrap_or_else(|| "the server".into());
    let why = if e.is_timeout() {
        format!("timed out waiting for {to}")
    } else if e.is_connect() {
        format!("could not connect to {to} ({chain})")
    } else {
        format!("request to {to} failed ({chain})")
    };
    Attempt::Transient {
        status: None,
        why,
        retry_after: None,
        unreachable: e.is_connect(),
    }
}

/// Exponential backoff (0.5s, 1s, 2s, ... capped at 8s) with jitter in [50%, 100%].
fn backoff(attempt: u32) -> Duration {
    let base = 500u64.saturating_mul(1 << attempt.saturating_sub(1).min(4));
    let jitter = random_fraction();
    Duration::from_millis(base / 2 + (base as f64 / 2.0 * jitter) as u64)
}

/// A fraction in [0, 1) from the operating system's randomness (the same source as outbox
/// names); jitter keeps many clients from retrying in step.
fn random_fraction() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

/// `Retry-After` as seconds or an HTTP date, capped at 10 minutes.
fn retry_after(resp: &Response) -> Option<Duration> {
    let value = resp.headers().get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs = match value.parse::<u64>() {
        Ok(s) => s,
        Err(_) => {
            let at = crate::timefmt::parse_http_date(value)?;
            let now = crate::timefmt::now_epoch();
            (at - now).max(0) as u64
        }
    };
    Some(Duration::from_secs(secs.min(600)))
}

fn read_capped(resp: Response) -> String {
    let mut buf = Vec::new();
    let _ = resp.take(MAX_RESPONSE).read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

fn short(text: &str) -> String {
    let t = text.trim();
    if t.is_empty() {
        String::new()
    } else {
        format!(": {}", cut(t, 200))
    }
}

fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// What a final status means for the user.
fn explain(status: u16, body: &str, url: &str) -> String {
    let body = body.trim();
    let server = if body.is_empty() {
        String::new()
    } else {
        format!("; the server said: {}", cut(body, MAX_MESSAGE))
    };
    match status {
        400 | 422 => format!("the server rejected the job (HTTP {status}){server}"),
        401 | 403 => format!(
            "the server refused the token (HTTP {status}): check ALLSTACKS_TOKEN is a valid \
             Personal Access Token of this company{server}"
        ),
        404 => format!(
            "the webhook was not found (HTTP 404) at {url}: check ALLSTACKS_URL and \
             ALLSTACKS_COMPANY_ID, and that a Custom CD service exists{server}"
        ),
        300..=399 => format!(
            "the server redirected (HTTP {status}): set ALLSTACKS_URL to the final address{server}"
        ),
        _ => format!("the server answered HTTP {status}{server}"),
    }
}

/// The error and its causes, joined with `: ` (repeats dropped). reqwest names the URL, which may
/// hold credentials: it is replaced by `…`, callers show the URL their own way.
fn error_chain(e: &reqwest::Error) -> String {
    let url = e.url().map(|u| u.as_str().to_string());
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = source {
        let mut text = err.to_string();
        if let Some(url) = &url {
            text = text.replace(url.as_str(), "…");
        }
        if !parts.iter().any(|p: &String| p.contains(&text)) {
            parts.push(text);
        }
        source = err.source();
    }
    parts.join(": ")
}

/// What to do about a TLS failure; `None` when `chain` is not one. TLS failures are not
/// retried: the next attempt would meet the same certificate.
fn tls_advice(chain: &str) -> Option<&'static str> {
    let c = chain.to_ascii_lowercase();
    if c.contains("certificate") || c.contains("invalid peer") {
        return Some(
            "If the server uses a private CA, pass its PEM with --ca-cert (ALLSTACKS_CA_CERT) \
             or SSL_CERT_FILE",
        );
    }
    // rustls reading a plain-HTTP answer to its hello, or a server hanging up on it.
    if c.contains("corrupt message")
        || c.contains("invalidcontenttype")
        || c.contains("handshake eof")
    {
        return Some(
            "The server does not seem to speak TLS on this port: check the https:// URL and \
             its port",
        );
    }
    if c.contains("tls handshake") {
        return Some(
            "Check the https:// URL and its port; if the server uses a private CA, pass its \
             PEM with --ca-cert (ALLSTACKS_CA_CERT) or SSL_CERT_FILE",
        );
    }
    None
}

/// `text` percent-encoded for one URL path segment or query value: everything but the
/// unreserved characters (a GitLab project path `group/name` → `group%2Fname`, Azure project
/// names with spaces, Bitbucket step UUIDs with braces).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// API answers (GitHub's job lists, event-sized documents) are read up to this many bytes, the
/// cap GitHub itself puts on webhook payloads; a larger answer is refused, not truncated.
pub const MAX_JSON: u64 = 25 * 1024 * 1024;

fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

/// Reads `reader` to its end, failing past `max` bytes or `deadline` (checked between reads,
/// which the request timeout bounds).
fn read_until(mut reader: impl Read, max: u64, deadline: Instant) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        if Instant::now() >= deadline {
            return Err("the server did not finish its answer in time".into());
        }
        let n = reader.read(&mut chunk).map_err(|e| {
            if e.kind() == std::io::ErrorKind::TimedOut {
                "the server did not finish its answer in time".to_string()
            } else {
                e.to_string()
            }
        })?;
        if n == 0 {
            return Ok(body);
        }
        if body.len() as u64 + n as u64 > max {
            return Err(format!(
                "the answer is larger than {} MiB; skipped",
                max / (1024 * 1024)
            ));
        }
        body.extend_from_slice(&chunk[..n]);
    }
}

fn describe(e: &reqwest::Error, shown: &str, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!(
            "the server did not answer within {:.1}s ({shown})",
            timeout.as_secs_f64()
        );
    }
    format!("could not reach {shown}: {}", error_chain(e))
}

/// The URL without user name or password, for messages.
fn redact(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

/// A read-only client for one REST API (GitHub's, GitLab's), made once and reused for every
/// page so connections are kept alive. The guards of SPEC.md's Security rules hold for every
/// call: no credentials in the URL, the token only over https (or plain http to this machine),
/// never through a proxy to loopback, only to the API's own origin (a `Link` to another host is
/// refused, so a page cannot send the token elsewhere), answers read up to [`MAX_JSON`], and
/// every call over by its deadline even when the server drips.
pub struct Api {
    client: Client,
    origin: reqwest::Url,
    headers: reqwest::header::HeaderMap,
}

/// One answer of an [`Api`]: its status, the headers pagination and rate limits need, and the
/// body (up to [`MAX_JSON`] for a 2xx, [`MAX_RESPONSE`] otherwise).
#[derive(Debug, Clone)]
pub struct ApiAnswer {
    pub status: u16,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ApiAnswer {
    /// The value of header `name` (any case), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    /// The body parsed as JSON into `T` (only the fields `T` names are kept, so a huge answer
    /// costs its bytes, not a tree of values); `Err` names `url`, the answer's address.
    pub fn json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        serde_json::from_slice(&self.body).map_err(|e| {
            format!(
                "the answer from {} is not JSON of the expected shape: {e}",
                redact_userinfo(url)
            )
        })
    }

    /// The body as text for a message, cut to 2 KiB.
    pub fn message(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        cut(text.trim(), MAX_MESSAGE).to_string()
    }
}

impl Api {
    /// A client for the API at `base` (named `what` in messages, e.g. `GITHUB_API_URL`), sending
    /// `headers` with every request (`sensitive` ones are never logged). `Err` says which guard
    /// refused the URL, without repeating any credentials.
    pub fn new(base: &str, what: &str, headers: &[(&str, &str, bool)]) -> Result<Api, String> {
        let shown = redact_userinfo(base.trim());
        let origin = reqwest::Url::parse(base.trim())
            .map_err(|e| format!("{what} {shown:?} is not a valid URL: {e}"))?;
        refuse_credentials(&origin, what, what)?;
        let loopback = is_loopback(&origin);
        match origin.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(format!(
                    "{what} {shown:?} must be https:// (plain http:// only to this machine): the \
                     token would travel in clear"
                ));
            }
        }
        let mut builder = Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(2);
        if origin.scheme() == "http" {
            builder = builder.tls_built_in_root_certs(false);
        }
        if bypasses_proxy(&origin) {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot set up the HTTP client for {what}: {e}"))?;
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value, sensitive) in headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| format!("bad header name {name:?}: {e}"))?;
            let mut value = HeaderValue::from_str(value).map_err(|_| {
                format!("the value of {name} contains characters that cannot go in a header")
            })?;
            value.set_sensitive(*sensitive);
            map.insert(name, value);
        }
        Ok(Api {
            client,
            origin,
            headers: map,
        })
    }

    /// Whether `url` is on the API's own origin (scheme, host, port), where the token may go.
    fn same_origin(&self, url: &str) -> bool {
        reqwest::Url::parse(url)
            .is_ok_and(|u| u.origin() == self.origin.origin() && u.username().is_empty())
    }

    /// `Err` unless `url` is on the API's own origin: a `next` link to another host is refused,
    /// so that a page cannot send the token elsewhere.
    pub fn refuse_elsewhere(&self, url: &str) -> Result<(), String> {
        if self.same_origin(url) {
            return Ok(());
        }
        Err(format!(
            "refusing to follow {}: it is not on the API's own host {}, and the token must not \
             go elsewhere",
            redact_userinfo(url),
            self.base()
        ))
    }

    /// The base URL, without a trailing `/`.
    pub fn base(&self) -> String {
        self.origin.as_str().trim_end_matches('/').to_string()
    }

    /// One GET of `url` (the base plus a path, or a `next` link of an earlier answer), over by
    /// `deadline`. Any HTTP status is an answer; `Err` is a URL refused by the guards, no
    /// answer in time, or a transport failure, as a message that names the URL.
    pub fn get(&self, url: &str, deadline: Instant) -> Result<ApiAnswer, String> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| format!("{:?} is not a valid URL: {e}", redact_userinfo(url)))?;
        let shown = redact(&parsed);
        self.refuse_elsewhere(url)?;
        let timeout = remaining(deadline).ok_or_else(|| format!("no time left to ask {shown}"))?;
        let response = self
            .client
            .get(parsed)
            .headers(self.headers.clone())
            .timeout(timeout)
            .send()
            .map_err(|e| describe(&e, &shown, timeout))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        // An error page is only read for its message: its start is enough.
        let body = if (200..300).contains(&status) {
            read_until(response, MAX_JSON, deadline)
        } else {
            read_until(response.take(MAX_RESPONSE), MAX_RESPONSE, deadline)
        }
        .map_err(|e| {
            // A body cut off by the request's timeout reads as a generic body error.
            if Instant::now() + Duration::from_millis(100) >= deadline {
                format!("the server did not finish its answer from {shown} in time")
            } else {
                format!("reading the answer from {shown}: {e}")
            }
        })?;
        Ok(ApiAnswer {
            status,
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_percent_encoded() {
        assert_eq!(encode_component("group/sub name"), "group%2Fsub%20name");
        assert_eq!(encode_component("deploy.yml"), "deploy.yml");
        assert_eq!(encode_component("Web Platform"), "Web%20Platform");
        assert_eq!(encode_component("{ab-12}"), "%7Bab-12%7D");
        assert_eq!(encode_component("a.b_c~d"), "a.b_c~d");
    }

    fn s(v: &str) -> Sourced<String> {
        Sourced::new(v.to_string(), "test")
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            endpoint(
                Some(&s("https://a.example.com:8443/")),
                Some(&s("42")),
                false
            ),
            Ok("https://a.example.com:8443/webhook/company/42/cicd_job".into())
        );
        assert_eq!(
            endpoint(
                Some(&s("https://a.example.com/webhook/company/7/cicd_job")),
                None,
                false
            ),
            Ok("https://a.example.com/webhook/company/7/cicd_job".into())
        );
        assert_eq!(
            endpoint(Some(&s("http://127.0.0.1:9/")), Some(&s("1")), false),
            Ok("http://127.0.0.1:9/webhook/company/1/cicd_job".into())
        );
        assert!(endpoint(Some(&s("http://localhost:9")), Some(&s("1")), false).is_ok());
        assert!(endpoint(Some(&s("http://[::1]:9")), Some(&s("1")), false).is_ok());
        let e = endpoint(Some(&s("http://a.example.com")), Some(&s("1")), false).unwrap_err();
        assert!(e.contains("--allow-http"), "{e}");
        assert!(endpoint(Some(&s("http://a.example.com")), Some(&s("1")), true).is_ok());
        assert!(endpoint(Some(&s("ftp://a")), Some(&s("1")), false).is_err());
        assert!(endpoint(Some(&s("https://a")), None, false).is_err());
        assert!(endpoint(Some(&s("https://a")), Some(&s("1/../2")), false).is_err());
        assert!(endpoint(None, Some(&s("1")), false).is_err());
    }

    #[test]
    fn backoff_grows_with_jitter() {
        for attempt in 1..8 {
            let d = backoff(attempt).as_millis() as u64;
            let base = 500u64 << (attempt - 1).min(4);
            assert!(d >= base / 2 && d <= base, "attempt {attempt}: {d}");
        }
    }
}
