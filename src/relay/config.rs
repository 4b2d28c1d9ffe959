//! The relay's own settings, read once at start: where it listens, each sender's secret, which
//! events count, the queue directory, the log format, the GitLab API for start times, and the
//! tuning knobs. Problems are collected, so `serve` refuses to start naming all of them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::Source;
use crate::env::Env;

/// Everything `serve` needs besides the job and delivery settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub config_file: Option<PathBuf>,
    pub log_json: bool,
    pub secrets: Secrets,
    pub github: GithubEvents,
    pub gitlab: GitlabEvents,
    pub gitlab_api: Option<ApiAccess>,
    /// With `GITHUB_TOKEN`: for `[[catch_up]]` of GitHub hooks.
    pub github_api: Option<ApiAccess>,
    pub queue_dir: PathBuf,
    pub limits: Limits,
}

/// The shared secret of each sender; an endpoint without one answers 404.
#[derive(Clone, Default)]
pub struct Secrets {
    pub github: Option<String>,
    pub gitlab: Option<String>,
    pub argocd: Option<String>,
    pub flux: Option<String>,
}

impl Secrets {
    pub fn of(&self, source: Source) -> Option<&str> {
        match source {
            Source::GitHub => self.github.as_deref(),
            Source::GitLab => self.gitlab.as_deref(),
            Source::ArgoCd => self.argocd.as_deref(),
            Source::Flux => self.flux.as_deref(),
        }
    }

    pub fn all(&self) -> impl Iterator<Item = &str> {
        Source::ALL.into_iter().filter_map(|s| self.of(s))
    }
}

impl std::fmt::Debug for Secrets {
    /// Which secrets are set, never their values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set: Vec<&str> = Source::ALL
            .into_iter()
            .filter(|s| self.of(*s).is_some())
            .map(Source::name)
            .collect();
        write!(f, "Secrets({})", set.join(", "))
    }
}

/// `ALLSTACKS_GITHUB_EVENTS` and `ALLSTACKS_WORKFLOWS`.
#[derive(Debug, Clone, Default)]
pub struct GithubEvents {
    pub deployment_status: bool,
    pub workflow_run: bool,
    /// Workflow-name globs for `workflow_run`.
    pub workflows: Vec<String>,
}

/// `ALLSTACKS_GITLAB_EVENTS`.
#[derive(Debug, Clone, Default)]
pub struct GitlabEvents {
    pub deployment: bool,
    pub pipeline: bool,
}

/// A platform's API and the token for it: GitLab's, where the relay reads a deployment's job
/// for its start time and a group's or project's hook events (catch-up); GitHub's, where it
/// reads a hook's deliveries (catch-up).
#[derive(Clone)]
pub struct ApiAccess {
    /// `https://gitlab.example.com/api/v4`, without a trailing `/`.
    pub base: String,
    /// The variable the base came from, for messages.
    pub var: &'static str,
    pub token: String,
}

impl std::fmt::Debug for ApiAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiAccess({})", self.base)
    }
}

/// Limits and timings; the defaults are the spec's, the variables tuning knobs (and what keeps
/// the tests fast).
#[derive(Debug, Clone)]
pub struct Limits {
    /// A request's headers must arrive within this (`ALLSTACKS_RELAY_HEADER_TIMEOUT`, 5 s); it
    /// also ends idle connections.
    pub header_timeout: Duration,
    /// Its body within this (`ALLSTACKS_RELAY_BODY_TIMEOUT`, 30 s).
    pub body_timeout: Duration,
    /// Open connections at most (`ALLSTACKS_RELAY_MAX_CONNECTIONS`, 1,024); more wait to be
    /// accepted.
    pub max_connections: usize,
    /// Open connections from one peer address at most (`ALLSTACKS_RELAY_PER_IP`, 64); 0: no cap
    /// (a relay behind a proxy sees one address).
    pub per_peer: usize,
    /// The bytes of request bodies held in memory by all connections together at most
    /// (`ALLSTACKS_RELAY_BODY_BUDGET`, 64 MiB); past it a request is answered 503.
    pub body_budget: usize,
    /// How long requests in flight may finish after SIGTERM (`ALLSTACKS_RELAY_SHUTDOWN_GRACE`,
    /// 10 s).
    pub shutdown_grace: Duration,
    /// The longest wait between delivery rounds while Allstacks is down, and between two
    /// attempts of one job (`ALLSTACKS_RELAY_MAX_BACKOFF`, 300 s).
    pub max_backoff: Duration,
    /// A job still undeliverable this long after it was queued moves to `dead/`
    /// (`ALLSTACKS_RELAY_MAX_AGE`, 7 days).
    pub max_age: Duration,
    /// How often the senders' delivery logs are read (`ALLSTACKS_RELAY_CATCH_UP_EVERY`, 300 s).
    pub catch_up_every: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(30),
            max_connections: 1024,
            per_peer: 64,
            body_budget: 64 * 1024 * 1024,
            shutdown_grace: Duration::from_secs(10),
            max_backoff: Duration::from_secs(300),
            max_age: Duration::from_secs(7 * 24 * 3600),
            catch_up_every: Duration::from_secs(300),
        }
    }
}

/// The shortest secret accepted: a shorter one can be guessed, and with it any deployment forged.
pub const MIN_SECRET: usize = 16;

/// A request body is read up to this size (GitHub's own cap on webhook payloads); larger is 413.
pub const MAX_BODY: usize = crate::client::MAX_JSON as usize;

/// The flags of `serve` that are not job or delivery settings.
pub struct Flags {
    pub listen: Option<String>,
    pub config: Option<PathBuf>,
    pub log_format: Option<String>,
    pub outbox: Option<PathBuf>,
    /// `--explain`: one body is read, nothing is listened to or sent, so no secret is needed.
    pub explaining: bool,
}

impl Config {
    /// Reads the relay's settings from `flags` and `env`; problems go to `errors`.
    pub fn read(flags: Flags, env: &Env, errors: &mut Vec<String>) -> Config {
        let secrets = secrets(env, errors);
        let no_secret = secrets.all().next().is_none() && !flags.explaining;
        if no_secret && !errors.iter().any(|e| e.contains("secret")) {
            errors.push(
                "no sender is configured: set at least one of ALLSTACKS_GITHUB_SECRET, \
                 ALLSTACKS_GITLAB_SECRET, ALLSTACKS_ARGOCD_SECRET, ALLSTACKS_FLUX_SECRET (or \
                 their *_FILE variants); an endpoint without its secret answers 404"
                    .into(),
            );
        }
        Config {
            listen: listen(flags.listen, env, errors),
            config_file: flags
                .config
                .filter(|p| !p.as_os_str().is_empty())
                .or_else(|| env.get("ALLSTACKS_CONFIG").map(PathBuf::from)),
            log_json: log_json(flags.log_format, env, errors),
            secrets,
            github: github_events(env, errors),
            gitlab: gitlab_events(env, errors),
            gitlab_api: {
                api_urls(env, errors);
                gitlab_api(env, errors)
            },
            github_api: github_api(env, errors),
            queue_dir: queue_dir(flags.outbox, env, errors),
            limits: limits(env, errors),
        }
    }
}

fn listen(flag: Option<String>, env: &Env, errors: &mut Vec<String>) -> SocketAddr {
    let default = SocketAddr::from(([127, 0, 0, 1], 8080));
    let (value, source) = match flag.filter(|v| !v.trim().is_empty()) {
        Some(v) => (v, "--listen"),
        None => match env.get("ALLSTACKS_LISTEN") {
            Some(v) => (v.to_string(), "ALLSTACKS_LISTEN"),
            None => return default,
        },
    };
    value.trim().parse().unwrap_or_else(|_| {
        errors.push(format!(
            "listen must be ADDRESS:PORT (127.0.0.1:8080, 0.0.0.0:8080, [::]:8080), got \
             {value:?} (from {source})"
        ));
        default
    })
}

fn log_json(flag: Option<String>, env: &Env, errors: &mut Vec<String>) -> bool {
    let value = flag
        .filter(|v| !v.trim().is_empty())
        .or_else(|| env.get("ALLSTACKS_LOG_FORMAT").map(str::to_string));
    match value.as_deref().map(str::trim) {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => {
            errors.push(format!(
                "log format must be text or json, got {other:?} (from --log-format or \
                 ALLSTACKS_LOG_FORMAT)"
            ));
            false
        }
    }
}

/// Each sender's secret: `ALLSTACKS_{NAME}_SECRET`, else the file `ALLSTACKS_{NAME}_SECRET_FILE`
/// names (one trailing line break trimmed). A secret is one line without control characters;
/// nothing of a refused one is shown.
fn secrets(env: &Env, errors: &mut Vec<String>) -> Secrets {
    let mut read = |name: &str| {
        let var = format!("ALLSTACKS_{name}_SECRET");
        let file_var = format!("{var}_FILE");
        let (raw, source) = if let Some(v) = env.get(&var) {
            (v.to_string(), var.clone())
        } else if let Some(path) = env.get(&file_var) {
            match read_secret_file(path) {
                Ok(text) => (text, format!("{file_var} ({path})")),
                Err(e) => {
                    errors.push(format!("{file_var}: cannot read the secret in {path}: {e}"));
                    return None;
                }
            }
        } else {
            return None;
        };
        let line = raw
            .strip_suffix("\r\n")
            .or_else(|| raw.strip_suffix('\n'))
            .unwrap_or(&raw);
        if line.trim().is_empty() || line.chars().any(char::is_control) {
            errors.push(format!(
                "the secret from {source} is blank or has line breaks or control characters \
                 inside; it is not shown. A secret is one line"
            ));
            return None;
        }
        if line.len() < MIN_SECRET {
            errors.push(format!(
                "the secret from {source} is {} bytes long; it is not shown. A secret must be at \
                 least {MIN_SECRET} bytes (anyone can guess a short one): make one with \
                 `openssl rand -hex 32` and set it in the sender too",
                line.len()
            ));
            return None;
        }
        Some(line.to_string())
    };
    Secrets {
        github: read("GITHUB"),
        gitlab: read("GITLAB"),
        argocd: read("ARGOCD"),
        flux: read("FLUX"),
    }
}

fn read_secret_file(path: &str) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    if bytes.len() > 64 * 1024 {
        return Err("larger than 64 KiB: not a secret".into());
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
}

/// A comma-separated list of names, each one of `known`.
fn names(
    var: &str,
    env: &Env,
    default: &str,
    known: &[&str],
    errors: &mut Vec<String>,
) -> Vec<String> {
    let list = crate::glob::list(&env.get(var).unwrap_or(default).to_ascii_lowercase());
    for name in &list {
        if !known.contains(&name.as_str()) {
            errors.push(format!(
                "{var}: {name:?} is not one of {}",
                known.join(", ")
            ));
        }
    }
    list
}

fn github_events(env: &Env, errors: &mut Vec<String>) -> GithubEvents {
    let var = "ALLSTACKS_GITHUB_EVENTS";
    let list = names(
        var,
        env,
        "deployment_status",
        &["deployment_status", "workflow_run"],
        errors,
    );
    let workflows = env
        .get("ALLSTACKS_WORKFLOWS")
        .map(crate::glob::list)
        .unwrap_or_default();
    let workflow_run = list.iter().any(|n| n == "workflow_run");
    if workflow_run && workflows.is_empty() {
        errors.push(
            "ALLSTACKS_GITHUB_EVENTS includes workflow_run: set ALLSTACKS_WORKFLOWS to the \
             deploy workflows' names (comma-separated globs, e.g. \"Deploy*\"), so that every \
             other workflow of the organisation is not reported as a deployment"
                .into(),
        );
    }
    GithubEvents {
        deployment_status: list.iter().any(|n| n == "deployment_status"),
        workflow_run,
        workflows,
    }
}

fn gitlab_events(env: &Env, errors: &mut Vec<String>) -> GitlabEvents {
    let list = names(
        "ALLSTACKS_GITLAB_EVENTS",
        env,
        "deployment",
        &["deployment", "pipeline"],
        errors,
    );
    GitlabEvents {
        deployment: list.iter().any(|n| n == "deployment"),
        pipeline: list.iter().any(|n| n == "pipeline"),
    }
}

/// With `GITLAB_TOKEN`, the API a deployment's job is read from: `GITLAB_API_URL`, else
/// `CI_API_V4_URL`, else `{CI_SERVER_URL}/api/v4`. Never a URL from a webhook body: the token
/// goes only where the operator said, and only through the API client's guards (https or this
/// machine, no credentials in the URL), checked now rather than at the first deployment.
fn gitlab_api(env: &Env, errors: &mut Vec<String>) -> Option<ApiAccess> {
    let token = api_token("GITLAB_TOKEN", env, errors)?;
    let base = env
        .get("GITLAB_API_URL")
        .map(|u| (u.to_string(), "GITLAB_API_URL"))
        .or_else(|| {
            env.get("CI_API_V4_URL")
                .map(|u| (u.to_string(), "CI_API_V4_URL"))
        })
        .or_else(|| {
            env.get("CI_SERVER_URL").map(|s| {
                let base = format!("{}/api/v4", s.trim_end_matches('/'));
                (base, "CI_SERVER_URL")
            })
        });
    let Some((base, var)) = base else {
        errors.push(
            "GITLAB_TOKEN is set (to read deployments' start times and hook events), but no \
             GitLab API URL: set GITLAB_API_URL, e.g. https://gitlab.example.com/api/v4"
                .into(),
        );
        return None;
    };
    if var != "GITLAB_API_URL" {
        // GITLAB_API_URL itself is checked by `api_urls`.
        if let Err(e) = crate::client::Api::new(&base, var, &[]) {
            errors.push(e);
            return None;
        }
    }
    Some(ApiAccess {
        base: base.trim().trim_end_matches('/').to_string(),
        var,
        token,
    })
}

/// With `GITHUB_TOKEN`, the GitHub API: `GITHUB_API_URL`, else `https://api.github.com`.
fn github_api(env: &Env, errors: &mut Vec<String>) -> Option<ApiAccess> {
    let token = api_token("GITHUB_TOKEN", env, errors)?;
    let (base, var) = match env.get("GITHUB_API_URL") {
        Some(url) => (
            url.trim().trim_end_matches('/').to_string(),
            "GITHUB_API_URL",
        ),
        None => ("https://api.github.com".to_string(), "GITHUB_API_URL"),
    };
    Some(ApiAccess { base, var, token })
}

/// A platform token: the variable `var`, else the file `{var}_FILE` names. One line of visible
/// characters; nothing of a refused one is shown.
fn api_token(var: &str, env: &Env, errors: &mut Vec<String>) -> Option<String> {
    let file_var = format!("{var}_FILE");
    let (raw, source) = match (env.get(var), env.get(&file_var)) {
        (Some(v), _) => (v.to_string(), var.to_string()),
        (None, Some(path)) => match read_secret_file(path) {
            Ok(text) => (text, format!("{file_var} ({path})")),
            Err(e) => {
                errors.push(format!("{file_var}: cannot read the token in {path}: {e}"));
                return None;
            }
        },
        (None, None) => return None,
    };
    match crate::settings::one_line_token(&raw) {
        Ok(token) => Some(token),
        Err(why) => {
            errors.push(format!("the token from {source} {why}; it is not shown"));
            None
        }
    }
}

/// `GITHUB_API_URL` and `GITLAB_API_URL`, when set, must pass the API client's guards (https or
/// this machine, no user name or password inside): a URL that would leak a token stops `serve`
/// at start, whether or not a token is set yet.
fn api_urls(env: &Env, errors: &mut Vec<String>) {
    for var in ["GITHUB_API_URL", "GITLAB_API_URL"] {
        if let Some(url) = env.get(var) {
            if let Err(e) = crate::client::Api::new(url, var, &[]) {
                errors.push(e);
            }
        }
    }
}

fn queue_dir(flag: Option<PathBuf>, env: &Env, errors: &mut Vec<String>) -> PathBuf {
    let dir = flag
        .filter(|p| !p.as_os_str().is_empty())
        .or_else(|| env.get("ALLSTACKS_OUTBOX").map(PathBuf::from))
        .or_else(|| crate::outbox::state_dir(env).map(|d| d.join("relay")));
    match dir {
        Some(dir) => dir,
        None => {
            errors.push(
                "no queue directory: set ALLSTACKS_OUTBOX (or --outbox), or XDG_STATE_HOME or HOME"
                    .into(),
            );
            PathBuf::new()
        }
    }
}

fn limits(env: &Env, errors: &mut Vec<String>) -> Limits {
    let mut secs_up_to = |var: &str, default: Duration, max: f64| match env.get(var) {
        None => default,
        Some(v) => match v.trim().parse::<f64>() {
            Ok(s) if s > 0.0 && s <= max => Duration::from_secs_f64(s),
            _ => {
                errors.push(format!(
                    "{var} must be a number of seconds between 0 and {max}, got {v:?}"
                ));
                default
            }
        },
    };
    let mut secs = |var: &str, default: Duration| secs_up_to(var, default, 86_400.0);
    let d = Limits::default();
    let mut limits = Limits {
        header_timeout: secs("ALLSTACKS_RELAY_HEADER_TIMEOUT", d.header_timeout),
        body_timeout: secs("ALLSTACKS_RELAY_BODY_TIMEOUT", d.body_timeout),
        shutdown_grace: secs("ALLSTACKS_RELAY_SHUTDOWN_GRACE", d.shutdown_grace),
        max_backoff: secs("ALLSTACKS_RELAY_MAX_BACKOFF", d.max_backoff),
        catch_up_every: secs("ALLSTACKS_RELAY_CATCH_UP_EVERY", d.catch_up_every),
        max_age: secs_up_to("ALLSTACKS_RELAY_MAX_AGE", d.max_age, 366.0 * 86_400.0),
        max_connections: d.max_connections,
        per_peer: d.per_peer,
        body_budget: d.body_budget,
    };
    let mut count = |var: &str, range: std::ops::RangeInclusive<usize>, into: &mut usize| {
        let Some(v) = env.get(var) else { return };
        match v.trim().parse::<usize>() {
            Ok(n) if range.contains(&n) => *into = n,
            _ => errors.push(format!(
                "{var} must be a whole number from {} to {}, got {v:?}",
                range.start(),
                range.end()
            )),
        }
    };
    count(
        "ALLSTACKS_RELAY_MAX_CONNECTIONS",
        1..=100_000,
        &mut limits.max_connections,
    );
    count("ALLSTACKS_RELAY_PER_IP", 0..=100_000, &mut limits.per_peer);
    if let Some(v) = env.get("ALLSTACKS_RELAY_BODY_BUDGET") {
        match size(v) {
            Some(n) if (MIN_BUDGET..=MAX_BUDGET).contains(&n) => limits.body_budget = n,
            _ => errors.push(format!(
                "ALLSTACKS_RELAY_BODY_BUDGET must be a size from 1 MiB to 4 GiB, in bytes or with \
                 a unit (64MiB, 512KiB, 1GiB), got {v:?}"
            )),
        }
    }
    limits
}

const MIN_BUDGET: usize = 1024 * 1024;
const MAX_BUDGET: usize = 4 * 1024 * 1024 * 1024;

/// A size in bytes: `67108864`, `64MiB`, `64 MiB`, `512KiB`, `1GiB` (`K`, `M`, `G` too).
fn size(text: &str) -> Option<usize> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let n: usize = t[..digits].parse().ok()?;
    let unit = match t[digits..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1024,
        "m" | "mib" => 1024 * 1024,
        "g" | "gib" => 1024 * 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags() -> Flags {
        Flags {
            listen: None,
            config: None,
            log_format: None,
            outbox: None,
            explaining: false,
        }
    }

    #[test]
    fn defaults_and_refusals() {
        let mut errors = Vec::new();
        let env = Env::from_pairs([
            ("HOME", "/h"),
            ("ALLSTACKS_FLUX_SECRET", "s3cret-value-0123456\n"),
        ]);
        let c = Config::read(flags(), &env, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            c.queue_dir,
            PathBuf::from("/h/.local/state/allstacks-cd/relay")
        );
        assert_eq!(c.secrets.flux.as_deref(), Some("s3cret-value-0123456"));
        assert_eq!(c.limits.header_timeout, Duration::from_secs(5));
        assert_eq!((c.limits.max_connections, c.limits.per_peer), (1024, 64));
        assert_eq!(c.limits.body_budget, 64 * 1024 * 1024);
        assert!(c.github.deployment_status && !c.github.workflow_run);
        assert!(c.gitlab.deployment && !c.gitlab.pipeline);
        assert_eq!(format!("{:?}", c.secrets), "Secrets(flux)");

        let mut errors = Vec::new();
        let env = Env::from_pairs([
            ("HOME", "/h"),
            ("ALLSTACKS_GITHUB_EVENTS", "workflow_run,push"),
            ("ALLSTACKS_LISTEN", "localhost"),
            ("GITLAB_TOKEN", "glpat-x"),
            ("ALLSTACKS_RELAY_BODY_BUDGET", "12 parsecs"),
            ("ALLSTACKS_RELAY_PER_IP", "-1"),
        ]);
        Config::read(flags(), &env, &mut errors);
        let all = errors.join("\n");
        for needle in [
            "no sender is configured",
            "\"push\" is not one of deployment_status, workflow_run",
            "set ALLSTACKS_WORKFLOWS",
            "listen must be ADDRESS:PORT",
            "set GITLAB_API_URL",
            "ALLSTACKS_RELAY_BODY_BUDGET must be a size from 1 MiB to 4 GiB",
            "ALLSTACKS_RELAY_PER_IP must be a whole number from 0 to 100000, got \"-1\"",
        ] {
            assert!(all.contains(needle), "{needle}: {all}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(size("67108864"), Some(64 * 1024 * 1024));
        assert_eq!(size("64MiB"), Some(64 * 1024 * 1024));
        assert_eq!(size(" 512 KiB "), Some(512 * 1024));
        assert_eq!(size("1g"), Some(1024 * 1024 * 1024));
        assert_eq!(size("1.5MiB"), None);
        assert_eq!(size("MiB"), None);
    }
}
