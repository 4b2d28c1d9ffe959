//! Which service id, job type and fields a relayed deployment gets. Without `--config`, one route
//! takes everything with `ALLSTACKS_SERVICE_ID`, `ALLSTACKS_JOB_TYPE` and `ALLSTACKS_FIELDS`; with
//! it, the first `[[route]]` of the TOML file whose source, repository, environment and workflow
//! globs all match decides, and a deployment no route matches is ignored.
//!
//! Every route's settings are checked at start, against the same contract as a job: a bad
//! service id or field stops `serve` before the first request, never at the first deployment. So
//! does a key that no record the route's source takes can carry (`kinds`): a `workflow` on a
//! route for GitHub `deployment_status` deliveries would silently pass every one of them by.
//! A glob never matches a value the record does not have; [`Routes::trail`] says, route by
//! route, why a record went where it did (`serve --explain`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::Source;
use super::catch_up::hooks;
use super::kinds::{self, Key, Taken};
use crate::context::{CiContext, Provider};
use crate::env::Sourced;
use crate::resolve::{self, Plan};
use crate::settings::JobSettings;

/// A `[[route]]` as written; the keys that say something of the record keep where they are.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteSpec {
    /// `None`: every source (`"*"`).
    source: Option<Spanned<String>>,
    repo: Option<Spanned<String>>,
    environment: Option<Spanned<String>>,
    workflow: Option<Spanned<String>>,
    /// The repository of the routed records that do not name one (a Flux event without
    /// `eventMetadata.repo_name`).
    repo_name: Option<Spanned<String>>,
    service_id: i64,
    job_type: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// Each with the span of its `[[route]]` header.
    #[serde(default)]
    route: Vec<Spanned<RouteSpec>>,
    /// The hooks whose delivery logs are read back (`catch_up`, not routes: they share the
    /// file).
    #[serde(default)]
    catch_up: Vec<hooks::Spec>,
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// One route: what it matches, and the job settings it gives.
#[derive(Debug, Clone)]
pub struct Route {
    /// How messages name it: `route 2 (routes.toml line 9)`, or, without `--config`, `the one
    /// route (no --config)`.
    pub label: String,
    /// `None` matches every source.
    source: Option<Source>,
    repo: Option<String>,
    environment: Option<String>,
    workflow: Option<String>,
    repo_name: Option<Sourced<String>>,
    pub settings: JobSettings,
}

/// The routes, in order.
#[derive(Debug, Clone)]
pub struct Routes(Vec<Route>);

/// Where a `[[route]]` is: the file, its number and the text, for messages that name the line.
struct Place<'a> {
    file: &'a str,
    text: &'a str,
    number: usize,
    header: usize,
}

impl Place<'_> {
    /// `routes.toml line 4: route 1` for the line of `span` (the route's header without one).
    fn at(&self, span: Option<std::ops::Range<usize>>) -> String {
        let line = span.map_or(self.header, |s| line_of(self.text, s.start));
        format!("{} line {line}: route {}", self.file, self.number)
    }

    /// `route 1 (routes.toml line 3)`: the route's name in the job's provenance and in
    /// `--explain`.
    fn label(&self) -> String {
        format!("route {} ({} line {})", self.number, self.file, self.header)
    }
}

impl Routes {
    /// Every deployment with `base` (no `--config`). `Err` when `base` cannot make a job (no
    /// service id, a bad field).
    pub fn single(base: JobSettings) -> Result<Routes, Vec<String>> {
        if base.service_id.is_none() {
            return Err(vec![
                "service id is required: set ALLSTACKS_SERVICE_ID (or --service-id), or route \
                 deployments to services with --config FILE"
                    .into(),
            ]);
        }
        check(&base)?;
        Ok(Routes(vec![Route {
            label: "the one route (no --config)".into(),
            source: None,
            repo: None,
            environment: None,
            workflow: None,
            repo_name: None,
            settings: base,
        }]))
    }

    /// The routes of the TOML file at `path` (its text `text`), each on top of `base`: a route's
    /// `job_type` and `fields`, when given, replace the ones of `base`. `Err` names the file,
    /// the line and what is wrong, including a key no record of the route's source carries
    /// when the relay takes the records of `taken`.
    pub fn parse(
        path: &Path,
        text: &str,
        base: &JobSettings,
        taken: Taken,
    ) -> Result<Routes, Vec<String>> {
        Routes::parse_file(path, text, base, taken).map(|(routes, _)| routes)
    }

    /// The routes and the `[[catch_up]]` hooks of the `--config` file. A file with hooks and
    /// no route sends every deployment with `base` (as without `--config`).
    pub fn parse_file(
        path: &Path,
        text: &str,
        base: &JobSettings,
        taken: Taken,
    ) -> Result<(Routes, Vec<hooks::Entry>), Vec<String>> {
        let shown = path.display().to_string();
        let file: File = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| format!(" line {}", line_of(text, s.start)))
                .unwrap_or_default();
            vec![format!("{shown}{line}: {}", e.message().trim())]
        })?;
        let hooks = hooks::entries(file.catch_up, &shown);
        if file.route.is_empty() {
            return match hooks {
                Ok(hooks) if !hooks.is_empty() => Ok((Routes::single(base.clone())?, hooks)),
                Ok(_) => Err(vec![format!(
                    "{shown} has no [[route]]: every deployment would be ignored"
                )]),
                Err(e) => Err(e),
            };
        }
        let mut routes = Vec::new();
        let mut errors = hooks.as_ref().err().cloned().unwrap_or_default();
        for (i, spec) in file.route.into_iter().enumerate() {
            let place = Place {
                file: &shown,
                text,
                number: i + 1,
                header: line_of(text, spec.span().start),
            };
            match route(spec.into_inner(), base, &place, taken) {
                Ok(r) => routes.push(r),
                Err(e) => errors.extend(e),
            }
        }
        if errors.is_empty() {
            Ok((Routes(routes), hooks.unwrap_or_default()))
        } else {
            Err(errors)
        }
    }

    /// The first route that takes a deployment of `source` described by `ctx`.
    pub fn pick(&self, source: Source, ctx: &CiContext) -> Option<&Route> {
        self.0.iter().find(|r| r.miss(source, ctx).is_none())
    }

    /// The route [`Routes::pick`] picks, and before it each route that passed the record by
    /// and why (`route 1 (routes.toml line 3): workflow "Deploy*" does not match: a
    /// deployment_status has no workflow`).
    pub fn trail(&self, source: Source, ctx: &CiContext) -> (Option<&Route>, Vec<String>) {
        let mut passed = Vec::new();
        for route in &self.0 {
            match route.miss(source, ctx) {
                None => return (Some(route), passed),
                Some(why) => passed.push(format!("{}: {why}", route.label)),
            }
        }
        (None, passed)
    }

    /// What the routes are, in a line: `3 routes from relay.toml`, or without `--config`
    /// (`file` `None`) the service every deployment goes to.
    pub fn summary(&self, file: Option<&Path>) -> String {
        match (file, self.0.as_slice()) {
            (None, [only]) => match &only.settings.service_id {
                Some(id) => format!(
                    "no --config: every deployment to service {} (from {})",
                    id.value, id.source
                ),
                None => "no --config".into(),
            },
            (_, routes) => {
                let s = if routes.len() == 1 { "" } else { "s" };
                let from = file.map_or(String::new(), |f| format!(" from {}", f.display()));
                format!("{} route{s}{from}", routes.len())
            }
        }
    }
}

/// At most 100 characters of a value from a record, for a message.
fn shown(value: &str) -> String {
    let mut out: String = value.chars().take(100).collect();
    if out.len() < value.len() {
        out.push('…');
    }
    out
}

impl Route {
    /// Why this route does not take a record of `source` described by `ctx`; `None` when it
    /// does. A glob never matches a value the record does not have.
    fn miss(&self, source: Source, ctx: &CiContext) -> Option<String> {
        if let Some(s) = self.source.filter(|s| *s != source) {
            return Some(format!("source {:?} is not {:?}", s.name(), source.name()));
        }
        let glob = |key: Key, pattern: &Option<String>, value: Option<&str>| {
            let p = pattern.as_deref()?;
            match value {
                Some(v) if crate::glob::matches(p, v) => None,
                Some(v) => Some(format!(
                    "{} {p:?} does not match {:?}",
                    key.name(),
                    shown(v)
                )),
                None => Some(format!(
                    "{} {p:?} does not match: {}",
                    key.name(),
                    kinds::lacking(source, ctx, key)
                )),
            }
        };
        let repo = ctx.repo_name.as_ref().or(self.repo_name.as_ref());
        let workflow = ctx.field("workflow").map(|c| c.value.as_str());
        glob(Key::Repo, &self.repo, repo.map(|r| r.value.as_str()))
            .or_else(|| self.environment_miss(source, ctx))
            .or_else(|| glob(Key::Workflow, &self.workflow, workflow))
    }

    /// Why this route's `environment` does not take the record. A pipeline that lists its
    /// deploy jobs goes where one of them deployed to.
    fn environment_miss(&self, source: Source, ctx: &CiContext) -> Option<String> {
        let p = self.environment.as_deref()?;
        if let Some(jobs) = &ctx.environment_jobs {
            if jobs.iter().any(|j| crate::glob::matches(p, &j.environment)) {
                return None;
            }
            let went: Vec<String> = jobs
                .iter()
                .map(|j| format!("{:?}", shown(&j.environment)))
                .collect();
            return Some(if went.is_empty() {
                format!(
                    "environment {p:?} does not match: the pipeline has no deploy job (no job \
                     of builds[] names an environment)"
                )
            } else {
                format!(
                    "environment {p:?} does not match: the pipeline's deploy jobs are for {}",
                    went.join(", ")
                )
            });
        }
        match ctx.environment() {
            Some(e) if crate::glob::matches(p, e) => None,
            Some(e) => Some(format!("environment {p:?} does not match {:?}", shown(e))),
            None => Some(format!(
                "environment {p:?} does not match: {}",
                kinds::lacking(source, ctx, Key::Environment)
            )),
        }
    }

    /// The record as this route takes it: its `repo_name` for a record that names no
    /// repository; under its `environment`, a pipeline that lists its deploy jobs as the
    /// deployment its matching job made (`Err`: why it did not deploy there).
    pub fn take(&self, ctx: &CiContext) -> Result<CiContext, String> {
        let mut ctx = match &self.environment {
            Some(p) => {
                let matches = |e: &str| crate::glob::matches(p, e);
                let filter = format!("the route's environment {p:?}");
                ctx.deployed_to(&matches, &filter)
                    .unwrap_or_else(|| Ok(ctx.clone()))?
            }
            None => ctx.clone(),
        };
        if ctx.repo_name.is_none() {
            ctx.repo_name = self.repo_name.clone();
        }
        Ok(ctx)
    }
}

fn route(
    spec: RouteSpec,
    base: &JobSettings,
    place: &Place,
    taken: Taken,
) -> Result<Route, Vec<String>> {
    let mut errors = Vec::new();
    let source = match &spec.source {
        None => None,
        Some(s) => match s.get_ref().trim() {
            "*" => None,
            name => Source::from_name(name).or_else(|| {
                errors.push(format!(
                    "{}: source must be github, gitlab, argocd, flux or \"*\", got {name:?}",
                    place.at(Some(s.span()))
                ));
                None
            }),
        },
    };
    let label = place.label();
    let settings = settings(&spec, base, &label, place, &mut errors);
    let keys = [
        (Key::Repo, &spec.repo),
        (Key::Environment, &spec.environment),
        (Key::Workflow, &spec.workflow),
        (Key::RepoName, &spec.repo_name),
    ];
    let known_source = spec.source.is_none() || source.is_some();
    for (key, value) in keys {
        let Some(value) = value else { continue };
        let at = place.at(Some(value.span()));
        if key == Key::RepoName && value.get_ref().trim().is_empty() {
            errors.push(format!("{at}: repo_name cannot be blank"));
        } else if let Some(why) = kinds::never(source, key, taken).filter(|_| known_source) {
            errors.push(format!(
                "{at}: {} = {:?} {why}",
                key.name(),
                value.get_ref()
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let text = |v: Option<Spanned<String>>| v.map(Spanned::into_inner);
    Ok(Route {
        repo_name: text(spec.repo_name)
            .map(|r| Sourced::new(r.trim().to_string(), format!("{label} repo_name"))),
        label,
        source,
        repo: text(spec.repo),
        environment: text(spec.environment),
        workflow: text(spec.workflow),
        settings,
    })
}

/// `base` with the route's service id, job type and fields (checked against the contract).
fn settings(
    spec: &RouteSpec,
    base: &JobSettings,
    label: &str,
    place: &Place,
    errors: &mut Vec<String>,
) -> JobSettings {
    let mut settings = base.clone();
    settings.service_id = Some(Sourced::new(spec.service_id.to_string(), label));
    if let Some(t) = &spec.job_type {
        settings.job_type = Some(Sourced::new(t.clone(), label));
    }
    if !spec.fields.is_empty() {
        settings.fields_json = None;
        settings.field_specs = Vec::new();
        for (key, value) in &spec.fields {
            if key.contains('=') || key.trim().is_empty() {
                errors.push(format!(
                    "{}: field name {key:?} cannot be blank or hold '='",
                    place.at(None)
                ));
                continue;
            }
            let spec = format!("{key}:string={value}");
            settings.field_specs.push(Sourced::new(spec, label));
        }
    }
    if let Err(e) = check(&settings) {
        errors.extend(e);
    }
    settings
}

/// Whether `settings` can make a valid job: a complete made-up deployment is planned with them,
/// so that a bad service id, job type or field fails here, at start, with the contract's words.
fn check(settings: &JobSettings) -> Result<(), Vec<String>> {
    let mut probe = CiContext::new(Provider::GitHub);
    let now = crate::timefmt::now_epoch();
    let s = |v: &str| Some(Sourced::new(v.to_string(), "probe"));
    probe.job_id = s("probe");
    probe.pipeline_id = s("probe");
    probe.commit_sha = s("0000000000000000000000000000000000000000");
    probe.repo_name = s("probe/probe");
    probe.status = s("success");
    probe.pipeline_started = Some(Sourced::new(now, "probe"));
    probe.finished = Some(Sourced::new(now, "probe"));
    let mut unfiltered = settings.clone();
    unfiltered.environments.clear();
    match resolve::plan_record(&unfiltered, &probe, now, &mut Vec::new()) {
        Ok(Plan::Send { .. }) | Ok(Plan::Skip { .. }) => Ok(()),
        Err(errors) => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The routes of `text`, as the file `r.toml`, when the relay takes `taken`.
    fn parsed(text: &str, taken: Taken) -> Result<Routes, Vec<String>> {
        Routes::parse(Path::new("r.toml"), text, &JobSettings::default(), taken)
    }

    fn ctx(repo: &str, env: Option<&str>, workflow: Option<&str>) -> CiContext {
        let mut c = CiContext::new(Provider::GitHub);
        c.repo_name = Some(Sourced::new(repo.to_string(), "t"));
        c.add_context("environment", env);
        c.add_context("workflow", workflow);
        c
    }

    const FILE: &str = r#"
[[route]]
source = "github"
repo = "acme/*"
environment = "prod*"
service_id = 7
job_type = "Production Deploy"
fields = { team = "web" }

[[route]]
source = "github"
workflow = "Deploy*"
service_id = 8

[[route]]
source = "*"
service_id = 9
"#;

    fn service(r: Option<&Route>) -> Option<String> {
        r.map(|r| r.settings.service_id.clone().unwrap().value)
    }

    #[test]
    fn first_match_wins() {
        let routes = parsed(FILE, Taken::ALL).unwrap();
        let pick = |source, c: &CiContext| service(routes.pick(source, c));
        assert_eq!(
            pick(Source::GitHub, &ctx("acme/web", Some("Production"), None)).as_deref(),
            Some("7")
        );
        assert_eq!(
            pick(Source::GitHub, &ctx("acme/web", Some("staging"), None)).as_deref(),
            Some("9")
        );
        assert_eq!(
            pick(Source::GitHub, &ctx("other/x", None, Some("deploy web"))).as_deref(),
            Some("8")
        );
        assert_eq!(
            pick(Source::Flux, &ctx("acme/web", Some("prod"), None)).as_deref(),
            Some("9")
        );
        let first = routes
            .pick(Source::GitHub, &ctx("acme/web", Some("prod"), None))
            .unwrap();
        assert_eq!(
            first.settings.job_type.as_ref().unwrap().value,
            "Production Deploy"
        );
        assert_eq!(first.settings.field_specs[0].value, "team:string=web");
    }

    #[test]
    fn no_match_is_none() {
        let text = "[[route]]\nsource = \"gitlab\"\nservice_id = 3\n";
        let routes = parsed(text, Taken::ALL).unwrap();
        assert!(
            routes
                .pick(Source::GitHub, &ctx("a/b", None, None))
                .is_none()
        );
    }

    #[test]
    fn mistakes_stop_the_start_with_the_line() {
        let e = |text: &str| parsed(text, Taken::ALL).unwrap_err().join("\n");
        let unknown = e("[[route]]\nservice_id = 1\ncolour = \"red\"\n");
        assert!(
            unknown.starts_with("r.toml line 3: unknown field `colour`"),
            "{unknown}"
        );
        let syntax = e("[[route]]\nservice_id = \n");
        assert!(syntax.starts_with("r.toml line 2:"), "{syntax}");
        let missing = e("[[route]]\nsource = \"github\"\n");
        assert!(missing.contains("missing field `service_id`"), "{missing}");
        assert!(e("").contains("has no [[route]]"));
        let source = e("[[route]]\nsource = \"jenkins\"\nservice_id = 1\n");
        assert!(
            source.contains("route 1: source must be github"),
            "{source}"
        );
        let bad_id = e("[[route]]\nservice_id = -1\n");
        assert!(bad_id.contains("service_id"), "{bad_id}");
    }

    #[test]
    fn a_single_route_needs_a_service_id() {
        let e = Routes::single(JobSettings::default()).unwrap_err();
        assert!(e[0].contains("ALLSTACKS_SERVICE_ID"), "{e:?}");
        let base = JobSettings {
            service_id: Some(Sourced::new("abc".into(), "ALLSTACKS_SERVICE_ID")),
            ..JobSettings::default()
        };
        let e = Routes::single(base).unwrap_err();
        assert!(
            e[0].contains("service_id must be a positive integer"),
            "{e:?}"
        );
    }

    #[test]
    fn keys_no_record_of_the_source_carries_stop_the_start_with_their_line() {
        let text = r#"# routes
[[route]]
source = "github"
workflow = "Deploy*"
service_id = 7

[[route]]
source = "argocd"
environment = "prod*"
service_id = 8

[[route]]
source = "gitlab"
repo_name = "acme/web"
service_id = 9

[[route]]
workflow = "Deploy*"
service_id = 10
"#;
        let errors = parsed(text, Taken::DEFAULT).unwrap_err();
        let starts: Vec<&str> = errors
            .iter()
            .map(|e| e.split(" can never").next().unwrap_or(e))
            .map(|e| e.split(" would never").next().unwrap_or(e))
            .collect();
        assert_eq!(
            starts,
            [
                "r.toml line 4: route 1: workflow = \"Deploy*\"",
                "r.toml line 9: route 2: environment = \"prod*\"",
                "r.toml line 14: route 3: repo_name = \"acme/web\"",
                "r.toml line 18: route 4: workflow = \"Deploy*\"",
            ],
            "{errors:#?}"
        );
        assert!(
            errors[0].ends_with(
                "(deployment_status deliveries, per ALLSTACKS_GITHUB_EVENTS) have no workflow; \
                 add workflow_run to ALLSTACKS_GITHUB_EVENTS (with ALLSTACKS_WORKFLOWS) to take \
                 records that have one, or match them by repo or environment instead"
            ),
            "{}",
            errors[0]
        );
        // With workflow runs and pipelines taken, the workflows can match; Argo CD's environment
        // and GitLab's repo_name still cannot.
        let errors = parsed(text, Taken::ALL).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors[0].starts_with("r.toml line 9: route 2: environment"));
        assert!(errors[1].starts_with("r.toml line 14: route 3: repo_name"));
    }

    /// A record as its mapping in `events` tags it.
    fn record(
        event: &'static str,
        repo: &str,
        env: Option<&str>,
        workflow: Option<&str>,
    ) -> CiContext {
        let mut c = ctx(repo, env, workflow);
        c.event = Some(event);
        c
    }

    #[test]
    fn the_trail_says_why_each_route_passed_a_record_by() {
        let text = "[[route]]\nsource = \"gitlab\"\nservice_id = 1\n\n[[route]]\nworkflow = \"Deploy*\"\nservice_id = 2\n\n[[route]]\nrepo = \"acme/*\"\nenvironment = \"prod*\"\nservice_id = 3\n\n[[route]]\nservice_id = 4\n";
        let routes = parsed(text, Taken::ALL).unwrap();
        let staging = record("deployment_status", "acme/web", Some("staging"), None);
        let (route, passed) = routes.trail(Source::GitHub, &staging);
        assert_eq!(route.unwrap().label, "route 4 (r.toml line 14)");
        assert_eq!(
            passed,
            [
                "route 1 (r.toml line 1): source \"gitlab\" is not \"github\"",
                "route 2 (r.toml line 5): workflow \"Deploy*\" does not match: a deployment_status has no workflow",
                "route 3 (r.toml line 9): environment \"prod*\" does not match \"staging\"",
            ]
        );
        let flux = record("flux", "other/x", None, None);
        let (_, passed) = routes.trail(Source::Flux, &flux);
        assert_eq!(
            passed[1..],
            [
                "route 2 (r.toml line 5): workflow \"Deploy*\" does not match: a Flux event has no workflow",
                "route 3 (r.toml line 9): repo \"acme/*\" does not match \"other/x\"",
            ]
        );
        let mut nameless = record("flux", "x", Some("production"), None);
        nameless.repo_name = None;
        let (route, passed) = routes.trail(Source::Flux, &nameless);
        assert_eq!(route.unwrap().label, "route 4 (r.toml line 14)");
        assert_eq!(
            passed[2],
            "route 3 (r.toml line 9): repo \"acme/*\" does not match: this Flux event has no repository"
        );
        let prod = record("deployment_status", "acme/web", Some("production"), None);
        let (route, passed) = routes.trail(Source::GitHub, &prod);
        assert_eq!(route.unwrap().label, "route 3 (r.toml line 9)");
        assert_eq!(passed.len(), 2);
        assert_eq!(
            routes.pick(Source::GitHub, &prod).map(|r| r.label.as_str()),
            Some("route 3 (r.toml line 9)")
        );
    }
}
