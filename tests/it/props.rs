//! Property tests for every parser of outside input, called through the library: no input makes
//! one panic, and values survive a round trip where there is one. 256 cases each keeps the
//! whole file to a few seconds.

use std::io::Write;

use allstacks_cd::env::{Env, Sourced};
use allstacks_cd::fields::{self, FieldType, OptionalField};
use allstacks_cd::status::{self, Outcome, Status};
use allstacks_cd::timefmt::{format_rfc3339, parse_duration, parse_http_date, parse_timestamp};
use allstacks_cd::{ci, git};
use proptest::prelude::*;
use serde_json::{Value, json};

/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the four-digit years RFC 3339 can write.
const MIN_EPOCH: i64 = -62_135_596_800;
const MAX_EPOCH: i64 = 253_402_300_799;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // Regressions are reported in the failure message; no files in the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text that is sometimes close to what a parser expects and sometimes anything at all.
fn texty() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]{0,30}",
        "[-+0-9.,:TZtz hmsdHMSD]{0,40}",
        "-?[0-9]{1,6}-[0-9]{1,3}-[0-9]{1,3}([Tt ][0-9]{1,3}:[0-9]{1,3}(:[0-9]{1,3})?([.,][0-9]{0,12})?)?(Z|z|[+-][0-9]{1,4}(:[0-9]{1,3})?)?",
        "[0-9]{0,20}(d|h|m|s)([0-9]{0,20}(d|h|m|s| )){0,4}",
        "[A-Za-z]{0,4},? [0-9]{0,3} [A-Za-z]{0,4} [0-9]{0,5} [0-9:]{0,9} (GMT|UTC)?",
    ]
}

/// Values a CI system might put in a variable: anything, numbers, times, URLs, JSON.
fn env_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]{1,25}",
        "[0-9a-fA-F]{0,70}",
        texty(),
        "(https?|ssh|file|git)://([a-z]+(:[a-z]*)?@)?[a-z.]{0,12}(:[0-9]{0,6})?(/[a-zA-Z0-9._~-]{0,8}){0,5}(\\.git)?/?",
        "([a-z]+@)?[a-z.]{0,10}:[a-zA-Z0-9/._-]{0,30}",
        Just("true".to_string()),
        Just("woodpecker".to_string()),
    ]
}

/// Every variable the providers read, plus each provider's markers.
const CI_VARS: &[&str] = &[
    "AGENT_JOBSTATUS",
    "BITBUCKET_BRANCH",
    "BITBUCKET_BUILD_NUMBER",
    "BITBUCKET_COMMIT",
    "BITBUCKET_DEPLOYMENT_ENVIRONMENT",
    "BITBUCKET_EXIT_CODE",
    "BITBUCKET_GIT_HTTP_ORIGIN",
    "BITBUCKET_REPO_FULL_NAME",
    "BITBUCKET_REPO_UUID",
    "BITBUCKET_STEP_UUID",
    "BRANCH_NAME",
    "BUILDKITE",
    "BUILDKITE_BRANCH",
    "BUILDKITE_BUILD_CREATOR",
    "BUILDKITE_BUILD_CREATOR_EMAIL",
    "BUILDKITE_BUILD_ID",
    "BUILDKITE_BUILD_URL",
    "BUILDKITE_COMMIT",
    "BUILDKITE_GITHUB_DEPLOYMENT_ENVIRONMENT",
    "BUILDKITE_JOB_ID",
    "BUILDKITE_PIPELINE_SLUG",
    "BUILDKITE_REPO",
    "BUILDKITE_RETRY_COUNT",
    "BUILDKITE_SOURCE",
    "BUILDKITE_TAG",
    "BUILD_BUILDID",
    "BUILD_DEFINITIONNAME",
    "BUILD_NUMBER",
    "BUILD_REASON",
    "BUILD_REPOSITORY_ID",
    "BUILD_REPOSITORY_NAME",
    "BUILD_REPOSITORY_URI",
    "BUILD_REQUESTEDFOR",
    "BUILD_REQUESTEDFOREMAIL",
    "BUILD_SOURCEBRANCH",
    "BUILD_SOURCEVERSION",
    "BUILD_TAG",
    "BUILD_URL",
    "BUILD_USER_EMAIL",
    "BUILD_USER_ID",
    "BUILD_VCS_NUMBER",
    "CHANGE_BRANCH",
    "CI",
    "CIRCLECI",
    "CIRCLE_BRANCH",
    "CIRCLE_BUILD_NUM",
    "CIRCLE_BUILD_URL",
    "CIRCLE_PIPELINE_ID",
    "CIRCLE_PROJECT_REPONAME",
    "CIRCLE_PROJECT_USERNAME",
    "CIRCLE_REPOSITORY_URL",
    "CIRCLE_SHA1",
    "CIRCLE_USERNAME",
    "CIRCLE_WORKFLOW_ID",
    "CIRCLE_WORKFLOW_JOB_ID",
    "CI_COMMIT_AUTHOR",
    "CI_COMMIT_AUTHOR_EMAIL",
    "CI_COMMIT_BRANCH",
    "CI_COMMIT_REF_NAME",
    "CI_COMMIT_SHA",
    "CI_COMMIT_SOURCE_BRANCH",
    "CI_COMMIT_TAG",
    "CI_ENVIRONMENT_NAME",
    "CI_JOB_ID",
    "CI_JOB_STARTED_AT",
    "CI_JOB_STATUS",
    "CI_JOB_URL",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
    "CI_PIPELINE_AUTHOR",
    "CI_PIPELINE_CREATED_AT",
    "CI_PIPELINE_DEPLOY_TARGET",
    "CI_PIPELINE_EVENT",
    "CI_PIPELINE_ID",
    "CI_PIPELINE_LINK",
    "CI_PIPELINE_NAME",
    "CI_PIPELINE_NUMBER",
    "CI_PIPELINE_SOURCE",
    "CI_PIPELINE_STARTED",
    "CI_PIPELINE_STATUS",
    "CI_PIPELINE_URL",
    "CI_PROJECT_ID",
    "CI_PROJECT_PATH",
    "CI_REPO",
    "CI_REPO_REMOTE_ID",
    "CI_SERVER_URL",
    "CI_STEP_STARTED",
    "CI_STEP_URL",
    "CI_WORKFLOW_NAME",
    "DRONE",
    "DRONE_BRANCH",
    "DRONE_BUILD_EVENT",
    "DRONE_BUILD_LINK",
    "DRONE_BUILD_NUMBER",
    "DRONE_BUILD_STARTED",
    "DRONE_BUILD_STATUS",
    "DRONE_BUILD_TRIGGER",
    "DRONE_COMMIT",
    "DRONE_COMMIT_AUTHOR",
    "DRONE_COMMIT_AUTHOR_EMAIL",
    "DRONE_COMMIT_SHA",
    "DRONE_DEPLOY_TO",
    "DRONE_REPO",
    "DRONE_SOURCE_BRANCH",
    "DRONE_STAGE_NAME",
    "DRONE_STAGE_NUMBER",
    "DRONE_STAGE_STARTED",
    "DRONE_TAG",
    "ENVIRONMENT_NAME",
    "GITHUB_ACTIONS",
    "GITHUB_ACTOR",
    "GITHUB_EVENT_NAME",
    "GITHUB_HEAD_REF",
    "GITHUB_JOB",
    "GITHUB_REF_NAME",
    "GITHUB_REF_TYPE",
    "GITHUB_REPOSITORY",
    "GITHUB_REPOSITORY_ID",
    "GITHUB_RUN_ATTEMPT",
    "GITHUB_RUN_ID",
    "GITHUB_SERVER_URL",
    "GITHUB_SHA",
    "GITHUB_TRIGGERING_ACTOR",
    "GITHUB_WORKFLOW",
    "GITLAB_CI",
    "GITLAB_USER_EMAIL",
    "GITLAB_USER_LOGIN",
    "GIT_BRANCH",
    "GIT_COMMIT",
    "GIT_LOCAL_BRANCH",
    "GIT_URL",
    "JENKINS_HOME",
    "JENKINS_URL",
    "JOB_NAME",
    "SYSTEM_COLLECTIONURI",
    "SYSTEM_JOBATTEMPT",
    "SYSTEM_JOBID",
    "SYSTEM_PIPELINESTARTTIME",
    "SYSTEM_PULLREQUEST_SOURCEBRANCH",
    "SYSTEM_TEAMPROJECT",
    "TAG_NAME",
    "TEAMCITY_BUILDCONF_NAME",
    "TEAMCITY_PROJECT_NAME",
    "TEAMCITY_VERSION",
    "TF_BUILD",
    "TRAVIS",
    "TRAVIS_BRANCH",
    "TRAVIS_BUILD_ID",
    "TRAVIS_BUILD_WEB_URL",
    "TRAVIS_COMMIT",
    "TRAVIS_EVENT_TYPE",
    "TRAVIS_JOB_ID",
    "TRAVIS_JOB_WEB_URL",
    "TRAVIS_PULL_REQUEST_BRANCH",
    "TRAVIS_REPO_SLUG",
    "TRAVIS_TAG",
    "TRAVIS_TEST_RESULT",
];

/// What makes each provider (and the fallback) detected.
const MARKERS: &[&[(&str, &str)]] = &[
    &[("GITHUB_ACTIONS", "true")],
    &[("GITLAB_CI", "true")],
    &[("JENKINS_URL", "https://jenkins.example.com/")],
    &[("CIRCLECI", "true")],
    &[("BITBUCKET_BUILD_NUMBER", "12")],
    &[("TF_BUILD", "True")],
    &[("BUILDKITE", "true")],
    &[("TRAVIS", "true")],
    &[("TEAMCITY_VERSION", "2024.03")],
    &[("DRONE", "true")],
    &[("CI", "woodpecker")],
    &[],
];

/// A GitHub event file: any bytes, or JSON shaped like an event with odd values in it.
fn event_file() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("pusher".to_string()),
                    Just("email".to_string()),
                    Just("sender".to_string()),
                    Just("login".to_string()),
                    Just("deployment".to_string()),
                    Just("environment".to_string()),
                    Just("head_commit".to_string()),
                    Just("repository".to_string()),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        value.prop_map(|v| serde_json::to_vec(&v).expect("json")),
    ]
}

/// `HH:MM:SS` and the date parts of an epoch, for building HTTP dates.
fn http_date(epoch: i64) -> String {
    let rfc = format_rfc3339(epoch); // YYYY-MM-DDTHH:MM:SSZ
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month: usize = rfc[5..7].parse().expect("month");
    format!(
        "Xyz, {} {} {} {} GMT",
        &rfc[8..10],
        MONTHS[month - 1],
        &rfc[0..4],
        &rfc[11..19]
    )
}

fn sourced(specs: &[String]) -> Vec<Sourced<String>> {
    specs
        .iter()
        .map(|s| Sourced::new(s.clone(), "--field"))
        .collect()
}

/// The words SPEC.md's status table accepts, with what they mean.
const WORDS: &[(&str, Outcome)] = &[
    ("succeeded", Outcome::Report(Status::Succeeded)),
    ("success", Outcome::Report(Status::Succeeded)),
    ("passed", Outcome::Report(Status::Succeeded)),
    ("succeeded with issues", Outcome::Report(Status::Succeeded)),
    ("failed", Outcome::Report(Status::Failed)),
    ("timed out", Outcome::Report(Status::Failed)),
    ("errored", Outcome::Report(Status::Failed)),
    ("on hold", Outcome::Report(Status::OnHold)),
    ("waiting for resource", Outcome::Report(Status::OnHold)),
    ("action required", Outcome::Report(Status::OnHold)),
    ("cancelled", Outcome::Cancelled),
    ("canceled", Outcome::Cancelled),
    ("aborted", Outcome::Cancelled),
    ("skipped", Outcome::Skipped),
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn time_parsers_never_panic(text in texty()) {
        let _ = parse_timestamp(&text);
        let _ = parse_duration(&text);
        let _ = parse_http_date(&text);
    }

    #[test]
    fn a_timestamp_that_parses_formats_back_to_itself(text in texty()) {
        if let Ok(t) = parse_timestamp(&text) {
            if (MIN_EPOCH..=MAX_EPOCH).contains(&t) {
                prop_assert_eq!(parse_timestamp(&format_rfc3339(t)), Ok(t));
            }
        }
    }

    #[test]
    fn any_epoch_formats_without_panic(t in any::<i64>()) {
        let text = format_rfc3339(t);
        prop_assert!(text.ends_with('Z'), "{}", text);
    }

    #[test]
    fn rfc3339_round_trips(t in MIN_EPOCH..=MAX_EPOCH) {
        let text = format_rfc3339(t);
        prop_assert_eq!(parse_timestamp(&text), Ok(t), "{}", text);
        // The same instant with an offset, a space and a fraction.
        let shifted = format_rfc3339(t + 5 * 3600 + 30 * 60);
        let with_offset = format!("{} {}.123+05:30", &shifted[..10], &shifted[11..19]);
        if (MIN_EPOCH..=MAX_EPOCH).contains(&(t + 5 * 3600 + 30 * 60)) {
            prop_assert_eq!(parse_timestamp(&with_offset), Ok(t), "{}", with_offset);
        }
        // Epoch seconds are taken as they are.
        if t >= 0 {
            prop_assert_eq!(parse_timestamp(&t.to_string()), Ok(t));
        }
    }

    #[test]
    fn http_dates_round_trip(t in MIN_EPOCH..=MAX_EPOCH) {
        let text = http_date(t);
        prop_assert_eq!(parse_http_date(&text), Some(t), "{}", text);
    }

    #[test]
    fn durations_round_trip(d in 0i64..10_000, h in 0i64..100_000, m in 0i64..100_000, s in 0i64..100_000) {
        let total = d * 86_400 + h * 3600 + m * 60 + s;
        prop_assert_eq!(parse_duration(&format!("{h}h{m}m{s}s")), Ok(h * 3600 + m * 60 + s));
        prop_assert_eq!(parse_duration(&format!("{d}d {h}h {m}m {s}s")), Ok(total));
        prop_assert_eq!(parse_duration(&format!("{m}m")), Ok(m * 60));
        prop_assert_eq!(parse_duration(&total.to_string()), Ok(total));
        // Units out of order are refused, not misread.
        let reversed = format!("{s}s{m}m");
        prop_assert!(parse_duration(&reversed).is_err(), "{}", reversed);
    }

    #[test]
    fn a_parsed_duration_is_never_negative(text in texty()) {
        if let Ok(secs) = parse_duration(&text) {
            prop_assert!(secs >= 0, "{:?} gave {}", text, secs);
        }
    }

    #[test]
    fn field_specs_never_panic(specs in prop::collection::vec(
        prop_oneof![
            any::<String>(),
            "[a-z]{0,6}(:(string|integer|float|duration|timestamp|[a-z]{0,6}))?=.{0,20}",
            "[a-z]{1,3}:(integer|float|duration|timestamp)=[-+0-9.eE]{0,25}",
            "[a-z]{1,3}:(duration|timestamp)=.{0,30}",
        ],
        0..25,
    )) {
        if let Ok(fields) = fields::from_specs(&sourced(&specs)) {
            // Every field is typed as the contract wants.
            for f in &fields {
                prop_assert!(!f.key.is_empty());
                for v in &f.values {
                    let ok = match f.ty {
                        FieldType::String => v.is_string(),
                        FieldType::Integer | FieldType::Duration | FieldType::Timestamp => v.is_i64(),
                        FieldType::Float => v.is_number(),
                    };
                    prop_assert!(ok, "{:?}", f);
                }
            }
            let _ = fields::check_limits(&fields);
        }
    }

    #[test]
    fn typed_field_values_round_trip(
        n in any::<i64>(),
        x in -1e300f64..1e300,
        t in MIN_EPOCH..=MAX_EPOCH,
        h in 0i64..1000, m in 0i64..1000,
        text in any::<String>(),
    ) {
        let specs = vec![
            format!("n:integer={n}"),
            format!("x:float={x}"),
            format!("t:timestamp={}", format_rfc3339(t)),
            format!("d:duration={h}h{m}m"),
            format!("s={text}"),
            format!("s:string=second"),
        ];
        let fields = fields::from_specs(&sourced(&specs)).expect("valid specs");
        let get = |k: &str| fields.iter().find(|f| f.key == k).expect("field").values.clone();
        prop_assert_eq!(get("n"), vec![json!(n)]);
        prop_assert_eq!(get("x")[0].as_f64(), Some(x));
        prop_assert_eq!(get("t"), vec![json!(t)]);
        prop_assert_eq!(get("d"), vec![json!(h * 3600 + m * 60)]);
        prop_assert_eq!(get("s"), vec![json!(text), json!("second")], "a repeated name is a list, in order");
    }

    #[test]
    fn fields_json_never_panics(text in prop_oneof![
        any::<String>(),
        event_file().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]) {
        let _ = fields::from_json(&text, "--fields-json");
    }

    #[test]
    fn fields_json_round_trips(fields in prop::collection::vec(
        ("[a-z]{1,8}", prop_oneof![
            prop::collection::vec(any::<String>().prop_map(Value::from), 1..4).prop_map(|v| (FieldType::String, v)),
            prop::collection::vec(any::<i64>().prop_map(Value::from), 1..4).prop_map(|v| (FieldType::Integer, v)),
            prop::collection::vec((-10_000_000_000_000i64..10_000_000_000_000).prop_map(|n| json!(n as f64 / 100.0)), 1..4).prop_map(|v| (FieldType::Float, v)),
            prop::collection::vec((0u32..u32::MAX).prop_map(Value::from), 1..4).prop_map(|v| (FieldType::Duration, v)),
            prop::collection::vec((MIN_EPOCH..=MAX_EPOCH).prop_map(Value::from), 1..4).prop_map(|v| (FieldType::Timestamp, v)),
        ]),
        0..6,
    )) {
        let mut unique: Vec<OptionalField> = Vec::new();
        for (key, (ty, values)) in fields {
            if unique.iter().all(|f| f.key != key) {
                unique.push(OptionalField { key, ty, values, source: "test".into() });
            }
        }
        let text = serde_json::to_string(&unique).expect("json");
        let back = fields::from_json(&text, "test").map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back.len(), unique.len());
        for (a, b) in back.iter().zip(&unique) {
            prop_assert_eq!(&a.key, &b.key);
            prop_assert_eq!(a.ty, b.ty);
            prop_assert_eq!(&a.values, &b.values);
        }
    }

    #[test]
    fn status_words_never_panic(text in any::<String>()) {
        let _ = status::parse(&text);
        let _ = status::CancelledAs::parse(&text);
    }

    #[test]
    fn status_words_ignore_case_and_separators(
        i in 0..WORDS.len(),
        upper in prop::collection::vec(any::<bool>(), 32),
        seps in prop::collection::vec(prop_oneof![Just(" "), Just("-"), Just("_"), Just("")], 4),
    ) {
        let (word, want) = WORDS[i];
        let mut n = 0;
        let text: String = word
            .split(' ')
            .enumerate()
            .map(|(k, part)| {
                let sep = if k == 0 { "" } else { seps[k % seps.len()] };
                let part: String = part
                    .chars()
                    .map(|c| {
                        n += 1;
                        if upper[n % upper.len()] { c.to_ascii_uppercase() } else { c }
                    })
                    .collect();
                format!("{sep}{part}")
            })
            .collect();
        prop_assert_eq!(status::parse(&text), Some(want), "{:?}", text);
        prop_assert_eq!(status::parse(&format!("  {text}\t")), Some(want));
    }

    #[test]
    fn exit_codes_are_statuses(code in "[0-9]{1,40}") {
        let want = if code.bytes().all(|b| b == b'0') { Status::Succeeded } else { Status::Failed };
        prop_assert_eq!(status::parse(&code), Some(Outcome::Report(want)));
    }

    #[test]
    fn needs_json_never_panics(text in prop_oneof![
        any::<String>(),
        event_file().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]) {
        let _ = status::from_needs_json(&text);
    }

    #[test]
    fn needs_json_follows_the_rule(results in prop::collection::vec(
        prop_oneof![Just("success"), Just("failure"), Just("cancelled"), Just("skipped")],
        0..8,
    )) {
        let needs: serde_json::Map<String, Value> = results
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("job{i}"), json!({"result": r, "outputs": {}})))
            .collect();
        let got = status::from_needs_json(&Value::Object(needs).to_string());
        let want = if results.contains(&"failure") {
            Outcome::Report(Status::Failed)
        } else if results.contains(&"cancelled") {
            Outcome::Cancelled
        } else if !results.is_empty() && results.iter().all(|r| *r == "skipped") {
            Outcome::Skipped
        } else {
            Outcome::Report(Status::Succeeded)
        };
        prop_assert_eq!(got, Ok(want));
    }

    #[test]
    fn repo_slugs_never_panic_and_never_carry_credentials(url in prop_oneof![any::<String>(), env_value()]) {
        if let Some(slug) = git::repo_slug_from_url(&url) {
            prop_assert!(!slug.is_empty());
            prop_assert!(!slug.contains('@') || !url.contains("://"), "{:?} -> {:?}", url, slug);
        }
    }

    #[test]
    fn repo_slugs_from_the_usual_remote_forms(
        owner in "[a-zA-Z0-9][a-zA-Z0-9_.-]{0,12}",
        name in "[a-zA-Z0-9][a-zA-Z0-9_-]{0,12}",
        host in "[a-z]{1,8}\\.(com|org|example)",
        form in 0usize..5,
    ) {
        let url = match form {
            0 => format!("https://{host}/{owner}/{name}.git"),
            1 => format!("https://user:secret@{host}:8443/{owner}/{name}"),
            2 => format!("ssh://git@{host}:22/{owner}/{name}.git"),
            3 => format!("git@{host}:{owner}/{name}.git"),
            _ => format!("https://{host}/{owner}/{name}/"),
        };
        prop_assert_eq!(git::repo_slug_from_url(&url), Some(format!("{owner}/{name}")), "{}", url);
    }

    #[test]
    fn ci_detection_never_panics(
        marker in 0..MARKERS.len(),
        vars in prop::collection::vec((prop::sample::select(CI_VARS), env_value()), 0..40),
        event in prop::option::of(event_file()),
    ) {
        let mut pairs: Vec<(String, String)> = vars
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        // The marker last, so a random value does not overwrite it.
        pairs.extend(MARKERS[marker].iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let file = tempfile::NamedTempFile::new().expect("temp file");
        match &event {
            Some(bytes) => {
                file.as_file().write_all(bytes).expect("write event");
                pairs.push(("GITHUB_EVENT_PATH".into(), file.path().display().to_string()));
            }
            None => pairs.push(("GITHUB_EVENT_PATH".into(), "/nonexistent/event.json".into())),
        }
        let env = Env::from_pairs(pairs);
        let ctx = ci::detect(&env);
        if !MARKERS[marker].is_empty() {
            prop_assert!(ctx.provider.is_ci(), "{:?}", MARKERS[marker]);
        }
    }

    #[test]
    fn env_files_never_panic(text in any::<String>()) {
        let env = Env::from_env_file(&text);
        for (k, v) in env.pairs() {
            prop_assert!(!v.is_empty(), "{}", k);
        }
    }
}
