//! No value of a provider's variables makes detection panic: a property test over every
//! provider, with the variables each one reads taken from its own code.

use proptest::prelude::*;

use super::*;

/// Variables that together detect one provider.
type MarkerSet = &'static [(&'static str, &'static str)];

/// Each provider's source and marker sets: the variables a provider reads are the string
/// literals in its code (its file above its tests) that look like variable names, so a
/// variable added later is covered without editing this list.
const SOURCES: [(Provider, &str, &[MarkerSet]); 30] = [
    (
        Provider::GitHub,
        include_str!("github.rs"),
        &[&[("GITHUB_ACTIONS", "true")]],
    ),
    (
        Provider::GitLab,
        include_str!("gitlab.rs"),
        &[&[("GITLAB_CI", "false")]],
    ),
    (
        Provider::Jenkins,
        include_str!("jenkins.rs"),
        &[&[("JENKINS_URL", "https://j/")]],
    ),
    (
        Provider::CircleCi,
        include_str!("circleci.rs"),
        &[&[("CIRCLECI", "1")]],
    ),
    (
        Provider::Bitbucket,
        include_str!("bitbucket.rs"),
        &[&[("BITBUCKET_BUILD_NUMBER", "7")]],
    ),
    (
        Provider::Azure,
        include_str!("azure.rs"),
        &[&[("TF_BUILD", "True")]],
    ),
    (
        Provider::Buildkite,
        include_str!("buildkite.rs"),
        &[&[("BUILDKITE", "true")]],
    ),
    (
        Provider::Travis,
        include_str!("travis.rs"),
        &[&[("TRAVIS", "true")]],
    ),
    (
        Provider::TeamCity,
        include_str!("teamcity.rs"),
        &[&[("TEAMCITY_VERSION", "2024.03")]],
    ),
    (
        Provider::Drone,
        include_str!("drone.rs"),
        &[&[("DRONE", "true"), ("CI", "drone")]],
    ),
    (
        Provider::Woodpecker,
        include_str!("woodpecker.rs"),
        &[&[("CI", "woodpecker")]],
    ),
    (
        Provider::AppVeyor,
        include_str!("appveyor.rs"),
        &[&[("APPVEYOR", "True")]],
    ),
    (
        Provider::CodeBuild,
        include_str!("codebuild.rs"),
        &[&[("CODEBUILD_BUILD_ID", "p:1")]],
    ),
    (
        Provider::Bitrise,
        include_str!("bitrise.rs"),
        &[&[("BITRISE_IO", "true")], &[("BITRISE_BUILD_SLUG", "abc")]],
    ),
    (
        Provider::Buddy,
        include_str!("buddy.rs"),
        &[&[("BUDDY", "true")], &[("BUDDY_WORKSPACE_ID", "1")]],
    ),
    (
        Provider::Codefresh,
        include_str!("codefresh.rs"),
        &[&[("CF_BUILD_ID", "abc")]],
    ),
    (
        Provider::Bamboo,
        include_str!("bamboo.rs"),
        &[&[("bamboo_buildKey", "A-B-J")], &[("bamboo_agentId", "1")]],
    ),
    (
        Provider::Cirrus,
        include_str!("cirrus.rs"),
        &[&[("CIRRUS_CI", "true")]],
    ),
    (
        Provider::CloudflarePages,
        include_str!("cloudflare_pages.rs"),
        &[&[("CF_PAGES", "1")]],
    ),
    (
        Provider::Netlify,
        include_str!("netlify.rs"),
        &[&[("NETLIFY", "true")]],
    ),
    (
        Provider::Vercel,
        include_str!("vercel.rs"),
        &[&[("VERCEL", "1")]],
    ),
    (
        Provider::Render,
        include_str!("render.rs"),
        &[&[("RENDER", "true")]],
    ),
    (
        Provider::Heroku,
        include_str!("heroku.rs"),
        &[
            &[("HEROKU_TEST_RUN_ID", "x")],
            &[("DYNO", "release.1"), ("SOURCE_VERSION", "abc")],
            &[("DYNO", "release.1"), ("HEROKU_SLUG_COMMIT", "abc")],
        ],
    ),
    (
        Provider::Semaphore,
        include_str!("semaphore.rs"),
        &[&[("SEMAPHORE", "true")]],
    ),
    (
        Provider::Vela,
        include_str!("vela.rs"),
        &[&[("VELA", "true")]],
    ),
    (
        Provider::Harness,
        include_str!("harness.rs"),
        &[
            &[("HARNESS_BUILD_ID", "7"), ("DRONE", "true")],
            &[("HARNESS_PIPELINE_ID", "p")],
        ],
    ),
    (
        Provider::Screwdriver,
        include_str!("screwdriver.rs"),
        &[&[("SCREWDRIVER", "true")]],
    ),
    (
        Provider::Codeship,
        include_str!("codeship.rs"),
        &[&[("CI_NAME", "codeship")]],
    ),
    (
        Provider::JetBrainsSpace,
        include_str!("jetbrains_space.rs"),
        &[&[("JB_SPACE_EXECUTION_NUMBER", "1")]],
    ),
    (
        Provider::Scrutinizer,
        include_str!("scrutinizer.rs"),
        &[&[("SCRUTINIZER", "true")]],
    ),
];

/// The quoted names in `source` that look like environment variables (`"CI_COMMIT_SHA"`,
/// `"bamboo_buildKey"`). `GITHUB_EVENT_PATH` is left out: it names a file to read, which
/// `tests/it/props.rs` covers with generated event files.
fn variables(source: &str) -> Vec<&str> {
    // The provider's code, not the tests beside it.
    let code = source.split("#[cfg(test)]").next().unwrap_or(source);
    let mut names: Vec<&str> = code
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            let upper = s.len() >= 2
                && s.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                && s.bytes().next().is_some_and(|b| b.is_ascii_uppercase());
            let bamboo = s.starts_with("bamboo_")
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            (upper || bamboo) && *s != "GITHUB_EVENT_PATH"
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

#[test]
fn every_provider_reads_the_variables_the_property_test_sets() {
    assert_eq!(
        SOURCES.map(|(p, _, _)| p),
        DETECTORS.map(|(p, _)| p),
        "one entry per detector, in order"
    );
    for (provider, source, markers) in SOURCES {
        let vars = variables(source);
        assert!(vars.len() >= 3, "{}: {vars:?}", provider.id());
        for set in markers {
            let env = Env::from_pairs(set.iter().copied());
            assert_eq!(detect(&env).provider, provider, "{set:?}");
        }
    }
    assert!(variables(include_str!("codebuild.rs")).contains(&"CODEBUILD_START_TIME"));
    assert!(variables(include_str!("bamboo.rs")).contains(&"bamboo_buildTimeStamp"));
}

/// Values a CI system might put in a variable, or that a broken one might: anything at all,
/// empty and blank, unicode, very long, numbers of every size (epoch seconds and
/// milliseconds, overflowing ones), malformed times, refs, and URLs of every shape.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(any::<char>(), 0..4000).prop_map(String::from_iter),
        Just(String::new()),
        Just(" ".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        Just("0".to_string()),
        Just("1".to_string()),
        "-?[0-9]{1,30}",
        "[0-9a-fA-F]{0,70}",
        "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2})?([.,][0-9]{0,9})?)?(Z|[+-][0-9]{1,2}(:?[0-9]{1,2})?)?",
        "refs/(heads|tags|pull|remotes)/[a-z/.]{0,12}",
        "origin/[a-z/]{0,12}",
        "(codepipeline|GitHub-Hookshot)/[a-z0-9]{0,8}",
        "(https?|ssh|s3|file|git)://([a-z]+(:[a-z]*)?@)?[a-z.-]{0,16}(:[0-9]{0,6})?(/[a-zA-Z0-9._~%-]{0,10}){0,6}(\\.git)?/?",
        "https://git-codecommit\\.[a-z0-9-]{0,12}\\.amazonaws\\.com/v1/repos/[a-z/]{0,10}",
        "([a-z]+@)?[a-z.]{0,10}:[a-zA-Z0-9/._-]{0,30}",
        "[a-zA-Z]/[a-z/]{0,12}",
        "[a-z]{0,6}(/[a-z]{0,6}){0,3}",
        "(passed|failed|stopped|canceled|none|running|success|failure|auto-promotion)",
    ]
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // Regressions are reported in the failure message; no files in the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// For every provider: arbitrary values for the variables it reads, then one of its
    /// marker sets, never make detection panic, and the provider is still a CI system.
    #[test]
    fn no_provider_detection_panics(
        picks in prop::collection::vec((any::<prop::sample::Index>(), value()), 0..32),
        marker_pick in any::<prop::sample::Index>(),
    ) {
        for (provider, source, markers) in SOURCES {
            let vars = variables(source);
            let mut pairs: Vec<(String, String)> = picks
                .iter()
                .map(|(i, v)| (vars[i.index(vars.len())].to_string(), v.clone()))
                .collect();
            // The markers last, so a generated value does not switch them off.
            let set = markers[marker_pick.index(markers.len())];
            pairs.extend(set.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            let ctx = detect(&Env::from_pairs(pairs));
            prop_assert!(ctx.provider.is_ci(), "{}: {:?}", provider.id(), ctx.provider);
            for field in &ctx.context {
                prop_assert!(!field.value.is_empty(), "{}: empty {}", provider.id(), field.key);
            }
        }
    }
}
