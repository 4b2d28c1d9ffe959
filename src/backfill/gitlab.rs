//! GitLab as a source: a project's finished deployments and pipelines, read from the API and
//! put into the plain structs of [`crate::events::gitlab`], whose mappings the template's live
//! reports and `serve` share. Listings are read newest first (`order_by=id&sort=desc`) and
//! filtered here; paging stops at the first record created before `--since`.

use std::collections::HashMap;

use serde::Deserialize;

use super::options::Options;
use super::{Control, Item, Page, Place, Source, Window};
use crate::api::{self, ApiError, Client};
use crate::client::encode_component;
use crate::context::EnvironmentJob;
use crate::events::gitlab::{self as map, Deployment, Pipeline};

const ORIGIN: &str = "GitLab API";

/// `GET /projects/{id}`: the project's id and path (a live report sends `CI_PROJECT_ID` and
/// `CI_PROJECT_PATH`), and a first check of the token.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Project {
    pub id: u64,
    pub path_with_namespace: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct User {
    username: Option<String>,
    public_email: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Environment {
    name: Option<String>,
    external_url: Option<String>,
    tier: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct PipelineRef {
    id: Option<u64>,
    web_url: Option<String>,
}

/// The job that deployed.
#[derive(Debug, Clone, Default, Deserialize)]
struct Deployable {
    id: u64,
    name: Option<String>,
    status: Option<String>,
    created_at: Option<String>,
    started_at: Option<String>,
    finished_at: Option<String>,
    duration: Option<f64>,
    web_url: Option<String>,
    tag: Option<bool>,
    user: Option<User>,
    pipeline: Option<PipelineRef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct ApiDeployment {
    id: u64,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    sha: Option<String>,
    created_at: Option<String>,
    status: Option<String>,
    user: Option<User>,
    environment: Option<Environment>,
    deployable: Option<Deployable>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct ApiPipeline {
    id: u64,
    sha: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    status: Option<String>,
    source: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    started_at: Option<String>,
    duration: Option<f64>,
    queued_duration: Option<f64>,
    web_url: Option<String>,
    name: Option<String>,
    tag: Option<bool>,
    user: Option<User>,
}

/// Paging and range for both listings.
struct Listing {
    client: Client,
    project: Project,
    next: Option<String>,
    paging: api::Paging,
    window: Window,
    first: bool,
}

impl Listing {
    fn new(
        mut client: Client,
        o: &Options,
        path: &str,
        ctl: &Control,
    ) -> Result<Listing, ApiError> {
        let given = o
            .project
            .as_ref()
            .map(|p| p.value.trim())
            .unwrap_or_default();
        let url = format!("{}/projects/{}", client.base(), encode_component(given));
        let (project, _): (Project, _) = client.get_json(&url, ctl)?;
        let next = format!(
            "{}/projects/{}/{path}order_by=id&sort=desc&per_page=100",
            client.base(),
            project.id
        );
        Ok(Listing {
            client,
            project,
            next: Some(next),
            paging: api::Paging::default(),
            window: Window {
                since: o.since,
                until: o.until,
            },
            first: true,
        })
    }

    /// The next page of `T`s, with the total when GitLab says it (`X-Total`) and no range
    /// makes it meaningless.
    fn page<T: serde::de::DeserializeOwned>(
        &mut self,
        ctl: &Control,
    ) -> Result<Option<Vec<T>>, ApiError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        self.paging.visit(&url)?;
        let (page, answer): (Vec<T>, _) = self.client.get_json(&url, ctl)?;
        let total = answer.header("x-total").and_then(|t| t.parse().ok());
        if let Some(total) = total {
            self.paging.total(total, page.len());
        }
        self.next = api::next_page(&answer, &url);
        if std::mem::take(&mut self.first) && !self.window.is_bounded() {
            if let Some(total) = total {
                ctl.progress.set_total(total);
            }
        }
        Ok(Some(page))
    }

    /// Every page of another listing of the project (`path`, with its query), through the same
    /// paging; the listing's own place is kept.
    fn read_all<T: serde::de::DeserializeOwned>(
        &mut self,
        path: &str,
        ctl: &Control,
        mut each: impl FnMut(T),
    ) -> Result<(), ApiError> {
        let url = format!("{}/projects/{}/{path}", self.client.base(), self.project.id);
        let next = self.next.replace(url);
        let first = std::mem::take(&mut self.first);
        let paging = std::mem::take(&mut self.paging);
        let read = (|| {
            while let Some(page) = self.page::<T>(ctl)? {
                page.into_iter().for_each(&mut each);
            }
            Ok(())
        })();
        (self.next, self.first, self.paging) = (next, first, paging);
        read
    }
}

fn email(u: Option<&User>) -> Option<String> {
    u.and_then(|u| u.public_email.clone())
        .filter(|e| !e.trim().is_empty())
}

fn username(u: Option<&User>) -> Option<String> {
    u.and_then(|u| u.username.clone())
}

/// The project's finished deployments (`success`, `failed`, `canceled`).
pub struct Deployments {
    listing: Listing,
    environments: Vec<String>,
}

impl Deployments {
    pub fn new(client: Client, o: &Options, ctl: &Control) -> Result<Deployments, ApiError> {
        // The API filters on one environment; several are filtered here.
        let env = match &o.environments[..] {
            [one] => format!("environment={}&", encode_component(one)),
            _ => String::new(),
        };
        let listing = Listing::new(client, o, &format!("deployments?{env}"), ctl)?;
        Ok(Deployments {
            listing,
            environments: o.environments.clone(),
        })
    }

    fn item(&self, d: ApiDeployment) -> Item {
        let what = format!("deployment {}", d.id);
        let Some(job) = d.deployable else {
            return Item::Unusable {
                what,
                why: "it has no deploying job (deployable), so no job id".into(),
            };
        };
        let env = d.environment.unwrap_or_default();
        // A duration without an end: the end is the start plus the duration.
        let finished = job.finished_at.clone().or_else(|| {
            let start = crate::timefmt::parse_timestamp(job.started_at.as_deref()?).ok()?;
            let end = start + job.duration? as i64;
            Some(crate::timefmt::format_rfc3339(end))
        });
        let record = Deployment {
            deployable_id: job.id,
            deployment_id: Some(d.id),
            created_at: job.created_at,
            sha: d.sha,
            project_path: self.listing.project.path_with_namespace.clone(),
            project_id: Some(self.listing.project.id),
            environment: env.name,
            environment_tier: env.tier,
            environment_url: env.external_url,
            status: d.status,
            started_at: job.started_at,
            finished_at: finished,
            user_email: email(job.user.as_ref()).or_else(|| email(d.user.as_ref())),
            username: username(job.user.as_ref()).or_else(|| username(d.user.as_ref())),
            job_url: job.web_url,
            pipeline_url: job.pipeline.and_then(|p| p.web_url),
            branch: d.git_ref.filter(|_| job.tag != Some(true)),
        };
        Item::Record {
            ctx: Box::new(map::deployment(&record, ORIGIN)),
            what: format!("{what} (job {})", job.id),
        }
    }
}

impl Source for Deployments {
    fn next_page(&mut self, ctl: &Control) -> Result<Option<Page>, ApiError> {
        let Some(page) = self.listing.page::<ApiDeployment>(ctl)? else {
            return Ok(None);
        };
        let mut out = Page {
            examined: page.len() as u64,
            ..Page::default()
        };
        for d in page {
            match self.listing.window.place(d.created_at.as_deref()) {
                Place::Older => {
                    self.listing.next = None;
                    break;
                }
                Place::Out => continue,
                Place::In => {}
            }
            let finished = matches!(d.status.as_deref(), Some("success" | "failed" | "canceled"));
            let env = d
                .environment
                .as_ref()
                .and_then(|e| e.name.as_deref())
                .unwrap_or_default();
            let wanted = self.environments.is_empty()
                || self
                    .environments
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(env));
            if finished && wanted {
                out.items.push(self.item(d));
            }
        }
        Ok(Some(out))
    }
}

/// The project's finished pipelines. The listing shows no user, so each pipeline not in the
/// ledger yet is read once more for it (`GET /pipelines/{id}`). Under an environment filter,
/// the project's deployments say which pipelines deployed where (GitLab's jobs API gives no
/// environment).
pub struct Pipelines {
    listing: Listing,
    /// Per pipeline, its deploy jobs to an environment of the filter; `None` without a filter.
    deploy_jobs: Option<HashMap<u64, Vec<EnvironmentJob>>>,
}

impl Pipelines {
    /// `environments`: the `--environments` filter (names or globs), empty for none.
    pub fn new(
        client: Client,
        o: &Options,
        environments: &[String],
        ctl: &Control,
    ) -> Result<Pipelines, ApiError> {
        let mut listing = Listing::new(client, o, "pipelines?scope=finished&", ctl)?;
        let deploy_jobs = if environments.is_empty() {
            None
        } else {
            Some(deploy_jobs(&mut listing, o, environments, ctl)?)
        };
        Ok(Pipelines {
            listing,
            deploy_jobs,
        })
    }

    fn item(&mut self, listed: ApiPipeline, ctl: &Control) -> Result<Item, ApiError> {
        if ctl.ledger.contains(&listed.id.to_string()) {
            return Ok(Item::Known);
        }
        let url = format!(
            "{}/projects/{}/pipelines/{}",
            self.listing.client.base(),
            self.listing.project.id,
            listed.id
        );
        let (p, _): (ApiPipeline, _) = self.listing.client.get_json(&url, ctl)?;
        let record = Pipeline {
            id: p.id,
            sha: p.sha.or(listed.sha),
            project_path: self.listing.project.path_with_namespace.clone(),
            project_id: Some(self.listing.project.id),
            status: p.status.or(listed.status),
            created_at: p.created_at.or(listed.created_at),
            started_at: p.started_at,
            // The template reports a pipeline from its last job: its end is the last update.
            finished_at: p.updated_at.or(listed.updated_at),
            duration: p.duration,
            queued_duration: p.queued_duration,
            user_email: email(p.user.as_ref()),
            username: username(p.user.as_ref()),
            web_url: p.web_url.or(listed.web_url),
            branch: p
                .git_ref
                .or(listed.git_ref)
                .filter(|_| p.tag.or(listed.tag) != Some(true)),
            source: p.source.or(listed.source),
            name: p.name.or(listed.name),
            commit_timestamp: None,
            merge_request_iid: None,
            environment_jobs: self
                .deploy_jobs
                .as_ref()
                .map(|jobs| jobs.get(&p.id).cloned().unwrap_or_default()),
        };
        Ok(Item::Record {
            ctx: Box::new(map::pipeline(&record, ORIGIN)),
            what: format!("pipeline {}", p.id),
        })
    }
}

impl Source for Pipelines {
    fn next_page(&mut self, ctl: &Control) -> Result<Option<Page>, ApiError> {
        let Some(page) = self.listing.page::<ApiPipeline>(ctl)? else {
            return Ok(None);
        };
        let mut out = Page {
            examined: page.len() as u64,
            ..Page::default()
        };
        for p in page {
            match self.listing.window.place(p.created_at.as_deref()) {
                Place::Older => {
                    self.listing.next = None;
                    break;
                }
                Place::Out => continue,
                Place::In => {}
            }
            out.items.push(self.item(p, ctl)?);
        }
        Ok(Some(out))
    }
}

/// The deploying jobs of the project's deployments to an environment of `environments`, by
/// pipeline (`deployable.pipeline.id`), each with its job's status. Deployments updated before
/// `--since` cannot belong to a pipeline created after it, so they are not read.
fn deploy_jobs(
    listing: &mut Listing,
    o: &Options,
    environments: &[String],
    ctl: &Control,
) -> Result<HashMap<u64, Vec<EnvironmentJob>>, ApiError> {
    let since = o.since.map_or(String::new(), |t| {
        format!(
            "updated_after={}&",
            encode_component(&crate::timefmt::format_rfc3339(t))
        )
    });
    let path = format!("deployments?{since}order_by=id&sort=desc&per_page=100");
    let mut jobs: HashMap<u64, Vec<EnvironmentJob>> = HashMap::new();
    listing.read_all(&path, ctl, |d: ApiDeployment| {
        let env = d.environment.and_then(|e| e.name).unwrap_or_default();
        let Some(job) = d.deployable else { return };
        let Some(pipeline) = job.pipeline.as_ref().and_then(|p| p.id) else {
            return;
        };
        if env.is_empty() || !crate::glob::any(environments, &env) {
            return;
        }
        jobs.entry(pipeline).or_default().push(EnvironmentJob {
            id: job.id,
            name: job.name.unwrap_or_default(),
            environment: env,
            status: job.status.unwrap_or_default(),
            source: format!("{ORIGIN} deployment {}", d.id),
        });
    })?;
    Ok(jobs)
}
