//! Tests of detection as a whole (`ci::detect`), over every provider and fixture: the order
//! of the detectors is SPEC.md's, each fixture is detected as its own provider and matches
//! exactly one detector (so the order never decides between two), and markers count unless
//! `false` or `0`. That no value makes detection panic is `proptests.rs`.

use std::collections::BTreeSet;
use std::fs;

use super::test_support::*;
use super::*;

// Detection order and invariants over every fixture

#[test]
fn no_provider_is_local() {
    assert_eq!(detect(&Env::default()), CiContext::new(Provider::Local));
    let env = Env::from_pairs([("CI", "true"), ("HOME", "/home/me"), ("DRONE", "false")]);
    assert_eq!(detect(&env), CiContext::new(Provider::Local));
}

#[test]
fn first_provider_in_spec_order_wins() {
    let mut env = fixture("github", "push");
    env.insert("GITLAB_CI", "true");
    env.insert("JENKINS_URL", "https://jenkins.example.com/");
    assert_eq!(detect(&env).provider, Provider::GitHub);

    let mut env = fixture("drone", "push");
    env.insert("TEAMCITY_VERSION", "2024.03");
    assert_eq!(detect(&env).provider, Provider::TeamCity);
}

/// Every fixture is detected as the provider its folder names, and only ever yields the
/// context keys SPEC.md allows, each once.
#[test]
fn every_fixture_detects_its_provider() {
    // `environment_tier` and `environment_url` from spec/deployments.md (GitLab).
    const KEYS: [&str; 9] = [
        "pipeline_url",
        "job_url",
        "branch",
        "environment",
        "environment_tier",
        "environment_url",
        "workflow",
        "run_attempt",
        "trigger_event",
    ];
    let mut seen = 0;
    let dir = root().join("tests/fixtures/env");
    for provider_entry in fs::read_dir(&dir).expect("fixture dir") {
        let provider_path = provider_entry.expect("entry").path();
        let provider = provider_path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 name")
            .to_string();
        for case_entry in fs::read_dir(&provider_path).expect("provider dir") {
            let case_path = case_entry.expect("entry").path();
            let case = case_path
                .file_stem()
                .and_then(|n| n.to_str())
                .expect("utf-8 name")
                .to_string();
            let ctx = detect(&fixture(&provider, &case));
            assert_eq!(provider_dir(ctx.provider), provider, "{provider}/{case}");
            for (i, field) in ctx.context.iter().enumerate() {
                assert!(
                    KEYS.contains(&field.key),
                    "{provider}/{case}: {}",
                    field.key
                );
                assert!(
                    ctx.context[..i].iter().all(|c| c.key != field.key),
                    "{provider}/{case}: {} twice",
                    field.key
                );
            }
            assert!(ctx.commit_sha.is_some(), "{provider}/{case}: no commit");
            // Cloudflare Pages has no build id, nor a Heroku release phase without dyno
            // metadata: SPEC.md's `{sha}-{start}` job id applies.
            let no_id = provider == "cloudflare-pages"
                || (provider == "heroku" && case == "release_without_metadata");
            assert_eq!(
                ctx.pipeline_id.is_none(),
                no_id,
                "{provider}/{case}: pipeline id {:?}",
                ctx.pipeline_id
            );
            seen += 1;
        }
    }
    assert!(seen >= 60, "only {seen} fixtures found");
}

/// A marker set to another value than `true` (`CIRCLECI=1` in some images) still detects its
/// provider; `false` and `0` switch it off. GitLab is the exception: `GITLAB_CI=false` is
/// gitlab-ci-local, which is still GitLab.
#[test]
fn markers_count_unless_false_or_zero() {
    let cases = [
        ("circleci", "workflow", "CIRCLECI", Provider::CircleCi),
        ("azure", "github_repo", "TF_BUILD", Provider::Azure),
        ("buildkite", "build", "BUILDKITE", Provider::Buildkite),
        ("travis", "push", "TRAVIS", Provider::Travis),
        ("drone", "push", "DRONE", Provider::Drone),
        ("teamcity", "build", "TEAMCITY_VERSION", Provider::TeamCity),
        ("jenkins", "multibranch", "JENKINS_URL", Provider::Jenkins),
    ];
    for (dir, case, key, provider) in cases {
        // Jenkins' other marker would still detect it.
        let base = Env::from_pairs(
            fixture(dir, case)
                .pairs()
                .filter(|(k, _)| k != "JENKINS_HOME"),
        );
        for on in ["1", "yes", "TRUE", "True"] {
            let mut env = base.clone();
            env.insert(key, on);
            assert_eq!(detect(&env).provider, provider, "{key}={on}");
        }
        for off in ["0", "false", "False"] {
            let mut env = base.clone();
            env.insert(key, off);
            assert_ne!(detect(&env).provider, provider, "{key}={off}");
        }
    }
    let mut env = fixture("gitlab", "pipeline");
    env.insert("GITLAB_CI", "0");
    assert_eq!(detect(&env).provider, Provider::GitLab);
}

// Detection order and invariants over every provider

/// The detectors run in SPEC.md's order: the first eleven, then `spec/providers.md`'s table.
#[test]
fn detectors_are_in_spec_order() {
    let ids: Vec<&str> = DETECTORS.iter().map(|(p, _)| p.id()).collect();
    assert_eq!(
        ids,
        [
            "github-actions",
            "gitlab-ci",
            "jenkins",
            "circleci",
            "bitbucket-pipelines",
            "azure-pipelines",
            "buildkite",
            "travis-ci",
            "teamcity",
            "drone",
            "woodpecker",
            "appveyor",
            "aws-codebuild",
            "bitrise",
            "buddy",
            "codefresh",
            "bamboo",
            "cirrus-ci",
            "cloudflare-pages",
            "netlify",
            "vercel",
            "render",
            "heroku",
            "semaphore",
            "vela",
            "harness",
            "screwdriver",
            "codeship",
            "jetbrains-space",
            "scrutinizer",
        ]
    );
    for (provider, detect) in DETECTORS {
        assert_eq!(
            detect(&Env::default()),
            None,
            "{} on an empty environment",
            provider.id()
        );
    }
}

/// No later provider can steal an earlier one's fixture, nor an earlier one a later one's:
/// every fixture under `tests/fixtures/env/<dir>/` is matched by its own detector and by no
/// other, whatever the order, and every provider has a fixture.
#[test]
fn every_fixture_matches_exactly_one_detector() {
    let mut covered = BTreeSet::new();
    let mut seen = 0;
    for dir_entry in fs::read_dir(root().join("tests/fixtures/env")).expect("fixture dir") {
        let dir_path = dir_entry.expect("entry").path();
        let dir = dir_path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 name")
            .to_string();
        for case_entry in fs::read_dir(&dir_path).expect("provider dir") {
            let case_path = case_entry.expect("entry").path();
            let case = case_path
                .file_stem()
                .and_then(|n| n.to_str())
                .expect("utf-8 name")
                .to_string();
            let env = fixture(&dir, &case);
            let matched: Vec<Provider> = DETECTORS
                .iter()
                .filter(|(_, detect)| detect(&env).is_some())
                .map(|(p, _)| *p)
                .collect();
            let names: Vec<&str> = matched.iter().map(|p| provider_dir(*p)).collect();
            assert_eq!(names, [dir.as_str()], "{dir}/{case}");
            assert_eq!(detect(&env).provider, matched[0], "{dir}/{case}");
            covered.insert(matched[0].id());
            seen += 1;
        }
    }
    let missing: Vec<&str> = DETECTORS
        .iter()
        .map(|(p, _)| p.id())
        .filter(|id| !covered.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "providers without a fixture: {missing:?}"
    );
    assert!(seen >= 60, "only {seen} fixtures");
}
