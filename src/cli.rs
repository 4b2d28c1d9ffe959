//! Command-line types (clap). Nothing below `settings` sees these: they are turned once into
//! [`crate::settings::Settings`], merged with the `ALLSTACKS_*` variables.
//!
//! Variables are not read by clap (no `env` feature): an empty variable must count as unset
//! and detection must stay a pure function of an [`crate::env::Env`], so `settings` does the
//! merge. The help text names each variable instead.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{ArgAction, Args, Parser, Subcommand};

/// Report a CI/CD job (usually a deployment) to the Allstacks Custom CD webhook.
///
/// Works out the repository, commit, who triggered it, when it started and how it ended from
/// the CI provider and the git repository, validates every rule of the webhook, and posts it.
/// Every flag has an environment variable of the same name; flags win over variables.
#[derive(Debug, Parser)]
#[command(
    name = "allstacks-cd",
    version,
    about,
    long_about,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work out the job, validate it and POST it to the webhook.
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),
    /// Run CMD, time it, report Succeeded/Failed from its exit, then exit with CMD's code.
    ///
    /// The command always runs: a mistyped reporting flag or a missing `--` is printed as an
    /// error, and the command runs and is reported without it. Only --strict checks the
    /// settings first, and then nothing runs when they are invalid or incomplete (exit 2).
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
    /// Record "now" as the job's start, for a later `report` in the same job or workspace.
    #[command(after_help = START_HELP)]
    Start(StartArgs),
    /// Re-send the reports saved in the outbox, oldest first.
    #[command(after_help = FLUSH_HELP)]
    Flush(FlushArgs),
    /// Report past deployments: GitHub Actions runs or Deployments, GitLab deployments or
    /// pipelines, or the repository's tags, each exactly as a live report would have been.
    #[command(after_help = BACKFILL_HELP)]
    Backfill(Box<BackfillArgs>),
    /// Run the webhook relay: GitHub, GitLab, Argo CD and Flux deployments, queued and
    /// delivered.
    ///
    /// Each sender has its endpoint and its secret, and an endpoint without its secret answers
    /// 404: POST /github (ALLSTACKS_GITHUB_SECRET), /gitlab (ALLSTACKS_GITLAB_SECRET), /argocd
    /// (ALLSTACKS_ARGOCD_SECRET), /flux (ALLSTACKS_FLUX_SECRET); each also as *_SECRET_FILE.
    /// Which events count: ALLSTACKS_GITHUB_EVENTS (deployment_status, workflow_run) with
    /// ALLSTACKS_WORKFLOWS, ALLSTACKS_GITLAB_EVENTS (deployment, pipeline). GET /healthz,
    /// /readyz and /metrics need none. See docs/relay.md.
    ///
    /// With --explain FILE it only reads one webhook body and says what the relay would do with
    /// it: the job (as --dry-run prints one) and the route that takes it, or why it is ignored.
    #[command(
        after_help = SERVE_HELP,
        mut_arg("retries", |a| a.help(
            "Not used by serve: each queued job is tried once per round and backs off on its own \
             until ALLSTACKS_RELAY_MAX_AGE [env: ALLSTACKS_RETRIES]"
        ))
    )]
    Serve(ServeArgs),
    /// Check everything a first report can get wrong, without reporting anything.
    ///
    /// The settings (each with where it came from; the token masked), the webhook host's DNS,
    /// TCP and TLS (a GET on the webhook URL, which is not a job: any HTTP answer proves the
    /// path), the token's form, the outbox, the detected CI provider and the job a report would
    /// send (printed on stdout, as --dry-run does). No endpoint proves a token valid without
    /// posting a job: only a report does. Takes every flag of `report`. Exit 0 when all is
    /// well, 1 when something is wrong.
    #[command(after_help = CHECK_HELP)]
    Check(ReportArgs),
    /// Print the shell completion script for SHELL on stdout
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Print the manual page (roff) on stdout: allstacks-cd(1), or COMMAND's page
    #[command(after_help = MAN_EXAMPLES)]
    Man(ManArgs),
}

const SERVE_HELP: &str = "\
Reads the ALLSTACKS_* variables named above; the senders' secrets (ALLSTACKS_GITHUB_SECRET,
ALLSTACKS_GITLAB_SECRET, ALLSTACKS_ARGOCD_SECRET, ALLSTACKS_FLUX_SECRET, or *_SECRET_FILE);
ALLSTACKS_GITHUB_EVENTS, ALLSTACKS_WORKFLOWS, ALLSTACKS_GITLAB_EVENTS; GITLAB_TOKEN with
GITLAB_API_URL (GitLab start times, catch-up) and GITHUB_TOKEN with GITHUB_API_URL (catch-up);
the ALLSTACKS_RELAY_* knobs (docs/relay.md). --explain needs no secret and no connection setting.

Examples:
  ALLSTACKS_GITHUB_SECRET_FILE=/run/secrets/github allstacks-cd serve --listen 0.0.0.0:8080
  allstacks-cd serve --config relay.toml --log-format json
  allstacks-cd serve --config relay.toml --explain delivery.json --source github
  allstacks-cd serve --config relay.toml --explain - --source argocd < sync.json";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  allstacks-cd completions bash > ~/.local/share/bash-completion/completions/allstacks-cd
  allstacks-cd completions zsh > ~/.zfunc/_allstacks-cd     # with fpath+=(~/.zfunc) in .zshrc
  allstacks-cd completions fish > ~/.config/fish/completions/allstacks-cd.fish
  allstacks-cd completions powershell >> $PROFILE";

const MAN_EXAMPLES: &str = "\
Examples:
  allstacks-cd man | man -l -                           # read allstacks-cd(1) now
  allstacks-cd man --dir ~/.local/share/man/man1        # every page; then: man allstacks-cd-report";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// The shells of `completions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (allstacks-cd-COMMAND(1)); none: allstacks-cd(1)
    #[arg(value_name = "COMMAND", conflicts_with = "dir")]
    pub command: Option<String>,
    /// Write every page into DIR (created if missing) instead of printing one
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

const REPORT_HELP: &str = "\
Reads the ALLSTACKS_* variables named above, and the CI provider's own variables (GITHUB_*,
CI_*, ...; docs/detection.md). On GitHub, GITHUB_TOKEN and GITHUB_API_URL give the start time.

Examples:
  allstacks-cd report --status success
  ALLSTACKS_SERVICE_ID=1 allstacks-cd report --dry-run --status success
  allstacks-cd report --status \"$CI_JOB_STATUS\" --field environment=production";

const RUN_HELP: &str = "\
Reads the ALLSTACKS_* variables named above, and the CI provider's own variables (GITHUB_*,
CI_*, ...; docs/detection.md). A command ended by SIGINT or SIGTERM is cancelled
(--cancelled-as); by another signal, Failed.

Examples:
  allstacks-cd run -- ./deploy.sh production
  allstacks-cd run --job-type \"Production Deploy\" -- make deploy
  allstacks-cd run --strict -- kubectl apply -f k8s/";

const START_HELP: &str = "\
Reads ALLSTACKS_STATE_FILE and ALLSTACKS_JOB_START_TIME (on GitHub, RUNNER_TEMP for the default
file).

Examples:
  allstacks-cd start && ./deploy.sh; allstacks-cd report --status \"$?\"
  allstacks-cd start --job-start-time 2026-05-01T10:00:00Z";

const FLUSH_HELP: &str = "\
Reads ALLSTACKS_URL, ALLSTACKS_COMPANY_ID and ALLSTACKS_TOKEN (saved reports are sent only to the
endpoint configured now, unless --adopt), ALLSTACKS_OUTBOX (default
$XDG_STATE_HOME/allstacks-cd/outbox).

Examples:
  allstacks-cd flush --dry-run
  allstacks-cd flush --output json
  allstacks-cd flush --adopt";

const BACKFILL_HELP: &str = "\
Reads ALLSTACKS_URL, ALLSTACKS_COMPANY_ID, ALLSTACKS_TOKEN and the ALLSTACKS_* variables named
above; github-*: GITHUB_TOKEN (a token that can read Actions or Deployments) and GITHUB_API_URL
(default https://api.github.com); gitlab-*: GITLAB_TOKEN (else CI_JOB_TOKEN) and the API at
CI_API_V4_URL (inside a GitLab job), else GITLAB_API_URL, else CI_SERVER_URL/api/v4. See
docs/backfill.md.

Examples:
  allstacks-cd backfill github-runs --workflow deploy.yml --since 90d --dry-run
  allstacks-cd backfill gitlab-deployments --project acme/web --environment production
  allstacks-cd backfill git-tags --pattern 'v*' --limit 50";

const CHECK_HELP: &str = "\
Reads what `report` reads: the ALLSTACKS_* variables named above, the CI provider's variables,
HTTPS_PROXY/NO_PROXY and SSL_CERT_FILE.

Examples:
  allstacks-cd check
  allstacks-cd check --status success --service-id 7
  ALLSTACKS_URL=https://allstacks.example.com ALLSTACKS_COMPANY_ID=42 allstacks-cd check";

#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    #[command(flatten)]
    pub job: JobArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub job: JobArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
    /// The command to run and its arguments, best after `--`: everything from the first
    /// argument that is not an option belongs to the command.
    #[arg(trailing_var_arg = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Where to write the start time [env: ALLSTACKS_STATE_FILE]
    /// [default: $RUNNER_TEMP on GitHub, else .git/allstacks-cd-start.json, else ./.allstacks-cd-start.json]
    #[arg(long, value_name = "PATH")]
    pub state_file: Option<PathBuf>,
    /// The start time to record instead of now: epoch seconds or RFC 3339
    /// [env: ALLSTACKS_JOB_START_TIME]
    #[arg(long, value_name = "TIME", allow_negative_numbers = true)]
    pub job_start_time: Option<String>,
    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Debug, Args)]
pub struct FlushArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Also send the reports saved for another endpoint (a URL or company id since corrected)
    /// to the one configured now, after saying which endpoint each was saved for
    #[arg(long)]
    pub adopt: bool,
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// Where the history is read from
    #[arg(value_enum, value_name = "SOURCE")]
    pub source: BackfillSource,
    #[command(flatten)]
    pub select: BackfillSelect,
    #[command(flatten)]
    pub job: RecordJobArgs,
    #[command(flatten)]
    pub conn: RecordConnArgs,
    /// Print each payload as one line of JSON on stdout; send nothing, no ledger
    /// [env: ALLSTACKS_DRY_RUN]
    #[arg(long, help_heading = "Delivery")]
    pub dry_run: bool,
    /// `json` prints the counts as one JSON object on stdout [env: ALLSTACKS_OUTPUT]
    /// [default: text]
    #[arg(long, value_name = "FORMAT", help_heading = "Delivery", ignore_case = true,
          value_parser = output_values())]
    pub output: Option<String>,
}

/// The sources of `backfill`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackfillSource {
    /// Completed runs of one GitHub Actions workflow (`--workflow`)
    GithubRuns,
    /// GitHub Deployments, each with its latest status
    GithubDeployments,
    /// GitLab deployments that succeeded, failed or were canceled
    GitlabDeployments,
    /// Finished GitLab pipelines
    GitlabPipelines,
    /// The local repository's tags (`--pattern`)
    GitTags,
}

/// Which records of the source.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Backfill")]
pub struct BackfillSelect {
    /// GitHub repository, OWNER/NAME (github-*; git-tags: the repo_name sent)
    /// [env: ALLSTACKS_REPO] [default: GITHUB_REPOSITORY, else the git remote]
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
    /// The workflow whose runs are deployments: its file name or id (github-runs, required)
    /// [env: ALLSTACKS_WORKFLOW]
    #[arg(long, value_name = "FILE_OR_ID")]
    pub workflow: Option<String>,
    /// Only runs of this branch (github-runs) [env: ALLSTACKS_BRANCH]
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
    /// Only runs triggered by this event, e.g. push (github-runs) [env: ALLSTACKS_EVENT]
    #[arg(long, value_name = "EVENT")]
    pub event: Option<String>,
    /// Only deployments to this environment, repeatable (github-deployments,
    /// gitlab-deployments) [env: ALLSTACKS_ENVIRONMENT, comma-separated]
    #[arg(long = "environment", value_name = "NAME")]
    pub environment: Vec<String>,
    /// GitLab project id or path (gitlab-*)
    /// [env: ALLSTACKS_PROJECT] [default: CI_PROJECT_ID, else the git remote's path]
    #[arg(long, value_name = "ID_OR_PATH")]
    pub project: Option<String>,
    /// Tags to report, a glob with `*` (git-tags) [env: ALLSTACKS_PATTERN] [default: *]
    #[arg(long, value_name = "GLOB")]
    pub pattern: Option<String>,
    /// Only records created at or after WHEN: RFC 3339, epoch seconds, or an age like 90d,
    /// 12h [env: ALLSTACKS_SINCE] [default: everything]
    #[arg(long, value_name = "WHEN", allow_negative_numbers = true)]
    pub since: Option<String>,
    /// Only records created at or before WHEN (same forms as --since) [env: ALLSTACKS_UNTIL]
    #[arg(long, value_name = "WHEN", allow_negative_numbers = true)]
    pub until: Option<String>,
    /// Send (or print) at most N jobs, newest first [env: ALLSTACKS_LIMIT]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub limit: Option<String>,
    /// POSTs in flight, 1 to 32 [env: ALLSTACKS_CONCURRENCY] [default: 4]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub concurrency: Option<String>,
    /// The file of delivered job ids [env: ALLSTACKS_LEDGER]
    /// [default: $XDG_STATE_HOME/allstacks-cd/backfill/SOURCE-REPO.ledger]
    #[arg(long, value_name = "FILE")]
    pub ledger: Option<PathBuf>,
}

/// The job's fields and how to work them out.
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Job")]
pub struct JobArgs {
    /// ID of the Custom CD service (integer, required) [env: ALLSTACKS_SERVICE_ID]
    #[arg(long, value_name = "ID", allow_negative_numbers = true)]
    pub service_id: Option<String>,
    /// success, failed, on hold, cancelled, skipped, an exit code...; every accepted word is
    /// listed in docs/settings.md#status [env: ALLSTACKS_STATUS] [default: from the CI provider]
    #[arg(long, value_name = "WORD", allow_negative_numbers = true)]
    pub status: Option<String>,
    /// Job ID [env: ALLSTACKS_JOB_ID] [default: the CI run/pipeline or job id]
    #[arg(long, value_name = "ID", allow_negative_numbers = true)]
    pub job_id: Option<String>,
    /// Full commit SHA; a short SHA or ref is resolved through git [env: ALLSTACKS_COMMIT_SHA]
    /// [default: the CI commit, else git HEAD]
    #[arg(long, value_name = "SHA")]
    pub commit_sha: Option<String>,
    /// Repository id [env: ALLSTACKS_REPO_ID] [default: the CI provider's id]
    #[arg(long, value_name = "ID", allow_negative_numbers = true)]
    pub repo_id: Option<String>,
    /// Repository name, owner/name [env: ALLSTACKS_REPO_NAME]
    /// [default: the CI slug, else the origin remote]
    #[arg(long, value_name = "NAME")]
    pub repo_name: Option<String>,
    /// Email or username of who triggered the job [env: ALLSTACKS_TRIGGERED_BY]
    #[arg(long, value_name = "USER")]
    pub triggered_by: Option<String>,
    /// Job type, e.g. "Production Deploy" [env: ALLSTACKS_JOB_TYPE]
    /// [default: omitted; the server uses CUSTOM_CD_JOB]
    #[arg(long, value_name = "TYPE")]
    pub job_type: Option<String>,
    /// Start time: epoch seconds or RFC 3339 [env: ALLSTACKS_JOB_START_TIME]
    #[arg(long, value_name = "TIME", allow_negative_numbers = true)]
    pub job_start_time: Option<String>,
    /// Duration: seconds, or 90s, 20m, 1h30m [env: ALLSTACKS_JOB_DURATION]
    /// [default: now minus the start]
    #[arg(long, value_name = "DURATION", allow_negative_numbers = true)]
    pub job_duration: Option<String>,
    /// Whether the default job id and start describe this CI job or the whole pipeline
    /// [env: ALLSTACKS_SCOPE] [default: pipeline]
    #[arg(long, value_name = "SCOPE", ignore_case = true, value_parser = scope_values())]
    pub scope: Option<String>,
    /// Optional field, repeatable; a repeated NAME makes a list. TYPE: string (default),
    /// integer, float, duration, timestamp [env: ALLSTACKS_FIELDS, one per line]
    #[arg(long = "field", value_name = "NAME[:TYPE]=VALUE")]
    pub fields: Vec<String>,
    /// Optional fields in the webhook's array format [env: ALLSTACKS_FIELDS_JSON]
    #[arg(long, value_name = "JSON")]
    pub fields_json: Option<String>,
    /// Do not add the automatic context fields (branch, pipeline_url, ...)
    /// [env: ALLSTACKS_NO_CONTEXT]
    #[arg(long)]
    pub no_context: bool,
    /// What a cancelled job is reported as [env: ALLSTACKS_CANCELLED_AS] [default: failed]
    #[arg(long, value_name = "AS", ignore_case = true, value_parser = cancelled_as_values())]
    pub cancelled_as: Option<String>,
    /// GitHub `${{ toJSON(needs) }}`: the status of a whole workflow from its jobs' results
    /// [env: ALLSTACKS_NEEDS_JSON]
    #[arg(long, value_name = "JSON")]
    pub needs_json: Option<String>,
    /// Where `start` wrote the start time [env: ALLSTACKS_STATE_FILE]
    #[arg(long, value_name = "PATH")]
    pub state_file: Option<PathBuf>,
    /// Report only jobs whose environment matches one of these names or globs (`*`, any case),
    /// comma-separated; the environment is a `--field environment=`, else --environment, else
    /// the CI provider's [env: ALLSTACKS_ENVIRONMENTS] [default: every job]
    #[arg(long, value_name = "LIST")]
    pub environments: Option<String>,
    /// The environment this job deploys to: the `environment` context field, and what
    /// --environments matches [env: ALLSTACKS_ENVIRONMENT] [default: the CI provider's]
    #[arg(long, value_name = "NAME")]
    pub environment: Option<String>,
    /// GitHub deployment states to report, comma-separated; `inactive` never is
    /// [env: ALLSTACKS_DEPLOYMENT_STATES] [default: success,failure,error]
    #[arg(long, value_name = "LIST")]
    pub deployment_states: Option<String>,
    /// The status when nothing else gives one (the GitHub Action passes its job's status here,
    /// below the status of a deployment_status or workflow_run event)
    /// [env: ALLSTACKS_DEFAULT_STATUS]
    #[arg(long, value_name = "WORD", allow_negative_numbers = true)]
    pub default_status: Option<String>,
}

/// Where and how to deliver.
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Delivery")]
pub struct ConnArgs {
    /// Server base URL, e.g. https://allstacks.example.com:8443 [env: ALLSTACKS_URL]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Company id in the webhook path [env: ALLSTACKS_COMPANY_ID]
    #[arg(long, value_name = "ID")]
    pub company_id: Option<String>,
    /// Personal access token; prefer the variable [env: ALLSTACKS_TOKEN]
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Read the token from a file [env: ALLSTACKS_TOKEN_FILE]
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Print the payload on stdout and send nothing [env: ALLSTACKS_DRY_RUN]
    #[arg(long)]
    pub dry_run: bool,
    /// Fail (exit 1 or 2) when reporting fails [env: ALLSTACKS_STRICT] [default: warn, exit 0]
    #[arg(long)]
    pub strict: bool,
    /// Total seconds for delivery, retries included [env: ALLSTACKS_TIMEOUT] [default: 60]
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub timeout: Option<String>,
    /// Extra attempts on transient failures [env: ALLSTACKS_RETRIES] [default: 3]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub retries: Option<String>,
    /// Extra PEM root certificates (self-hosted servers) [env: ALLSTACKS_CA_CERT]
    #[arg(long, value_name = "PATH")]
    pub ca_cert: Option<PathBuf>,
    /// Permit http:// to a non-loopback host (the token travels in clear)
    /// [env: ALLSTACKS_ALLOW_HTTP]
    #[arg(long)]
    pub allow_http: bool,
    /// Where undeliverable reports are kept [env: ALLSTACKS_OUTBOX]
    /// [default: $XDG_STATE_HOME/allstacks-cd/outbox outside CI, none in CI]
    #[arg(long, value_name = "DIR")]
    pub outbox: Option<PathBuf>,
    /// `json` prints a one-line JSON result on stdout [env: ALLSTACKS_OUTPUT]
    /// [default: text]
    #[arg(long, value_name = "FORMAT", ignore_case = true, value_parser = output_values())]
    pub output: Option<String>,
    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Debug, Args, Default, Clone, Copy)]
pub struct Verbosity {
    /// More output on stderr (-vv: debug)
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Less output on stderr (-qq: errors only)
    #[arg(short, long, action = ArgAction::Count, global = true, conflicts_with = "verbose")]
    pub quiet: u8,
}

/// The words of `--scope`, checked by clap so that a typo is a usage error (exit 2), like an
/// unknown flag; `settings` reads the value (and the variable, which clap does not see).
fn scope_values() -> PossibleValuesParser {
    PossibleValuesParser::new([
        PossibleValue::new("job"),
        PossibleValue::new("pipeline").aliases(["run", "workflow"]),
    ])
}

/// The words of `--output` (see [`scope_values`]).
fn output_values() -> PossibleValuesParser {
    PossibleValuesParser::new(["text", "json"])
}

/// The words of `--cancelled-as`, with the spellings `status::CancelledAs::parse` reads (see
/// [`scope_values`]).
fn cancelled_as_values() -> PossibleValuesParser {
    PossibleValuesParser::new([
        PossibleValue::new("failed").aliases(["fail", "failure"]),
        PossibleValue::new("on-hold").aliases(["on_hold", "onhold", "on hold", "hold"]),
        PossibleValue::new("skip").aliases(["skipped"]),
    ])
}

impl Verbosity {
    /// -2 (errors only) ..= 2 (debug); 0 is the default.
    pub fn level(self) -> i8 {
        (self.verbose.min(2) as i8) - (self.quiet.min(2) as i8)
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on [env: ALLSTACKS_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// Routes (TOML): which service id, job type and fields each deployment gets, and the
    /// [[catch_up]] hooks whose delivery logs are read back [env: ALLSTACKS_CONFIG]
    /// [default: every deployment to ALLSTACKS_SERVICE_ID]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// One line per request on stderr, as text or JSON [env: ALLSTACKS_LOG_FORMAT]
    /// [default: text] [possible values: text, json]
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
    #[command(flatten)]
    pub job: RecordJobArgs,
    #[command(flatten)]
    pub conn: RecordConnArgs,
    /// The queue directory [env: ALLSTACKS_OUTBOX]
    /// [default: $XDG_STATE_HOME/allstacks-cd/relay]
    #[arg(long, value_name = "DIR", help_heading = "Delivery")]
    pub outbox: Option<PathBuf>,
    /// Read the delivery logs of the [[catch_up]] hooks in --config once, queue what was
    /// missed, and exit (1 when a log could not be read), without listening
    #[arg(long)]
    pub catch_up_once: bool,
    /// Say what the relay would do with the webhook body in FILE (- reads stdin), under
    /// --config and the ALLSTACKS_* job settings, and exit: the job it would queue (the payload
    /// on stdout, where each value came from on stderr), the route that takes it and why each
    /// route before it does not; or why it is ignored (exit 0), or invalid (exit 2). Nothing
    /// is listened to, queued or sent
    #[arg(
        long,
        value_name = "FILE",
        requires = "source",
        conflicts_with = "catch_up_once",
        help_heading = "Explain"
    )]
    pub explain: Option<PathBuf>,
    /// The sender of the --explain body
    #[arg(
        long,
        value_enum,
        value_name = "SENDER",
        requires = "explain",
        help_heading = "Explain"
    )]
    pub source: Option<Sender>,
    /// The X-GitHub-Event or X-Gitlab-Event the --explain body came with (deployment_status,
    /// workflow_run, ping; "Deployment Hook", "Pipeline Hook") [default: GitHub's read from the
    /// body's keys; GitLab's from its object_kind]
    #[arg(
        long,
        value_name = "NAME",
        requires = "explain",
        help_heading = "Explain"
    )]
    pub event: Option<String>,
}

/// The senders of `serve` (`--source` of `--explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Sender {
    Github,
    Gitlab,
    Argocd,
    Flux,
}

/// The settings of `report` that hold for every job made from a record (`backfill`, `serve`):
/// the per-run ones (status, commit, times, ids) come from the record.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Jobs")]
pub struct RecordJobArgs {
    /// ID of the Custom CD service (integer; `serve`: unless --config routes say otherwise)
    /// [env: ALLSTACKS_SERVICE_ID]
    #[arg(long, value_name = "ID", allow_negative_numbers = true)]
    pub service_id: Option<String>,
    /// Job type, e.g. "Production Deploy" [env: ALLSTACKS_JOB_TYPE]
    #[arg(long, value_name = "TYPE")]
    pub job_type: Option<String>,
    /// Optional field for every job, repeatable (see report)
    /// [env: ALLSTACKS_FIELDS, one per line]
    #[arg(long = "field", value_name = "NAME[:TYPE]=VALUE")]
    pub fields: Vec<String>,
    /// Optional fields in the webhook's array format [env: ALLSTACKS_FIELDS_JSON]
    #[arg(long, value_name = "JSON")]
    pub fields_json: Option<String>,
    /// Do not add the context fields (branch, pipeline_url, ...) [env: ALLSTACKS_NO_CONTEXT]
    #[arg(long)]
    pub no_context: bool,
    /// What a cancelled job is reported as [env: ALLSTACKS_CANCELLED_AS] [default: failed]
    #[arg(long, value_name = "AS", ignore_case = true, value_parser = cancelled_as_values())]
    pub cancelled_as: Option<String>,
    /// Report only jobs whose environment matches one of these names or globs (`*`, any case),
    /// comma-separated [env: ALLSTACKS_ENVIRONMENTS] [default: every job]
    #[arg(long, value_name = "LIST")]
    pub environments: Option<String>,
    /// GitHub deployment states to report [env: ALLSTACKS_DEPLOYMENT_STATES]
    /// [default: success,failure,error]
    #[arg(long, value_name = "LIST")]
    pub deployment_states: Option<String>,
}

impl From<RecordJobArgs> for JobArgs {
    fn from(a: RecordJobArgs) -> JobArgs {
        JobArgs {
            service_id: a.service_id,
            job_type: a.job_type,
            fields: a.fields,
            fields_json: a.fields_json,
            no_context: a.no_context,
            cancelled_as: a.cancelled_as,
            environments: a.environments,
            deployment_states: a.deployment_states,
            ..JobArgs::default()
        }
    }
}

/// Where jobs made from records are delivered (`backfill`, `serve`): the connection of `report`
/// with its limits per job.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Delivery")]
pub struct RecordConnArgs {
    /// Server base URL, e.g. https://allstacks.example.com:8443 [env: ALLSTACKS_URL]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Company id in the webhook path [env: ALLSTACKS_COMPANY_ID]
    #[arg(long, value_name = "ID")]
    pub company_id: Option<String>,
    /// Personal access token; prefer the variable [env: ALLSTACKS_TOKEN]
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Read the token from a file [env: ALLSTACKS_TOKEN_FILE]
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Seconds for each delivery, retries included (backfill: and for each API call)
    /// [env: ALLSTACKS_TIMEOUT] [default: 60]
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub timeout: Option<String>,
    /// Extra attempts on transient failures, per delivery [env: ALLSTACKS_RETRIES] [default: 3]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub retries: Option<String>,
    /// Extra PEM root certificates (self-hosted servers) [env: ALLSTACKS_CA_CERT]
    #[arg(long, value_name = "PATH")]
    pub ca_cert: Option<PathBuf>,
    /// Permit http:// to a non-loopback webhook host (the token travels in clear)
    /// [env: ALLSTACKS_ALLOW_HTTP]
    #[arg(long)]
    pub allow_http: bool,
    #[command(flatten)]
    pub verbosity: Verbosity,
}

impl RecordConnArgs {
    /// The delivery flags as `report` has them, with what the command adds.
    pub fn into_conn(
        self,
        dry_run: bool,
        output: Option<String>,
        outbox: Option<PathBuf>,
    ) -> ConnArgs {
        ConnArgs {
            url: self.url,
            company_id: self.company_id,
            token: self.token,
            token_file: self.token_file,
            dry_run,
            // Operators' commands: a failure is always a failure.
            strict: true,
            timeout: self.timeout,
            retries: self.retries,
            ca_cert: self.ca_cert,
            allow_http: self.allow_http,
            outbox,
            output,
            verbosity: self.verbosity,
        }
    }
}
