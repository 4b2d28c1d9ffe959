//! The options of `backfill` (which source, which records, how fast, which ledger), merged
//! from flags and `ALLSTACKS_*` variables like every setting, checked once. Problems are
//! collected, so the user sees them all; any of them exits 2 before anything is read or sent.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::{BackfillSelect, BackfillSource};
use crate::env::{Env, Sourced};
use crate::settings::{pick, pick_path};

/// The most POSTs in flight.
pub const MAX_CONCURRENCY: usize = 32;
pub const DEFAULT_CONCURRENCY: usize = 4;

/// A backfill's options, valid.
#[derive(Debug, Clone)]
pub struct Options {
    pub source: BackfillSource,
    /// `owner/name` (GitHub sources; git-tags: the `repo_name` sent).
    pub repo: Option<Sourced<String>>,
    pub workflow: Option<String>,
    pub branch: Option<String>,
    pub event: Option<String>,
    /// `--environment` names (deployments).
    pub environments: Vec<String>,
    /// A GitLab project id or path.
    pub project: Option<Sourced<String>>,
    pub pattern: String,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub limit: Option<u64>,
    pub concurrency: usize,
    pub ledger: Option<PathBuf>,
}

/// The variables of the options, named after their flags.
#[derive(Debug, Default, Deserialize)]
struct Vars {
    repo: Option<String>,
    workflow: Option<String>,
    branch: Option<String>,
    event: Option<String>,
    environment: Option<String>,
    project: Option<String>,
    pattern: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<String>,
    concurrency: Option<String>,
    ledger: Option<String>,
}

/// The source's name on the command line (`github-runs`, ...).
pub fn source_id(source: BackfillSource) -> &'static str {
    match source {
        BackfillSource::GithubRuns => "github-runs",
        BackfillSource::GithubDeployments => "github-deployments",
        BackfillSource::GitlabDeployments => "gitlab-deployments",
        BackfillSource::GitlabPipelines => "gitlab-pipelines",
        BackfillSource::GitTags => "git-tags",
    }
}

fn is_github(s: BackfillSource) -> bool {
    matches!(
        s,
        BackfillSource::GithubRuns | BackfillSource::GithubDeployments
    )
}

fn is_gitlab(s: BackfillSource) -> bool {
    matches!(
        s,
        BackfillSource::GitlabDeployments | BackfillSource::GitlabPipelines
    )
}

/// Merges and checks the options; `git_remote` is the repository's `owner/name` (or
/// `group/sub/name`) from the git remote, asked only when nothing else names it.
pub fn options(
    args: BackfillSelect,
    source: BackfillSource,
    env: &Env,
    git_remote: &dyn Fn() -> Option<Sourced<String>>,
    errors: &mut Vec<String>,
) -> Options {
    errors.extend(misplaced(&args, source));
    let vars: Vars = envy::prefixed("ALLSTACKS_")
        .from_iter(env.pairs())
        .unwrap_or_default();
    let now = crate::timefmt::now_epoch();
    let mut when = |v: Option<Sourced<String>>| {
        let v = v?;
        parse_when(&v.value, now)
            .map_err(|e| errors.push(format!("{}: {e} (from {})", flag_of(&v.source), v.source)))
            .ok()
    };
    let since = when(pick(args.since, "--since", vars.since));
    let until = when(pick(args.until, "--until", vars.until));
    let mut opts = Options {
        source,
        repo: None,
        workflow: pick(args.workflow, "--workflow", vars.workflow).map(|w| w.value),
        branch: pick(args.branch, "--branch", vars.branch).map(|b| b.value),
        event: pick(args.event, "--event", vars.event).map(|e| e.value),
        environments: environments(args.environment, vars.environment),
        project: None,
        pattern: pick(args.pattern, "--pattern", vars.pattern)
            .map_or_else(|| "*".to_string(), |p| p.value),
        since,
        until,
        limit: number(pick(args.limit, "--limit", vars.limit), 1, u64::MAX, errors),
        concurrency: number(
            pick(args.concurrency, "--concurrency", vars.concurrency),
            1,
            MAX_CONCURRENCY as u64,
            errors,
        )
        .map_or(DEFAULT_CONCURRENCY, |n| n as usize),
        ledger: pick_path(args.ledger, vars.ledger),
    };
    if let (Some(s), Some(u)) = (since, until) {
        if s > u {
            errors.push("--since is after --until: no record can be both".into());
        }
    }
    let repo = || {
        pick(args.repo, "--repo", vars.repo)
            .or_else(|| env.sourced("GITHUB_REPOSITORY"))
            .or_else(git_remote)
    };
    if is_github(source) || source == BackfillSource::GitTags {
        opts.repo = repo();
        check_repo(&opts, errors);
    }
    if is_gitlab(source) {
        opts.project = pick(args.project, "--project", vars.project)
            .or_else(|| env.sourced("CI_PROJECT_ID"))
            .or_else(git_remote);
        check_project(&opts, errors);
    }
    if source == BackfillSource::GithubRuns {
        check_workflow(&opts, errors);
    }
    opts
}

/// Flags given for a source they do not apply to: a mistake worth stopping for (variables are
/// left alone: one environment may serve several sources).
fn misplaced(args: &BackfillSelect, source: BackfillSource) -> Vec<String> {
    let runs = source == BackfillSource::GithubRuns;
    let deployments = matches!(
        source,
        BackfillSource::GithubDeployments | BackfillSource::GitlabDeployments
    );
    let checks = [
        ("--workflow", args.workflow.is_some(), runs),
        ("--branch", args.branch.is_some(), runs),
        ("--event", args.event.is_some(), runs),
        ("--environment", !args.environment.is_empty(), deployments),
        ("--project", args.project.is_some(), is_gitlab(source)),
        (
            "--repo",
            args.repo.is_some(),
            is_github(source) || source == BackfillSource::GitTags,
        ),
        (
            "--pattern",
            args.pattern.is_some(),
            source == BackfillSource::GitTags,
        ),
    ];
    checks
        .iter()
        .filter(|(_, given, applies)| *given && !applies)
        .map(|(flag, _, _)| {
            format!(
                "{flag} does not apply to backfill {}; see `allstacks-cd backfill --help`",
                source_id(source)
            )
        })
        .collect()
}

/// `ALLSTACKS_SINCE` → `--since`, for messages.
fn flag_of(source: &str) -> String {
    match source.strip_prefix("ALLSTACKS_") {
        Some(v) => format!("--{}", v.to_ascii_lowercase().replace('_', "-")),
        None => source.to_string(),
    }
}

fn environments(flags: Vec<String>, var: Option<String>) -> Vec<String> {
    let list: Vec<String> = if flags.is_empty() {
        var.map(|v| v.split(',').map(str::to_string).collect())
            .unwrap_or_default()
    } else {
        flags
    };
    list.into_iter()
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .collect()
}

fn number(v: Option<Sourced<String>>, min: u64, max: u64, errors: &mut Vec<String>) -> Option<u64> {
    let v = v?;
    match v.value.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            let range = if max == u64::MAX {
                format!("a whole number from {min}")
            } else {
                format!("a whole number from {min} to {max}")
            };
            errors.push(format!(
                "{} must be {range}, got {:?} (from {})",
                flag_of(&v.source),
                v.value,
                v.source
            ));
            None
        }
    }
}

/// A point in time for `--since`/`--until`: RFC 3339 or epoch seconds, or an age before now
/// (`90d`, `12h`, `1d12h`).
pub fn parse_when(text: &str, now: i64) -> Result<i64, String> {
    if let Ok(t) = crate::timefmt::parse_timestamp(text) {
        return Ok(t);
    }
    match crate::timefmt::parse_duration(text) {
        Ok(age) => Ok(now - age),
        Err(_) => Err(format!(
            "expected an RFC 3339 time (2024-01-01T00:00:00Z), epoch seconds, or an age such as \
             90d or 12h, got {text:?}"
        )),
    }
}

/// GitHub's `owner/name`: two parts of letters, digits, `.`, `_` and `-`.
fn check_repo(o: &Options, errors: &mut Vec<String>) {
    let Some(repo) = &o.repo else {
        errors.push(format!(
            "the repository is unknown: pass --repo OWNER/NAME (or ALLSTACKS_REPO), or run in a \
             checkout with an origin remote (backfill {})",
            source_id(o.source)
        ));
        return;
    };
    let part = |p: &str| {
        !p.is_empty()
            && p != "."
            && p != ".."
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    let ok = if o.source == BackfillSource::GitTags {
        // Only sent as `repo_name`: any name the contract takes (`group/sub/name` too).
        !repo.value.trim().is_empty() && !repo.value.chars().any(char::is_control)
    } else {
        // It goes into API paths.
        matches!(repo.value.split('/').collect::<Vec<_>>()[..], [a, b] if part(a) && part(b))
    };
    if !ok {
        errors.push(format!(
            "repo must be OWNER/NAME, got {:?} (from {})",
            repo.value, repo.source
        ));
    }
}

fn check_project(o: &Options, errors: &mut Vec<String>) {
    match &o.project {
        None => errors.push(
            "the GitLab project is unknown: pass --project ID_OR_PATH (or ALLSTACKS_PROJECT), \
             or run in a GitLab job (CI_PROJECT_ID) or a checkout with an origin remote"
                .into(),
        ),
        Some(p) if p.value.trim().is_empty() || p.value.chars().any(char::is_control) => errors
            .push(format!(
                "project must be a GitLab project id or path, got {:?} (from {})",
                p.value, p.source
            )),
        Some(_) => {}
    }
}

fn check_workflow(o: &Options, errors: &mut Vec<String>) {
    match &o.workflow {
        None => errors.push(
            "backfill github-runs needs --workflow FILE_OR_ID: the workflow whose runs are \
             deployments, e.g. --workflow deploy.yml"
                .into(),
        ),
        Some(w)
            if w.is_empty()
                || !w
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) =>
        {
            errors.push(format!(
                "--workflow must be a workflow file name (deploy.yml) or id, got {w:?}"
            ))
        }
        Some(_) => {}
    }
}

/// The ledger's path: `--ledger`, else `{state dir}/backfill/{source}-{repo or project}.ledger`
/// (`None` when there is no state dir, i.e. no `XDG_STATE_HOME`, `HOME` or `LOCALAPPDATA`).
pub fn ledger_path(o: &Options, env: &Env) -> Option<(PathBuf, bool)> {
    if let Some(path) = &o.ledger {
        return Some((path.clone(), false));
    }
    let name = o.repo.as_ref().or(o.project.as_ref())?;
    let dir = crate::outbox::state_dir(env)?.join("backfill");
    let file = super::ledger::file_name(source_id(o.source), &name.value);
    Some((dir.join(file), true))
}

/// The directory of a default ledger, created private (like the outbox's).
pub fn ensure_ledger_dir(path: &Path) -> Result<(), String> {
    match path.parent() {
        Some(dir) => crate::outbox::ensure_private_dir(dir),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when() {
        let now = 1_800_000_000;
        assert_eq!(parse_when("90d", now), Ok(now - 90 * 86_400));
        assert_eq!(parse_when("12h", now), Ok(now - 12 * 3600));
        assert_eq!(parse_when("1704067200", now), Ok(1_704_067_200));
        assert_eq!(parse_when("2024-01-01T00:00:00Z", now), Ok(1_704_067_200));
        assert!(parse_when("yesterday", now).is_err());
        assert!(parse_when("-5d", now).is_err());
    }
}
