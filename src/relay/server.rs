//! The HTTP edge, and the only async code of the tool: hyper's HTTP/1 server on a
//! single-threaded tokio runtime (the one reqwest brings). It enforces the limits (25 MiB
//! bodies, one budget for the bodies of all connections together, headers within 5 s, bodies
//! within 30 s, a cap on open connections and on those of one peer), answers the deliveries of
//! events that are not reported from their headers alone, answers the probes and `/metrics`,
//! hands each webhook to `intake` on the blocking pool and its jobs to the queue, logs one line
//! per request, and on SIGTERM or SIGINT stops accepting and lets the requests in flight finish
//! (10 s at most).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ALLOW, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Method, Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{Semaphore, watch};

use super::Source;
use super::body::{self, Budget, Refused};
use super::config::{Limits, MAX_BODY};
use super::handoff::Health;
use super::intake::{self, Answer, Intake, Reply, Verdict};
use super::metrics::{Metrics, Shed};
use super::queue::Queue;
use crate::ui::Ui;

/// What every request handler shares.
pub struct Shared {
    pub intake: Arc<Intake>,
    pub queue: Arc<Queue>,
    pub metrics: Arc<Metrics>,
    pub ui: Ui,
    pub dir: PathBuf,
    pub limits: Limits,
    /// The bytes of request bodies all connections may hold together.
    pub budget: Budget,
    pub peers: Peers,
    /// Why the relay was last not ready, to log the path once when it changes.
    pub unready: Mutex<Option<String>>,
    /// Why the worker has paused delivery, if it has.
    pub health: Arc<Health>,
}

/// Open connections per peer address, for `ALLSTACKS_RELAY_PER_IP`.
#[derive(Debug, Default)]
pub struct Peers(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One connection's place among its peer's; given back when dropped.
struct PeerSlot {
    peers: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl Peers {
    /// A place for one more connection from `ip`, `None` when it has `cap` open already. A cap
    /// of 0 counts nothing.
    fn enter(&self, ip: IpAddr, cap: usize) -> Option<Option<PeerSlot>> {
        if cap == 0 {
            return Some(None);
        }
        let ip = ip.to_canonical();
        let mut open = self.0.lock().ok()?;
        let n = open.entry(ip).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(Some(PeerSlot {
            peers: self.0.clone(),
            ip,
        }))
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.peers.lock() {
            if let Some(n) = open.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    open.remove(&self.ip);
                }
            }
        }
    }
}

/// Serves `listener` until SIGTERM or SIGINT; the exit code.
pub fn run(listener: std::net::TcpListener, shared: Arc<Shared>) -> i32 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(8)
        .build();
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            shared.ui.error(&format!("cannot start the server: {e}"));
            return 1;
        }
    };
    let code = rt.block_on(serve(listener, shared));
    // A GitLab lookup still running on the blocking pool ends on its own deadline; nobody
    // waits for its answer any more.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    code
}

async fn serve(listener: std::net::TcpListener, shared: Arc<Shared>) -> i32 {
    let listener = match listener
        .set_nonblocking(true)
        .and_then(|()| tokio::net::TcpListener::from_std(listener))
    {
        Ok(l) => l,
        Err(e) => {
            shared.ui.error(&format!("cannot listen: {e}"));
            return 1;
        }
    };
    // The handlers are installed before anyone can know the address: a SIGTERM from then on
    // is a clean shutdown, never the default action.
    let signals = Signals::install();
    if let Ok(addr) = listener.local_addr() {
        shared.ui.info(&format!("serve: listening on {addr}"));
    }
    let max = shared.limits.max_connections;
    let slots = Arc::new(Semaphore::new(max));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(signals.first());
    loop {
        let slot = tokio::select! {
            signal = &mut shutdown => {
                shared.ui.info(&format!("serve: {signal}: no new connections; finishing the requests in flight"));
                break;
            }
            slot = slots.clone().acquire_owned() => slot,
        };
        let Ok(slot) = slot else { break };
        let stream = tokio::select! {
            signal = &mut shutdown => {
                shared.ui.info(&format!("serve: {signal}: no new connections; finishing the requests in flight"));
                break;
            }
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, a connection reset before accept: wait a moment.
                    shared.ui.warn(&format!("accept failed: {e}"));
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (stream, peer) = stream;
        let Some(peer_slot) = shared.peers.enter(peer.ip(), shared.limits.per_peer) else {
            // One address holds its share of the places already: closed at once, so that it
            // cannot keep the others waiting.
            shared.metrics.shed(Shed::PerPeer);
            drop(stream);
            continue;
        };
        let (shared, stop) = (shared.clone(), stop_rx.clone());
        tokio::spawn(async move {
            connection(stream, shared, stop).await;
            drop(peer_slot);
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let grace = shared.limits.shutdown_grace;
    if tokio::time::timeout(grace, slots.acquire_many(all))
        .await
        .is_err()
    {
        shared
            .ui
            .warn("requests still in flight after the grace period were cut off");
    }
    0
}

/// SIGTERM and SIGINT, caught from the moment they are installed.
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                term: signal(SignalKind::terminate()).ok(),
                int: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The first of them to arrive, by name.
    async fn first(self) -> &'static str {
        #[cfg(unix)]
        if let (Some(mut term), Some(mut int)) = (self.term, self.int) {
            return tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
        }
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

/// One connection: HTTP/1.1 with keep-alive; headers (of every request on it) must arrive
/// within the header timeout, which also ends idle connections.
async fn connection(
    stream: tokio::net::TcpStream,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let header_timeout = shared.limits.header_timeout;
    let service = service_fn(move |req| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(route(req, shared).await) }
    });
    let mut builder = http1::Builder::new();
    // The read buffer holds a request's headers and each piece of its body: 16 KiB is ample
    // for webhook headers, and keeps what 1,024 connections hold in hyper's buffers to 16 MiB.
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(16 * 1024)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stop.changed() => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

type Answered = Response<Full<Bytes>>;

async fn route(req: Request<Incoming>, shared: Arc<Shared>) -> Answered {
    let started = Instant::now();
    let path = req.uri().path().to_string();
    match (req.method(), path.as_str()) {
        (&Method::GET, "/healthz") => return text(200, "ok\n"),
        (&Method::GET, "/readyz") => return ready(&shared).await,
        (&Method::GET, "/metrics") => return metrics(&shared).await,
        _ => {}
    }
    let source = path
        .strip_prefix('/')
        .and_then(Source::from_name)
        .filter(|s| shared.intake.serves(*s));
    let Some(source) = source else {
        shared
            .ui
            .verbose(&format!("{} {} → 404", req.method(), intake::cut(&path)));
        return respond(
            &Reply::error(404, Verdict::Invalid, "not found".into()),
            false,
        );
    };
    if req.method() != Method::POST {
        let mut r = respond(
            &Reply::error(405, Verdict::Invalid, "use POST".into()),
            false,
        );
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let id = logged_id(source, req.headers());
    let (reply, delivery, jobs, close) = webhook(req, source, &shared).await;
    shared.metrics.event(source, reply.verdict);
    intake::log(
        &shared.ui,
        "",
        source,
        delivery.or(id).as_deref(),
        &reply,
        &jobs,
        started,
    );
    respond(&reply, close)
}

/// The answer to a webhook, with the delivery id and job ids for the log, and whether the
/// connection must close (a body left unread).
async fn webhook(
    req: Request<Incoming>,
    source: Source,
    shared: &Arc<Shared>,
) -> (Reply, Option<String>, Vec<String>, bool) {
    let (parts, body) = req.into_parts();
    if let Some(refused) = shared.intake.token_refused(source, &parts.headers) {
        return (refused, None, Vec::new(), true);
    }
    if let Some(answer) = shared.intake.answered_by_headers(source, &parts.headers) {
        return (answer, None, Vec::new(), true);
    }
    let body = match read_body(body, &parts.headers, shared).await {
        Ok(body) => body,
        Err(reply) => return (reply, None, Vec::new(), true),
    };
    let handler = shared.clone();
    let headers = parts.headers;
    let answered = tokio::task::spawn_blocking(move || {
        let mut warnings = Vec::new();
        let accepted = |d: &intake::Delivery| handler.queue.accepted(d.key);
        let now = crate::timefmt::now_epoch();
        let answer =
            handler
                .intake
                .handle(source, &headers, &body.bytes, &accepted, now, &mut warnings);
        drop(body);
        for w in &warnings {
            handler.ui.warn(&format!("{}: {w}", source.name()));
        }
        answer
    })
    .await;
    let answer = match answered {
        Ok(a) => a,
        Err(e) => {
            let why = format!("the request could not be handled: {e}");
            return (
                Reply::error(500, Verdict::Invalid, why),
                None,
                Vec::new(),
                true,
            );
        }
    };
    match answer {
        Answer::Reply(reply) => (reply, None, Vec::new(), false),
        Answer::Queue {
            delivery,
            record,
            jobs,
        } => {
            let ids: Vec<String> = jobs.iter().map(|j| j.job_id().to_string()).collect();
            let keys = [delivery.key, record.key];
            let submitted = shared.queue.submit(&keys, &jobs).await;
            let reply = Reply::queued(submitted, &delivery, &record, ids.clone());
            (reply, Some(delivery.id), ids, false)
        }
    }
}

/// The body, read up to 25 MiB within the body timeout and the budget of all bodies.
async fn read_body(
    body: Incoming,
    headers: &HeaderMap,
    shared: &Shared,
) -> Result<body::Body, Reply> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let timeout = shared.limits.body_timeout;
    let refused = match body::read(body, declared, &shared.budget, timeout).await {
        Ok(body) => return Ok(body),
        Err(refused) => refused,
    };
    Err(match refused {
        Refused::TooLarge => Reply::error(
            413,
            Verdict::Invalid,
            format!("the body is larger than {} MiB", MAX_BODY / (1024 * 1024)),
        ),
        Refused::Busy => {
            shared.metrics.shed(Shed::BodyBudget);
            Reply::error(
                503,
                Verdict::Invalid,
                "the relay holds as many request bodies as it may \
                 (ALLSTACKS_RELAY_BODY_BUDGET); try again shortly"
                    .into(),
            )
        }
        Refused::Unreadable => {
            Reply::error(400, Verdict::Invalid, "the body could not be read".into())
        }
        Refused::TooSlow => Reply::error(
            408,
            Verdict::Invalid,
            format!(
                "the body did not arrive within {:.0}s",
                timeout.as_secs_f64()
            ),
        ),
    })
}

/// The sender's delivery id for the log, when it gives a plausible one.
fn logged_id(source: Source, headers: &HeaderMap) -> Option<String> {
    let d = intake::delivery(source, headers, b"");
    (!d.id.starts_with("sha256:")).then_some(d.id)
}

fn respond(reply: &Reply, close: bool) -> Answered {
    let body = serde_json::to_vec(&reply.body).unwrap_or_default();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = hyper::StatusCode::from_u16(reply.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if close {
        r.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    if reply.status == 503 {
        // Nothing was promised: a sender that retries may come back soon.
        r.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("5"));
    }
    r
}

fn text(status: u16, body: impl Into<Bytes>) -> Answered {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// 200 while the queue directory can take a new job and delivery is not paused (the server
/// refusing the token), else 503 with why. The answer names no path (it is for anyone who can reach the port); the log says which directory, once each time
/// the reason changes.
async fn ready(shared: &Arc<Shared>) -> Answered {
    let dir = shared.dir.clone();
    let checked = tokio::task::spawn_blocking(move || probe(&dir))
        .await
        .unwrap_or_else(|e| Err(format!("the check failed: {e}")));
    let queue = checked
        .err()
        .map(|e| format!("the queue directory cannot take a new job: {e}"));
    if let Ok(mut last) = shared.unready.lock() {
        if *last != queue {
            match &queue {
                Some(why) => shared
                    .ui
                    .warn(&format!("not ready: {why} ({})", shared.dir.display())),
                None => shared.ui.info("the queue directory takes new jobs again"),
            }
            last.clone_from(&queue);
        }
    }
    // The worker logs its own pauses.
    let why = queue.or_else(|| shared.health.paused());
    match why {
        None => text(200, "ready\n"),
        Some(why) => text(503, format!("{why}\n")),
    }
}

/// Writes a job-sized probe file into `dir` and removes it: a full disk fails the write, not
/// only the creation. The error names no path.
fn probe(dir: &std::path::Path) -> Result<(), String> {
    use std::io::Write;
    let probe = dir.join(format!(".tmp-ready-{}", crate::outbox::random_hex()));
    let written = std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|mut f| f.write_all(&[b' '; 4096]));
    let _ = std::fs::remove_file(&probe);
    written.map_err(|e| e.to_string())
}

async fn metrics(shared: &Arc<Shared>) -> Answered {
    let handler = shared.clone();
    let rendered = tokio::task::spawn_blocking(move || {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        handler.metrics.render(&handler.dir, now)
    })
    .await
    .unwrap_or_default();
    let mut r = text(200, rendered);
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}
