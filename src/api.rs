//! Reading GitHub's and GitLab's REST APIs page by page, for `backfill` and the relay alike:
//! pages (`Link: rel="next"`, GitLab's `X-Next-Page`), rate limits (waited for, said to the
//! caller, interruptible), retries of transient failures, and refusals told apart (a token
//! refused is a setting to fix). The HTTP itself, with its guards, is [`crate::client::Api`];
//! what a caller is told and how it stops a read is its [`Watch`].

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use crate::client::{Api, ApiAnswer};

/// Whoever waits on a read: told what happens, and able to stop it (a backfill's progress line
/// and Ctrl-C; a service's log and shutdown).
pub trait Watch {
    /// Whether the read must stop now.
    fn stopping(&self) -> bool;

    /// A line for `--verbose` (each request, each retry).
    fn verbose(&self, message: &str);

    /// A line said at the default verbosity (a rate-limit wait and when it ends).
    fn info(&self, message: &str);

    /// Sleeps `d`, waking early to stop; `false` when stopping.
    fn pause(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        while Instant::now() < until {
            if self.stopping() {
                return false;
            }
            let left = until.saturating_duration_since(Instant::now());
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
        !self.stopping()
    }
}

/// Whose API: they signal rate limits differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    GitHub,
    GitLab,
}

impl Flavor {
    pub fn name(self) -> &'static str {
        match self {
            Flavor::GitHub => "GitHub API",
            Flavor::GitLab => "GitLab API",
        }
    }

    /// The headers every request to this API carries besides the token: GitHub's media type
    /// and the API version its answers are read as.
    pub fn headers(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Flavor::GitHub => &[
                ("accept", "application/vnd.github+json"),
                ("x-github-api-version", "2022-11-28"),
            ],
            Flavor::GitLab => &[],
        }
    }
}

/// Why reading the API stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 401, or a 403 that is not a rate limit: the token is refused or lacks a permission.
    Refused(String),
    /// 404: a repository, project or workflow that does not exist or is not visible.
    NotFound(String),
    /// The [`Watch`] said stop (a backfill: Ctrl-C, SIGTERM, or halted).
    Stopped,
    /// Anything else (server errors after retries, no answer in time, unexpected JSON).
    Other(String),
}

impl ApiError {
    pub fn message(&self) -> &str {
        match self {
            ApiError::Refused(m) | ApiError::NotFound(m) | ApiError::Other(m) => m,
            ApiError::Stopped => "stopped",
        }
    }
}

/// Transient failures (no answer, 5xx, 408) are tried this many times in all.
const ATTEMPTS: u32 = 4;
/// Rate-limit waits in a row for one request before giving up.
const MAX_WAITS: u32 = 10;
/// The longest single wait (GitHub's limits reset every hour).
const MAX_WAIT: Duration = Duration::from_secs(3600);
/// A 429 that says nothing about when to come back: GitHub asks for at least a minute.
const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// An [`Api`] with the policy of one provider.
pub struct Client {
    api: Api,
    flavor: Flavor,
    /// Each call's deadline (`--timeout`).
    timeout: Duration,
    /// GitHub said no requests are left until then (epoch seconds).
    paused_until: Option<i64>,
}

impl Client {
    /// A client for `flavor`'s API at `base` (named `what` in messages), sending its
    /// [`Flavor::headers`] and, when given, `auth`: the token's header and value, never logged.
    /// Each call is over by `timeout`. `Err` says which guard of [`Api::new`] refused the URL.
    pub fn new(
        base: &str,
        what: &str,
        flavor: Flavor,
        auth: Option<(&str, &str)>,
        timeout: Duration,
    ) -> Result<Client, String> {
        let mut headers: Vec<(&str, &str, bool)> = flavor
            .headers()
            .iter()
            .map(|(name, value)| (*name, *value, false))
            .collect();
        headers.extend(auth.map(|(name, value)| (name, value, true)));
        Ok(Client {
            api: Api::new(base, what, &headers)?,
            flavor,
            timeout,
            paused_until: None,
        })
    }

    /// The API's base URL (no trailing `/`).
    pub fn base(&self) -> String {
        self.api.base()
    }

    /// GETs `url` and parses the JSON into `T`; the answer comes back too, for its headers
    /// (the body is emptied once parsed).
    pub fn get_json<T: DeserializeOwned>(
        &mut self,
        url: &str,
        ctl: &dyn Watch,
    ) -> Result<(T, ApiAnswer), ApiError> {
        let mut answer = self.get(url, ctl)?;
        let parsed = answer.json(url).map_err(ApiError::Other)?;
        answer.body = Vec::new();
        Ok((parsed, answer))
    }

    /// GETs `url`: waits out rate limits, retries transient failures, and returns a 2xx answer.
    pub fn get(&mut self, url: &str, ctl: &dyn Watch) -> Result<ApiAnswer, ApiError> {
        self.api.refuse_elsewhere(url).map_err(ApiError::Other)?;
        let (mut failures, mut waits) = (0u32, 0u32);
        loop {
            if let Some(until) = self.paused_until.take() {
                let wait = secs_until(until);
                self.wait(
                    wait,
                    "X-RateLimit-Remaining is 0 until X-RateLimit-Reset",
                    ctl,
                )?;
            }
            if ctl.stopping() {
                return Err(ApiError::Stopped);
            }
            let answer = match self.api.get(url, Instant::now() + self.timeout) {
                Ok(a) => a,
                Err(e) => {
                    failures += 1;
                    self.retry(failures, e, ctl)?;
                    continue;
                }
            };
            ctl.verbose(&format!("GET {url} → HTTP {}", answer.status));
            if (200..300).contains(&answer.status) {
                self.note_remaining(&answer);
                return Ok(answer);
            }
            if let Some((wait, why)) = self.rate_limited(&answer) {
                waits += 1;
                if waits > MAX_WAITS {
                    return Err(ApiError::Other(format!(
                        "the {} kept answering HTTP {} (rate limited) for {url}",
                        self.flavor.name(),
                        answer.status
                    )));
                }
                self.wait(wait, &why, ctl)?;
                continue;
            }
            match answer.status {
                408 | 500 | 502 | 503 | 504 => {
                    failures += 1;
                    let why = format!("HTTP {} from {url}", answer.status);
                    self.retry(failures, why, ctl)?;
                }
                status => return Err(self.final_error(status, url, &answer)),
            }
        }
    }

    /// After a failed attempt: wait and go on, or give up with the last reason.
    fn retry(&self, failures: u32, why: String, ctl: &dyn Watch) -> Result<(), ApiError> {
        if failures >= ATTEMPTS {
            return Err(ApiError::Other(format!(
                "the {} failed {failures} times; last: {why}",
                self.flavor.name()
            )));
        }
        let backoff = Duration::from_secs(1 << (failures - 1));
        ctl.verbose(&format!("{why}; trying again in {}s", backoff.as_secs()));
        if !ctl.pause(backoff) {
            return Err(ApiError::Stopped);
        }
        Ok(())
    }

    /// GitHub: a 2xx with `X-RateLimit-Remaining: 0` means the next request must wait for
    /// `X-RateLimit-Reset`.
    fn note_remaining(&mut self, a: &ApiAnswer) {
        if self.flavor == Flavor::GitHub && a.header("x-ratelimit-remaining") == Some("0") {
            self.paused_until = a
                .header("x-ratelimit-reset")
                .and_then(|r| r.parse().ok())
                .or(Some(
                    crate::timefmt::now_epoch() + DEFAULT_WAIT.as_secs() as i64,
                ));
        }
    }

    /// How long a refused request must wait, and which header said so; `None` when the answer
    /// is not about a rate limit.
    fn rate_limited(&self, a: &ApiAnswer) -> Option<(Duration, String)> {
        let retry_after = a.header("retry-after").and_then(parse_retry_after);
        match (self.flavor, a.status) {
            (_, 403 | 429) if retry_after.is_some() => {
                retry_after.map(|w| (w, format!("HTTP {} with Retry-After", a.status)))
            }
            (Flavor::GitHub, 403 | 429) if a.header("x-ratelimit-remaining") == Some("0") => {
                let reset = a.header("x-ratelimit-reset")?.parse::<i64>().ok()?;
                Some((
                    secs_until(reset),
                    format!(
                        "HTTP {}, X-RateLimit-Remaining 0 until X-RateLimit-Reset",
                        a.status
                    ),
                ))
            }
            (Flavor::GitLab, 429) => match a.header("ratelimit-reset").and_then(|r| r.parse().ok())
            {
                Some(reset) => Some((secs_until(reset), "HTTP 429 until RateLimit-Reset".into())),
                None => Some((DEFAULT_WAIT, "HTTP 429".into())),
            },
            (Flavor::GitHub, 429) => Some((DEFAULT_WAIT, "HTTP 429".into())),
            _ => None,
        }
    }

    /// Waits `wait` (at least a second: a reset in the past or `Retry-After: 0` does not mean
    /// "hammer me"), saying so with the time it ends; Ctrl-C ends the wait.
    fn wait(&self, wait: Duration, why: &str, ctl: &dyn Watch) -> Result<(), ApiError> {
        let wait = wait.clamp(Duration::from_secs(1), MAX_WAIT);
        let until = crate::timefmt::now_epoch() + wait.as_secs() as i64;
        ctl.info(&format!(
            "{} rate limit ({why}): waiting until {} ({}s)",
            self.flavor.name(),
            crate::timefmt::format_rfc3339(until),
            wait.as_secs()
        ));
        if ctl.pause(wait) {
            Ok(())
        } else {
            Err(ApiError::Stopped)
        }
    }

    fn final_error(&self, status: u16, url: &str, a: &ApiAnswer) -> ApiError {
        let said = a.message();
        let said = if said.is_empty() {
            String::new()
        } else {
            format!(": {said}")
        };
        let api = self.flavor.name();
        let token = match self.flavor {
            Flavor::GitHub => "GITHUB_TOKEN (it needs read access to Actions and Deployments)",
            Flavor::GitLab => "GITLAB_TOKEN (read_api scope) or CI_JOB_TOKEN",
        };
        match status {
            401 | 403 => ApiError::Refused(format!(
                "the {api} refused the token (HTTP {status}) for {url}{said}. Check {token}"
            )),
            404 => ApiError::NotFound(format!(
                "the {api} answered HTTP 404 for {url}{said}: check the repository, project or \
                 workflow, and that {token} can see it"
            )),
            _ => ApiError::Other(format!("the {api} answered HTTP {status} for {url}{said}")),
        }
    }
}

fn secs_until(epoch: i64) -> Duration {
    Duration::from_secs((epoch - crate::timefmt::now_epoch()).max(0) as u64)
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    crate::timefmt::parse_http_date(value).map(secs_until)
}

/// The most pages one listing may take, whatever it says of itself: 1,000,000 records at 100 a
/// page.
pub const MAX_PAGES: u64 = 10_000;

/// The pages of one listing read so far, so that paging ends (SPEC.md, Security rules): a
/// `next` link already visited (a page pointing at itself, two pointing at each other), or
/// more pages than the listing's own total allows (or [`MAX_PAGES`]), stops the listing with an
/// error naming the URL. What was read before is kept: its jobs are sent, and the ledger holds
/// them.
#[derive(Debug, Default)]
pub struct Paging {
    visited: HashSet<String>,
    /// Pages the listing's latest total allows (records added while it is read may add pages,
    /// so each answer's total counts).
    allowed: Option<u64>,
}

impl Paging {
    /// The listing says it holds `total` records and a page held `on_page` of them: at most
    /// `ceil(total / on_page)` pages, plus one for records added while it is read.
    pub fn total(&mut self, total: u64, on_page: usize) {
        if on_page > 0 {
            self.allowed = Some(total.div_ceil(on_page as u64) + 1);
        }
    }

    /// Called before reading the page at `url`: `Err` naming it when it was read already, or
    /// when as many pages as the listing allows were read.
    pub fn visit(&mut self, url: &str) -> Result<(), ApiError> {
        let read = self.visited.len() as u64;
        let limit = self.allowed.unwrap_or(MAX_PAGES).min(MAX_PAGES);
        let why = if self.visited.contains(url) {
            "it was read already (the listing's next links go round in a circle)".to_string()
        } else if read >= limit {
            format!("{read} pages were read, all that the listing's own total allows")
        } else {
            self.visited.insert(url.to_string());
            return Ok(());
        };
        Err(ApiError::Other(format!(
            "stopped paging at {}: {why}",
            crate::client::redact_userinfo(url)
        )))
    }
}

/// The next page after `answer` (an answer to `url`): the `Link` header's `rel="next"`, else
/// GitLab's `X-Next-Page` put into `url` as `page=`; `None` on the last page.
pub fn next_page(answer: &ApiAnswer, url: &str) -> Option<String> {
    if let Some(next) = answer.header("link").and_then(link_next) {
        return Some(next);
    }
    let page = answer.header("x-next-page").filter(|p| !p.is_empty())?;
    if !page.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(with_query(url, "page", page))
}

/// The `rel="next"` target of a `Link` header (RFC 8288).
pub fn link_next(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
        });
        is_next.then(|| target.to_string())
    })
}

/// `url` with `key=value` in its query, replacing an earlier `key`.
pub fn with_query(url: &str, key: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut parts: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && p.split('=').next() != Some(key))
        .map(str::to_string)
        .collect();
    parts.push(format!("{key}={value}"));
    format!("{base}?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(headers: &[(&str, &str)]) -> ApiAnswer {
        ApiAnswer {
            status: 200,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn links_and_next_pages() {
        let link = r#"<https://api.github.com/repositories/1/actions/runs?page=2>; rel="next", <https://api.github.com/repositories/1/actions/runs?page=9>; rel="last""#;
        assert_eq!(
            link_next(link).as_deref(),
            Some("https://api.github.com/repositories/1/actions/runs?page=2")
        );
        assert_eq!(link_next(r#"<https://a/x?page=1>; rel="prev""#), None);
        let u = "https://gl/api/v4/projects/1/pipelines?per_page=100&page=2";
        assert_eq!(
            next_page(&answer(&[("x-next-page", "3")]), u).as_deref(),
            Some("https://gl/api/v4/projects/1/pipelines?per_page=100&page=3")
        );
        assert_eq!(next_page(&answer(&[("x-next-page", "")]), u), None);
        assert_eq!(next_page(&answer(&[]), u), None);
        assert_eq!(with_query("https://a/b", "page", "2"), "https://a/b?page=2");
    }

    #[test]
    fn paging_ends_on_a_circle_and_at_the_listings_total() {
        let mut p = Paging::default();
        p.visit("https://a/x?page=1").unwrap();
        let e = p.visit("https://a/x?page=1").unwrap_err();
        assert!(
            e.message().contains("stopped paging at https://a/x?page=1"),
            "{e:?}"
        );
        assert!(e.message().contains("read already"), "{e:?}");
        // 150 records, 100 a page: two pages, and one more for records added meanwhile.
        p.total(150, 100);
        p.visit("https://a/x?page=2").unwrap();
        p.visit("https://a/x?page=3").unwrap();
        let e = p.visit("https://a/x?page=4").unwrap_err();
        assert!(e.message().contains("3 pages were read"), "{e:?}");
        // Without a total, at most MAX_PAGES.
        let mut p = Paging::default();
        for n in 0..MAX_PAGES {
            p.visit(&format!("https://a/x?page={n}")).unwrap();
        }
        assert!(p.visit("https://a/x?page=last").is_err());
    }
}
