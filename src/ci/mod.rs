//! CI provider detection: what the CI system's own variables say about the job.
//!
//! Each provider is a pure function `detect(&Env) -> Option<CiContext>` in its own file;
//! [`detect`] tries them in SPEC.md's order and falls back to [`Provider::Local`]. Nothing here
//! touches git, the network or the process: `report` combines this with git and the GitHub API.

use crate::context::{CiContext, Provider};
use crate::env::{Env, Sourced};

mod appveyor;
mod azure;
mod bamboo;
mod bitbucket;
mod bitrise;
mod buddy;
mod buildkite;
mod circleci;
mod cirrus;
mod cloudflare_pages;
mod codebuild;
mod codefresh;
mod codeship;
mod drone;
mod github;
mod gitlab;
mod harness;
mod heroku;
mod jenkins;
mod jetbrains_space;
mod netlify;
mod render;
mod screwdriver;
mod scrutinizer;
mod semaphore;
mod teamcity;
mod travis;
mod vela;
mod vercel;
mod woodpecker;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_more;

/// Detects the CI provider and what its variables say; `Provider::Local` when none matches.
pub fn detect(env: &Env) -> CiContext {
    detect_provider(env).unwrap_or_else(|| CiContext::new(Provider::Local))
}

/// One provider's detector: `None` unless its marker variables are set.
type Detector = fn(&Env) -> Option<CiContext>;

/// Every detector in SPEC.md's order: the first eleven, then `spec/providers.md`'s table.
/// The order matters where markers overlap: GitLab and Woodpecker both set `CI_*` variables,
/// Woodpecker may set Drone-compatible ones and Harness always sets `DRONE=true`, so GitLab
/// and Drone rule those out explicitly (the tests check that every fixture matches exactly
/// one detector, so a new overlap cannot hide behind the order).
const DETECTORS: [(Provider, Detector); 30] = [
    (Provider::GitHub, github::detect),
    (Provider::GitLab, gitlab::detect),
    (Provider::Jenkins, jenkins::detect),
    (Provider::CircleCi, circleci::detect),
    (Provider::Bitbucket, bitbucket::detect),
    (Provider::Azure, azure::detect),
    (Provider::Buildkite, buildkite::detect),
    (Provider::Travis, travis::detect),
    (Provider::TeamCity, teamcity::detect),
    (Provider::Drone, drone::detect),
    (Provider::Woodpecker, woodpecker::detect),
    (Provider::AppVeyor, appveyor::detect),
    (Provider::CodeBuild, codebuild::detect),
    (Provider::Bitrise, bitrise::detect),
    (Provider::Buddy, buddy::detect),
    (Provider::Codefresh, codefresh::detect),
    (Provider::Bamboo, bamboo::detect),
    (Provider::Cirrus, cirrus::detect),
    (Provider::CloudflarePages, cloudflare_pages::detect),
    (Provider::Netlify, netlify::detect),
    (Provider::Vercel, vercel::detect),
    (Provider::Render, render::detect),
    (Provider::Heroku, heroku::detect),
    (Provider::Semaphore, semaphore::detect),
    (Provider::Vela, vela::detect),
    (Provider::Harness, harness::detect),
    (Provider::Screwdriver, screwdriver::detect),
    (Provider::Codeship, codeship::detect),
    (Provider::JetBrainsSpace, jetbrains_space::detect),
    (Provider::Scrutinizer, scrutinizer::detect),
];

/// The first provider whose marker variables are set, in [`DETECTORS`]' order.
///
/// Providers read variables through [`Env::sourced`] rather than an envy struct: every value
/// must carry its variable's name for `--dry-run`, and a struct would repeat each name twice.
fn detect_provider(env: &Env) -> Option<CiContext> {
    DETECTORS.iter().find_map(|(_, detect)| detect(env))
}

// Helpers shared by the provider files (private to `ci`).

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

/// Epoch **milliseconds** in `key` (CodeBuild's `CODEBUILD_START_TIME`) as epoch seconds; a
/// value that is not a whole number is a warning and `None`.
fn time_from_millis(ctx: &mut CiContext, env: &Env, key: &str) -> Option<Sourced<i64>> {
    let raw = env.get(key)?;
    match raw.trim().parse::<i64>() {
        Ok(ms) => Some(Sourced::new(ms.div_euclid(1000), key)),
        Err(_) => {
            ctx.warnings.push(format!(
                "ignoring {key}={raw:?}: expected epoch milliseconds"
            ));
            None
        }
    }
}

/// A time in `key` that may be epoch milliseconds (13 digits or more) or, like everywhere
/// else, epoch seconds or RFC 3339. For variables documented only as "the timestamp"
/// (Codefresh's `CF_BUILD_TIMESTAMP`): seconds have 10 digits until the year 2286.
fn time_from_seconds_or_millis(ctx: &mut CiContext, env: &Env, key: &str) -> Option<Sourced<i64>> {
    let raw = env.get(key)?.trim();
    if raw.len() >= 13 && raw.bytes().all(|b| b.is_ascii_digit()) {
        return time_from_millis(ctx, env, key);
    }
    ctx.time_from(env, key)
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
