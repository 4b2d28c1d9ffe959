//! How providers read their variables: composite ids, repository slugs, times in seconds or
//! milliseconds, status words and exit codes, branches from refs. A malformed value becomes a
//! warning on the context and `None`, never an error: the git remote or a default may still
//! tell.

use crate::context::CiContext;
use crate::env::{Env, Sourced};

/// `{owner}/{name}` from two variables (`DRONE_REPO_OWNER`, `DRONE_REPO_NAME`), with both
/// names as the source; `None` unless both are set.
pub(super) fn slug_from_parts(env: &Env, owner: &str, name: &str) -> Option<Sourced<String>> {
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
pub(super) fn time_from_millis(ctx: &mut CiContext, env: &Env, key: &str) -> Option<Sourced<i64>> {
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
pub(super) fn time_from_seconds_or_millis(
    ctx: &mut CiContext,
    env: &Env,
    key: &str,
) -> Option<Sourced<i64>> {
    let raw = env.get(key)?.trim();
    if raw.len() >= 13 && raw.bytes().all(|b| b.is_ascii_digit()) {
        return time_from_millis(ctx, env, key);
    }
    ctx.time_from(env, key)
}

/// The values of all `keys` joined with `-` (composite job ids such as
/// `{GITHUB_RUN_ID}-{GITHUB_RUN_ATTEMPT}`), with the names as the source. `None` unless every
/// key is set, so a half-known id is never sent.
pub(super) fn joined(env: &Env, keys: &[&str]) -> Option<Sourced<String>> {
    let values = keys
        .iter()
        .map(|k| env.get(k))
        .collect::<Option<Vec<&str>>>()?;
    Some(Sourced::new(values.join("-"), keys.join(", ")))
}

/// `owner/name` from the clone URL in `key`; an unreadable URL is a warning, not an error,
/// because the git remote may still tell us.
pub(super) fn slug_from_url(ctx: &mut CiContext, env: &Env, key: &str) -> Option<Sourced<String>> {
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
pub(super) fn status_from(
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
pub(super) fn exit_code_from(ctx: &mut CiContext, env: &Env, key: &str) -> Option<Sourced<String>> {
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
pub(super) fn branch_from_ref(r: &str) -> Option<&str> {
    match r.strip_prefix("refs/heads/") {
        Some(branch) => Some(branch),
        None if r.starts_with("refs/") => None,
        None => Some(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ci::test_support::*;

    #[test]
    fn helpers() {
        assert_eq!(branch_from_ref("refs/heads/feature/x"), Some("feature/x"));
        assert_eq!(branch_from_ref("refs/tags/v1"), None);
        assert_eq!(branch_from_ref("refs/pull/7/merge"), None);
        assert_eq!(branch_from_ref("main"), Some("main"));
        let env = Env::from_pairs([("A", "1"), ("B", "x")]);
        assert_eq!(joined(&env, &["A", "B"]), s("1-x", "A, B"));
        assert_eq!(joined(&env, &["A", "C"]), None);
        for on in ["true", "True", "TRUE", "1", "yes", "circleci", " true "] {
            assert!(Env::from_pairs([("M", on)]).marker("M"), "{on:?}");
        }
        for off in ["", " ", "false", "False", "FALSE", "0", " 0 "] {
            assert!(!Env::from_pairs([("M", off)]).marker("M"), "{off:?}");
        }
        assert!(!Env::default().marker("M"));
    }

    #[test]
    fn time_and_slug_helpers() {
        let env = Env::from_pairs([
            ("MS", "1717228800123"),
            ("NEG", "-1500"),
            ("HUGE", "99999999999999999999999"),
            ("SECS", "1717228800"),
            ("OWNER", "acme/"),
            ("NAME", "/web"),
        ]);
        let mut ctx = CiContext::new(Provider::Local);
        assert_eq!(
            time_from_millis(&mut ctx, &env, "MS"),
            t(1_717_228_800, "MS")
        );
        assert_eq!(time_from_millis(&mut ctx, &env, "NEG"), t(-2, "NEG"));
        assert_eq!(time_from_millis(&mut ctx, &env, "HUGE"), None);
        assert_eq!(time_from_millis(&mut ctx, &env, "UNSET"), None);
        assert_eq!(ctx.warnings.len(), 1, "{:?}", ctx.warnings);
        assert_eq!(
            time_from_seconds_or_millis(&mut ctx, &env, "SECS"),
            t(1_717_228_800, "SECS")
        );
        assert_eq!(
            time_from_seconds_or_millis(&mut ctx, &env, "MS"),
            t(1_717_228_800, "MS")
        );
        assert_eq!(
            slug_from_parts(&env, "OWNER", "NAME"),
            s("acme/web", "OWNER, NAME")
        );
        assert_eq!(slug_from_parts(&env, "OWNER", "UNSET"), None);
    }
}
