//! CI provider detection: what the CI system's own variables say about the job.
//!
//! Each provider is a pure function `detect(&Env) -> Option<CiContext>` in its own file;
//! [`detect`] tries them in SPEC.md's order and falls back to [`Provider::Local`]. Nothing here
//! touches git, the network or the process: `report` combines this with git and the GitHub API.

use crate::env::{Env, Sourced};

mod azure;
mod bitbucket;
mod buildkite;
mod circleci;
mod drone;
mod github;
mod gitlab;
mod jenkins;
mod teamcity;
mod travis;
mod woodpecker;

#[cfg(test)]
mod tests;

/// The CI systems we recognise, in detection order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    GitHub,
    GitLab,
    Jenkins,
    CircleCi,
    Bitbucket,
    Azure,
    Buildkite,
    Travis,
    TeamCity,
    Drone,
    Woodpecker,
    Local,
}

impl Provider {
    /// The value of the `ci_provider` context field and of the provenance line.
    pub fn id(self) -> &'static str {
        match self {
            Provider::GitHub => "github-actions",
            Provider::GitLab => "gitlab-ci",
            Provider::Jenkins => "jenkins",
            Provider::CircleCi => "circleci",
            Provider::Bitbucket => "bitbucket-pipelines",
            Provider::Azure => "azure-pipelines",
            Provider::Buildkite => "buildkite",
            Provider::Travis => "travis-ci",
            Provider::TeamCity => "teamcity",
            Provider::Drone => "drone",
            Provider::Woodpecker => "woodpecker",
            Provider::Local => "local",
        }
    }

    /// Whether we run inside a CI system (decides, e.g., the default outbox).
    pub fn is_ci(self) -> bool {
        self != Provider::Local
    }
}

/// One automatic context field (`branch`, `pipeline_url`, ...), sent as a `string` optional
/// field unless the user set the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextField {
    pub key: &'static str,
    pub value: String,
}

/// Everything a provider's variables tell us. Every value carries the variable it came from.
/// `None` means the provider does not say; the caller falls back to git or defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiContext {
    pub provider: Provider,
    /// Full or abbreviated commit; validated (and resolved through git) later.
    pub commit_sha: Option<Sourced<String>>,
    pub repo_name: Option<Sourced<String>>,
    pub repo_id: Option<Sourced<String>>,
    /// Email where the provider has one, else a login.
    pub triggered_by: Option<Sourced<String>>,
    /// `job_id` for `--scope pipeline` (the whole run/pipeline/build).
    pub pipeline_id: Option<Sourced<String>>,
    /// `job_id` for `--scope job` (this CI job).
    pub job_id: Option<Sourced<String>>,
    /// Epoch seconds the pipeline/run started.
    pub pipeline_started: Option<Sourced<i64>>,
    /// Epoch seconds this job started.
    pub job_started: Option<Sourced<i64>>,
    /// The provider's own status word for the job (`success`, `Failed`, an exit code ...),
    /// mapped through [`crate::status`] like `--status`.
    pub status: Option<Sourced<String>>,
    /// Context fields in the order they should be sent.
    pub context: Vec<ContextField>,
    /// Malformed values that were skipped (shown as warnings, never fatal).
    pub warnings: Vec<String>,
}

impl CiContext {
    /// An empty context for `provider`.
    pub fn new(provider: Provider) -> CiContext {
        CiContext {
            provider,
            commit_sha: None,
            repo_name: None,
            repo_id: None,
            triggered_by: None,
            pipeline_id: None,
            job_id: None,
            pipeline_started: None,
            job_started: None,
            status: None,
            context: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Adds a context field when `value` is present.
    pub fn add_context(&mut self, key: &'static str, value: Option<impl Into<String>>) {
        if let Some(value) = value {
            let value = value.into();
            if !value.is_empty() && !self.context.iter().any(|c| c.key == key) {
                self.context.push(ContextField { key, value });
            }
        }
    }

    /// Parses a provider time variable; a malformed one becomes a warning and `None`.
    pub fn time_from(&mut self, env: &Env, key: &str) -> Option<Sourced<i64>> {
        let raw = env.get(key)?;
        match crate::timefmt::parse_timestamp(raw) {
            Ok(t) => Some(Sourced::new(t, key)),
            Err(e) => {
                self.warnings.push(format!("ignoring {key}: {e}"));
                None
            }
        }
    }
}

/// Detects the CI provider and what its variables say; `Provider::Local` when none matches.
pub fn detect(env: &Env) -> CiContext {
    detect_provider(env).unwrap_or_else(|| CiContext::new(Provider::Local))
}

/// The first provider whose marker variables are set, in SPEC.md's order. The order matters
/// where markers overlap: GitLab and Woodpecker both set `CI_*` variables, and Woodpecker may
/// set Drone-compatible ones, so GitLab and Drone each rule Woodpecker out explicitly.
///
/// Providers read variables through [`Env::sourced`] rather than an envy struct: every value
/// must carry its variable's name for `--dry-run`, and a struct would repeat each name twice.
fn detect_provider(env: &Env) -> Option<CiContext> {
    const DETECTORS: [fn(&Env) -> Option<CiContext>; 11] = [
        github::detect,
        gitlab::detect,
        jenkins::detect,
        circleci::detect,
        bitbucket::detect,
        azure::detect,
        buildkite::detect,
        travis::detect,
        teamcity::detect,
        drone::detect,
        woodpecker::detect,
    ];
    DETECTORS.iter().find_map(|detect| detect(env))
}

// Helpers shared by the provider files (private to `ci`).

/// Whether the marker variable `key` is set to anything but `false` or `0` (compared without
/// case or surrounding spaces; an empty variable is unset). Runners write `true`, `True`
/// (`TF_BUILD`, AppVeyor on Windows) or `1` (Vercel, Cloudflare Pages), and some images and
/// wrappers other values still; `false`/`0` is how a wrapper switches a marker off.
fn marker(env: &Env, key: &str) -> bool {
    env.get(key).is_some_and(|v| {
        let v = v.trim();
        !v.is_empty() && !v.eq_ignore_ascii_case("false") && v != "0"
    })
}

/// `{owner}/{name}` from two variables (`DRONE_REPO_OWNER`, `DRONE_REPO_NAME`), with both
/// names as the source; `None` unless both are set.
fn slug_from_parts(env: &Env, owner: &str, name: &str) -> Option<Sourced<String>> {
    match (env.get(owner), env.get(name)) {
        (Some(o), Some(n)) => Some(Sourced::new(
            format!("{}/{}", o.trim_matches('/'), n.trim_matches('/')),
            format!("{owner}, {name}"),
        )),
        _ => None,
    }
}

/// The values of all `keys` joined with `-` (composite job ids such as
/// `{GITHUB_RUN_ID}-{GITHUB_RUN_ATTEMPT}`), with the names as the source. `None` unless every
/// key is set, so a half-known id is never sent.
fn joined(env: &Env, keys: &[&str]) -> Option<Sourced<String>> {
    let values = keys
        .iter()
        .map(|k| env.get(k))
        .collect::<Option<Vec<&str>>>()?;
    Some(Sourced::new(values.join("-"), keys.join(", ")))
}

/// `owner/name` from the clone URL in `key`; an unreadable URL is a warning, not an error,
/// because the git remote may still tell us.
fn slug_from_url(ctx: &mut CiContext, env: &Env, key: &str) -> Option<Sourced<String>> {
    let url = env.get(key)?;
    match crate::git::repo_slug_from_url(url) {
        Some(slug) => Some(Sourced::new(slug, key)),
        None => {
            ctx.warnings.push(format!(
                "ignoring {key}: could not read owner/name from its URL"
            ));
            None
        }
    }
}

/// The provider's status word from `key` when it is one of `accepted` (compared without
/// case); any other value is a warning. Values such as GitLab's `running` that simply mean
/// "not finished yet" belong in `quiet` and are dropped without a warning.
fn status_from(
    ctx: &mut CiContext,
    env: &Env,
    key: &str,
    accepted: &[&str],
    quiet: &[&str],
) -> Option<Sourced<String>> {
    let raw = env.get(key)?;
    if accepted.iter().any(|a| a.eq_ignore_ascii_case(raw)) {
        return Some(Sourced::new(raw.to_string(), key));
    }
    if !quiet.iter().any(|q| q.eq_ignore_ascii_case(raw)) {
        ctx.warnings.push(format!(
            "ignoring {key}={raw:?}: expected one of {}",
            accepted.join(", ")
        ));
    }
    None
}

/// An exit code (`BITBUCKET_EXIT_CODE`, `TRAVIS_TEST_RESULT`) passed on as the status word;
/// the status module maps 0 to Succeeded and anything else to Failed.
fn exit_code_from(ctx: &mut CiContext, env: &Env, key: &str) -> Option<Sourced<String>> {
    let raw = env.get(key)?;
    match raw.trim().parse::<i64>() {
        Ok(code) => Some(Sourced::new(code.to_string(), key)),
        Err(_) => {
            ctx.warnings
                .push(format!("ignoring {key}={raw:?}: expected an exit code"));
            None
        }
    }
}

/// A branch name from a ref: `refs/heads/main` → `main`. Other refs (`refs/tags/…`,
/// `refs/pull/…`) are not branches and give `None`; a bare name is returned as is.
fn branch_from_ref(r: &str) -> Option<&str> {
    match r.strip_prefix("refs/heads/") {
        Some(branch) => Some(branch),
        None if r.starts_with("refs/") => None,
        None => Some(r),
    }
}

/// Percent-encodes `s` for one URL path segment or query value (Azure project names have
/// spaces, Bitbucket step UUIDs have braces).
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
