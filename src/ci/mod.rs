//! CI provider detection: what the CI system's own variables say about the job.
//!
//! Each provider is a pure function `detect(&Env) -> Option<CiContext>` in its own file;
//! [`detect`] tries them in SPEC.md's order and falls back to [`Provider::Local`]. Nothing here
//! touches git, the network or the process: `report` combines this with git and the GitHub API.

use crate::context::{CiContext, Provider};
use crate::env::Env;

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
mod vars;
mod vela;
mod vercel;
mod woodpecker;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

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
