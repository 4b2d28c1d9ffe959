//! The context of a job: what a CI system's variables (`ci/`) or a record of the outside world
//! (`events/`) tell about it, as one [`CiContext`] whose every value carries where it came from.
//! Both stages return it, and `resolve` takes it from there. Nothing here touches git, files or
//! the network.

use crate::env::{Env, Sourced};
use crate::fields::FieldType;

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

/// One automatic context field (`branch`, `pipeline_url`, ...), sent unless the user set the
/// same key: a `string` with `value`, or, when `typed`, that type and those values (a
/// `commit_time` timestamp, the `pull_requests` integers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextField {
    pub key: &'static str,
    /// The value as text (what globs and [`CiContext::environment`] match).
    pub value: String,
    /// The type and the values sent, when not one string.
    pub typed: Option<(FieldType, Vec<i64>)>,
}

impl ContextField {
    /// A `string` field.
    pub fn text(key: &'static str, value: impl Into<String>) -> ContextField {
        ContextField {
            key,
            value: value.into(),
            typed: None,
        }
    }
}

/// A job of a pipeline that deploys to an environment (GitLab `environment:`), as the pipeline
/// tells it: under an environment filter, these decide whether, where and how the pipeline
/// deployed (`resolve`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentJob {
    pub id: u64,
    pub name: String,
    pub environment: String,
    /// The job's status (`success`, `failed`, `manual`, `skipped`, `created`, ...).
    pub status: String,
    /// Where the job was read (`webhook builds[]`, `GitLab API deployments`).
    pub source: String,
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
    /// The record's own running time in seconds (GitLab's pipeline `duration`), which beats
    /// `finished` − start.
    pub duration: Option<Sourced<i64>>,
    /// `pipeline_id` is a number each repository counts on its own (`12`, shared by every
    /// repository's twelfth build): the repository is put in front of it (`acme/web#12`) once
    /// known.
    pub pipeline_id_per_repo: bool,
    /// The same for `job_id`.
    pub job_id_per_repo: bool,
    /// A pipeline's jobs that deploy to an environment, when the record lists them: `None` when
    /// it does not say.
    pub environment_jobs: Option<Vec<EnvironmentJob>>,
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
            duration: None,
            pipeline_id_per_repo: false,
            job_id_per_repo: false,
            environment_jobs: None,
            context: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Adds a context field when `value` is present.
    pub fn add_context(&mut self, key: &'static str, value: Option<impl Into<String>>) {
        if let Some(value) = value {
            let value = value.into();
            if !value.is_empty() && !self.context.iter().any(|c| c.key == key) {
                self.context.push(ContextField::text(key, value));
            }
        }
    }

    /// Adds a typed context field (`timestamp`, `duration`, `integer`) when it has values.
    pub fn add_typed(&mut self, key: &'static str, ty: FieldType, values: Vec<i64>) {
        if values.is_empty() || self.context.iter().any(|c| c.key == key) {
            return;
        }
        let value = values
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        self.context.push(ContextField {
            key,
            value,
            typed: Some((ty, values)),
        });
    }

    /// The context field `key`, when there is one.
    pub fn field(&self, key: &str) -> Option<&ContextField> {
        self.context.iter().find(|c| c.key == key)
    }

    /// The detected environment (the `environment` context field), for `--environments`.
    pub fn environment(&self) -> Option<&str> {
        self.field("environment").map(|c| c.value.as_str())
    }

    /// Under an environment filter (`matches`, described as `filter`), a pipeline that lists its
    /// deploy jobs ([`CiContext::environment_jobs`]) is the deployment its matching job made:
    /// that job's environment and status (the latest that ran, when several match). `Err` says
    /// why it did not deploy there (no such job, or one that never ran: `manual`, `skipped`,
    /// `created`). `None` when the record lists no deploy jobs (the filter applies as usual).
    pub fn deployed_to(
        &self,
        matches: &dyn Fn(&str) -> bool,
        filter: &str,
    ) -> Option<Result<CiContext, String>> {
        let jobs = self.environment_jobs.as_ref()?;
        let matching: Vec<&EnvironmentJob> =
            jobs.iter().filter(|j| matches(&j.environment)).collect();
        let ran = |j: &&&EnvironmentJob| {
            matches!(
                j.status.to_ascii_lowercase().as_str(),
                "success" | "failed" | "canceled"
            )
        };
        let Some(job) = matching.iter().filter(ran).max_by_key(|j| j.id) else {
            return Some(Err(match matching.first() {
                None => format!(
                    "the pipeline ran no job for an environment in {filter}: it did not deploy \
                     there"
                ),
                Some(j) => format!(
                    "deploy job {:?} to {:?} is {} (from {}): the pipeline did not deploy there",
                    j.name, j.environment, j.status, j.source
                ),
            }));
        };
        let mut ctx = self.clone();
        ctx.environment_jobs = None;
        ctx.context.retain(|c| c.key != "environment");
        ctx.add_context("environment", Some(job.environment.as_str()));
        ctx.status = Some(Sourced::new(
            job.status.to_ascii_lowercase(),
            format!("{} job {:?} ({}) status", job.source, job.name, job.id),
        ));
        Some(Ok(ctx))
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
