//! What the tests of every provider share: their env fixtures under `tests/fixtures/env/`, loaded
//! and detected, and short ways to write the expected [`CiContext`]. A provider's tests compare
//! each fixture's whole `CiContext`, so every field, its source and the context fields (in
//! order) are checked, and so is everything that must stay `None`.

use std::fs;
use std::path::{Path, PathBuf};

pub(super) use super::detect;
pub(super) use crate::context::{CiContext, ContextField, Provider};
pub(super) use crate::env::{Env, Sourced};

pub(super) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub(super) fn fixture_path(provider: &str, case: &str) -> PathBuf {
    root()
        .join("tests/fixtures/env")
        .join(provider)
        .join(format!("{case}.env"))
}

/// Loads a fixture; a relative `GITHUB_EVENT_PATH` is taken relative to the crate root.
pub(super) fn fixture(provider: &str, case: &str) -> Env {
    let path = fixture_path(provider, case);
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut env = Env::from_env_file(&text);
    if let Some(event) = env.get("GITHUB_EVENT_PATH").map(PathBuf::from) {
        if event.is_relative() {
            env.insert(
                "GITHUB_EVENT_PATH",
                root().join(event).to_string_lossy().into_owned(),
            );
        }
    }
    env
}

pub(super) fn s(value: &str, source: &str) -> Option<Sourced<String>> {
    Some(Sourced::new(value.to_string(), source))
}

pub(super) fn t(value: i64, source: &str) -> Option<Sourced<i64>> {
    Some(Sourced::new(value, source))
}

pub(super) fn fields(pairs: &[(&'static str, &str)]) -> Vec<ContextField> {
    pairs
        .iter()
        .map(|(key, value)| ContextField::text(key, *value))
        .collect()
}

/// Detects and splits off the warnings, so the rest can be compared exactly.
pub(super) fn detect_fixture(provider: &str, case: &str) -> (CiContext, Vec<String>) {
    let mut ctx = detect(&fixture(provider, case));
    let warnings = std::mem::take(&mut ctx.warnings);
    (ctx, warnings)
}

pub(super) fn assert_one_warning(warnings: &[String], starts_with: &str) {
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with(starts_with),
        "warning {:?} should start with {starts_with:?}",
        warnings[0]
    );
}

pub(super) fn provider_dir(provider: Provider) -> &'static str {
    match provider {
        Provider::GitHub => "github",
        Provider::GitLab => "gitlab",
        Provider::Jenkins => "jenkins",
        Provider::CircleCi => "circleci",
        Provider::Bitbucket => "bitbucket",
        Provider::Azure => "azure",
        Provider::Buildkite => "buildkite",
        Provider::Travis => "travis",
        Provider::TeamCity => "teamcity",
        Provider::Drone => "drone",
        Provider::Woodpecker => "woodpecker",
        // The providers of spec/providers.md keep their fixtures under their id.
        other => other.id(),
    }
}
