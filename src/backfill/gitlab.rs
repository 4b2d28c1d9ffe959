//! GitLab as a source: a project's finished deployments and pipelines, read from the API and
//! put into the plain structs of [`crate::events::gitlab`], whose mappings the template's live
//! reports and `serve` share. Listings are read newest first (`order_by=id&sort=desc`) and
//! filtered here; paging stops at the first record created before `--since`.

use serde::Deserialize;

use super::options::Options;
use super::{Control, Item, Page, Place, Source, Window};
use crate::api::{self, ApiError, Client, encode};
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
    web_url: Option<String>,
}

/// The job that deployed.
#[derive(Debug, Clone, Default, Deserialize)]
struct Deployable {
    id: u64,
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
        let url = format!("{}/projects/{}", client.base(), encode(given));
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
        let (page, answer): (Vec<T>, _) = self.client.get_json(&url, ctl)?;
        self.next = api::next_page(&answer, &url);
        if std::mem::take(&mut self.first) && !self.window.is_bounded() {
            if let Some(total) = answer.header("x-total").and_then(|t| t.parse().ok()) {
                ctl.progress.set_total(total);
            }
        }
        Ok(Some(page))
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
            [one] => format!("environment={}&", encode(one)),
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
/// ledger yet is read once more for it (`GET /pipelines/{id}`).
pub struct Pipelines {
    listing: Listing,
}

impl Pipelines {
    pub fn new(client: Client, o: &Options, ctl: &Control) -> Result<Pipelines, ApiError> {
        let listing = Listing::new(client, o, "pipelines?scope=finished&", ctl)?;
        Ok(Pipelines { listing })
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
            // The template reports a pipeline from its last job: its end is the last update.
            finished_at: p.updated_at.or(listed.updated_at),
            user_email: email(p.user.as_ref()),
            username: username(p.user.as_ref()),
            web_url: p.web_url.or(listed.web_url),
            branch: p
                .git_ref
                .or(listed.git_ref)
                .filter(|_| p.tag.or(listed.tag) != Some(true)),
            source: p.source.or(listed.source),
            name: p.name.or(listed.name),
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
