//! Which service id, job type and fields a relayed deployment gets. Without `--config`, one route
//! takes everything with `ALLSTACKS_SERVICE_ID`, `ALLSTACKS_JOB_TYPE` and `ALLSTACKS_FIELDS`; with
//! it, the first `[[route]]` of the TOML file whose source, repository, environment and workflow
//! globs all match decides, and a deployment no route matches is ignored.
//!
//! Every route's settings are checked at start, against the same contract as a job: a bad
//! service id or field stops `serve` before the first request, never at the first deployment.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::Source;
use super::catch_up::hooks;
use crate::context::{CiContext, Provider};
use crate::env::Sourced;
use crate::resolve::{self, Plan};
use crate::settings::JobSettings;

/// A `[[route]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteSpec {
    #[serde(default = "any")]
    source: String,
    repo: Option<String>,
    environment: Option<String>,
    workflow: Option<String>,
    /// The repository of the routed records that do not name one (a Flux event without
    /// `eventMetadata.repo_name`).
    repo_name: Option<String>,
    service_id: i64,
    job_type: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

fn any() -> String {
    "*".to_string()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    route: Vec<RouteSpec>,
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
    /// the line and what is wrong.
    pub fn parse(path: &Path, text: &str, base: &JobSettings) -> Result<Routes, Vec<String>> {
        Routes::parse_file(path, text, base).map(|(routes, _)| routes)
    }

    /// The routes and the `[[catch_up]]` hooks of the `--config` file. A file with hooks and
    /// no route sends every deployment with `base` (as without `--config`).
    pub fn parse_file(
        path: &Path,
        text: &str,
        base: &JobSettings,
    ) -> Result<(Routes, Vec<hooks::Entry>), Vec<String>> {
        let shown = path.display();
        let file: File = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| format!(" line {}", line_of(text, s.start)))
                .unwrap_or_default();
            vec![format!("{shown}{line}: {}", e.message().trim())]
        })?;
        let hooks = hooks::entries(file.catch_up, &shown.to_string());
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
            let label = format!("{shown} route {}", i + 1);
            match route(spec, base, &label) {
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
        self.0.iter().find(|r| r.matches(source, ctx))
    }
}

impl Route {
    fn matches(&self, source: Source, ctx: &CiContext) -> bool {
        let glob = |pattern: &Option<String>, value: Option<&str>| match pattern {
            None => true,
            Some(p) => value.is_some_and(|v| crate::glob::matches(p, v)),
        };
        let workflow = ctx.field("workflow").map(|c| c.value.as_str());
        // A pipeline that lists its deploy jobs goes where one of them deployed to.
        let environment = match (&self.environment, &ctx.environment_jobs) {
            (Some(p), Some(jobs)) => jobs.iter().any(|j| crate::glob::matches(p, &j.environment)),
            _ => glob(&self.environment, ctx.environment()),
        };
        let repo = ctx.repo_name.as_ref().or(self.repo_name.as_ref());
        self.source.is_none_or(|s| s == source)
            && glob(&self.repo, repo.map(|r| r.value.as_str()))
            && environment
            && glob(&self.workflow, workflow)
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

fn route(spec: RouteSpec, base: &JobSettings, label: &str) -> Result<Route, Vec<String>> {
    let mut errors = Vec::new();
    let source = match spec.source.trim() {
        "*" => None,
        name => Source::from_name(name).or_else(|| {
            errors.push(format!(
                "{label}: source must be github, gitlab, argocd, flux or \"*\", got {name:?}"
            ));
            None
        }),
    };
    let mut settings = base.clone();
    settings.service_id = Some(Sourced::new(spec.service_id.to_string(), label));
    if let Some(t) = spec.job_type {
        settings.job_type = Some(Sourced::new(t, label));
    }
    if !spec.fields.is_empty() {
        settings.fields_json = None;
        settings.field_specs = Vec::new();
        for (key, value) in spec.fields {
            if key.contains('=') || key.trim().is_empty() {
                errors.push(format!(
                    "{label}: field name {key:?} cannot be blank or hold '='"
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
    if !errors.is_empty() {
        return Err(errors);
    }
    let repo_name = spec
        .repo_name
        .map(|r| Sourced::new(r.trim().to_string(), format!("{label} repo_name")));
    if repo_name.as_ref().is_some_and(|r| r.value.is_empty()) {
        return Err(vec![format!("{label}: repo_name cannot be blank")]);
    }
    Ok(Route {
        source,
        repo: spec.repo,
        environment: spec.environment,
        workflow: spec.workflow,
        repo_name,
        settings,
    })
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
        let routes = Routes::parse(Path::new("r.toml"), FILE, &JobSettings::default()).unwrap();
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
        let routes = Routes::parse(Path::new("r.toml"), text, &JobSettings::default()).unwrap();
        assert!(
            routes
                .pick(Source::GitHub, &ctx("a/b", None, None))
                .is_none()
        );
    }

    #[test]
    fn mistakes_stop_the_start_with_the_line() {
        let e = |text: &str| {
            Routes::parse(Path::new("r.toml"), text, &JobSettings::default())
                .unwrap_err()
                .join("\n")
        };
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
}
