//! The context of a job: what a CI system's variables (`ci/`) or a record of the outside world
//! (`events/`) tell about it, as one [`CiContext`] whose every value carries where it came from.
//! Both stages return it, and `resolve` takes it from there. Nothing here touches git, files or
//! the network.

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
    AppVeyor,
    CodeBuild,
    Bitrise,
    Buddy,
    Codefresh,
    Bamboo,
    Cirrus,
    CloudflarePages,
    Netlify,
    Vercel,
    Render,
    Heroku,
    Semaphore,
    Vela,
    Harness,
    Screwdriver,
    Codeship,
    JetBrainsSpace,
    Scrutinizer,
    /// Argo CD syncs reported by `serve` (never detected from an environment).
    ArgoCd,
    /// Flux reconciliations reported by `serve` (never detected from an environment).
    Flux,
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
            Provider::AppVeyor => "appveyor",
            Provider::CodeBuild => "aws-codebuild",
            Provider::Bitrise => "bitrise",
            Provider::Buddy => "buddy",
            Provider::Codefresh => "codefresh",
            Provider::Bamboo => "bamboo",
            Provider::Cirrus => "cirrus-ci",
            Provider::CloudflarePages => "cloudflare-pages",
            Provider::Netlify => "netlify",
            Provider::Vercel => "vercel",
            Provider::Render => "render",
            Provider::Heroku => "heroku",
            Provider::Semaphore => "semaphore",
            Provider::Vela => "vela",
            Provider::Harness => "harness",
            Provider::Screwdriver => "screwdriver",
            Provider::Codeship => "codeship",
            Provider::JetBrainsSpace => "jetbrains-space",
            Provider::Scrutinizer => "scrutinizer",
            Provider::ArgoCd => "argo-cd",
            Provider::Flux => "flux",
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
    /// Epoch seconds the job ended, when the source knows it (an event about a finished run or
    /// deployment); otherwise the job ends now, when it is reported.
    pub finished: Option<Sourced<i64>>,
    /// The event the job is taken from (`deployment_status`, `workflow_run`) when it is not the
    /// running CI job: its times then beat a `start` state file of the job that reports it.
    pub event: Option<&'static str>,
    /// A GitHub deployment's state as the event wrote it, for `--deployment-states`.
    pub deployment_state: Option<Sourced<String>>,
    /// Why this CI job is not a deployment (a GitLab job whose environment action is `stop`,
    /// `prepare`, ...): a job-scope report of it is skipped with this notice.
    pub not_a_deployment: Option<String>,
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
            finished: None,
            event: None,
            deployment_state: None,
            not_a_deployment: None,
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

    /// The detected environment (the `environment` context field), for `--environments`.
    pub fn environment(&self) -> Option<&str> {
        self.context
            .iter()
            .find(|c| c.key == "environment")
            .map(|c| c.value.as_str())
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
