//! CI provider detection: what the CI system's own variables say about the job.
//!
//! Each provider is a pure function `detect(&Env) -> Option<CiContext>` in its own file;
//! [`detect`] tries them in SPEC.md's order and falls back to [`Provider::Local`]. Nothing here
//! touches git, the network or the process: `report` combines this with git and the GitHub API.

use crate::env::{Env, Sourced};

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

fn detect_provider(_env: &Env) -> Option<CiContext> {
    // Providers are added in SPEC.md's order (GitLab before Woodpecker: both use CI_*).
    None
}
