//! GitHub as a source: the completed runs of one Actions workflow, or the repository's
//! Deployments with their latest status, mapped by [`crate::events::github`] exactly as the
//! `workflow_run` and `deployment_status` events are.
//!
//! GitHub returns at most 1,000 runs for a listing filtered by `status`, `created`, `branch`,
//! `event`, `actor` or `head_sha` (and still reports them all in `total_count`). So the runs
//! listing is read unfiltered, newest first, and filtered here: status `completed`, `--branch`,
//! `--event`, `--since`/`--until` on `created_at`, and paging stops at the first run created
//! before `--since`.

use serde::Deserialize;

use super::options::Options;
use super::{Control, Item, Page, Place, Source, Window};
use crate::api::{self, ApiError, Client};
use crate::client::encode_component;
use crate::events::github::{self as map, Deployment, DeploymentStatus, Repository, WorkflowRun};

const ORIGIN: &str = "GitHub API";

/// `GET /repos/{repo}`: the repository's canonical name and id (a live report sends
/// `GITHUB_REPOSITORY` and `GITHUB_REPOSITORY_ID`), and a first check of the token.
pub fn repository(client: &mut Client, repo: &str, ctl: &Control) -> Result<Repository, ApiError> {
    let url = format!("{}/repos/{repo}", client.base());
    let (r, _): (Repository, _) = client.get_json(&url, ctl)?;
    Ok(r)
}

/// What the records must match, besides their kind.
#[derive(Debug, Clone, Default)]
struct Filter {
    window: Window,
    branch: Option<String>,
    event: Option<String>,
    environments: Vec<String>,
}

impl Filter {
    fn of(o: &Options) -> Filter {
        Filter {
            window: Window {
                since: o.since,
                until: o.until,
            },
            branch: o.branch.clone(),
            event: o.event.clone(),
            environments: o.environments.clone(),
        }
    }
}

/// A page of `/actions/workflows/{id}/runs`.
#[derive(Deserialize)]
struct RunsPage {
    total_count: Option<u64>,
    #[serde(default)]
    workflow_runs: Vec<WorkflowRun>,
}

/// The completed runs of one workflow.
pub struct Runs {
    client: Client,
    repo: Repository,
    filter: Filter,
    next: Option<String>,
    paging: api::Paging,
    first: bool,
}

impl Runs {
    pub fn new(mut client: Client, o: &Options, ctl: &Control) -> Result<Runs, ApiError> {
        let name = o.repo.as_ref().map(|r| r.value.clone()).unwrap_or_default();
        let repo = repository(&mut client, &name, ctl)?;
        let workflow = encode_component(o.workflow.as_deref().unwrap_or_default());
        let next = format!(
            "{}/repos/{name}/actions/workflows/{workflow}/runs?per_page=100",
            client.base()
        );
        Ok(Runs {
            client,
            repo,
            filter: Filter::of(o),
            next: Some(next),
            paging: api::Paging::default(),
            first: true,
        })
    }

    fn keep(&self, run: &WorkflowRun) -> bool {
        let f = &self.filter;
        let same = |want: &Option<String>, got: &Option<String>| {
            want.as_ref()
                .is_none_or(|w| got.as_deref().is_some_and(|g| g == w))
        };
        run.status.as_deref() == Some("completed")
            && same(&f.branch, &run.head_branch)
            && same(&f.event, &run.event)
    }
}

impl Source for Runs {
    fn next_page(&mut self, ctl: &Control) -> Result<Option<Page>, ApiError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        self.paging.visit(&url)?;
        let (page, answer): (RunsPage, _) = self.client.get_json(&url, ctl)?;
        let unfiltered = !self.filter.window.is_bounded();
        if std::mem::take(&mut self.first) && unfiltered {
            if let Some(total) = page.total_count {
                ctl.progress.set_total(total);
            }
        }
        if let Some(total) = page.total_count {
            self.paging.total(total, page.workflow_runs.len());
        }
        self.next = api::next_page(&answer, &url);
        let mut out = Page {
            examined: page.workflow_runs.len() as u64,
            ..Page::default()
        };
        for run in page.workflow_runs {
            match self.filter.window.place(run.created_at.as_deref()) {
                Place::Older => {
                    self.next = None;
                    break;
                }
                Place::Out => continue,
                Place::In if !self.keep(&run) => continue,
                Place::In => {}
            }
            let what = format!("run {}-{}", run.id, run.run_attempt.unwrap_or(1));
            let ctx = map::workflow_run(&self.repo, &run, None, ORIGIN);
            out.items.push(Item::Record {
                ctx: Box::new(ctx),
                what,
            });
        }
        Ok(Some(out))
    }
}

/// The repository's deployments, each with its latest status.
pub struct Deployments {
    client: Client,
    repo: Repository,
    name: String,
    filter: Filter,
    next: Option<String>,
    paging: api::Paging,
}

impl Deployments {
    pub fn new(mut client: Client, o: &Options, ctl: &Control) -> Result<Deployments, ApiError> {
        let name = o.repo.as_ref().map(|r| r.value.clone()).unwrap_or_default();
        let repo = repository(&mut client, &name, ctl)?;
        let mut next = format!("{}/repos/{name}/deployments?per_page=100", client.base());
        // The API filters on one environment; several are filtered here.
        if let [one] = &o.environments[..] {
            next = api::with_query(&next, "environment", &encode_component(one));
        }
        Ok(Deployments {
            client,
            repo,
            name,
            filter: Filter::of(o),
            next: Some(next),
            paging: api::Paging::default(),
        })
    }

    /// The latest status of deployment `id` (statuses come newest first).
    fn latest_status(
        &mut self,
        id: u64,
        ctl: &Control,
    ) -> Result<Option<DeploymentStatus>, ApiError> {
        let url = format!(
            "{}/repos/{}/deployments/{id}/statuses?per_page=1",
            self.client.base(),
            self.name
        );
        let (statuses, _): (Vec<DeploymentStatus>, _) = self.client.get_json(&url, ctl)?;
        Ok(statuses.into_iter().next())
    }

    fn item(&mut self, d: Deployment, ctl: &Control) -> Result<Item, ApiError> {
        let id = format!("deployment-{}", d.id);
        if ctl.ledger.contains(&id) {
            return Ok(Item::Known);
        }
        let what = format!("deployment {}", d.id);
        match self.latest_status(d.id, ctl)? {
            Some(status) => Ok(Item::Record {
                ctx: Box::new(map::deployment(&self.repo, &d, &status, None, ORIGIN)),
                what,
            }),
            None => Ok(Item::Unusable {
                what,
                why: "it has no status yet".into(),
            }),
        }
    }
}

impl Source for Deployments {
    fn next_page(&mut self, ctl: &Control) -> Result<Option<Page>, ApiError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        self.paging.visit(&url)?;
        let (page, answer): (Vec<Deployment>, _) = self.client.get_json(&url, ctl)?;
        self.next = api::next_page(&answer, &url);
        let mut out = Page {
            examined: page.len() as u64,
            ..Page::default()
        };
        for d in page {
            match self.filter.window.place(d.created_at.as_deref()) {
                Place::Older => {
                    self.next = None;
                    break;
                }
                Place::Out => continue,
                Place::In => {}
            }
            let envs = &self.filter.environments;
            let env = d.environment.as_deref().unwrap_or_default();
            if !envs.is_empty() && !envs.iter().any(|e| e.eq_ignore_ascii_case(env)) {
                continue;
            }
            out.items.push(self.item(d, ctl)?);
        }
        Ok(Some(out))
    }
}
