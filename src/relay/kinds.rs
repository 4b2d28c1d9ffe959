//! The kinds of record the relay takes in (a GitHub `deployment_status`, a GitLab pipeline, an
//! Argo CD notification, ...) and what each can carry that a route matches on: a repository, an
//! environment, a workflow name. `routes` checks every route's keys against it at start (a key
//! that no record its source takes can carry never matches, and stops `serve`), and words why a
//! route passed a record by (`serve --explain`).
//!
//! What each kind carries is read off its mapping in `events`: a `deployment_status` has the
//! deployment's environment and no workflow; a `workflow_run` the workflow's name and no
//! environment; a GitLab deployment its environment; a GitLab pipeline its name (`workflow:name`)
//! as the workflow and its deploy jobs' environments; an Argo CD notification neither (the
//! template sends an application, a project and a destination); a Flux event the environment
//! and repository its Alert's `eventMetadata` gives, when it gives them. GitHub and GitLab always
//! name the repository; Argo CD (`repo_url`) and Flux may not.

use super::Source;
use super::config::{GithubEvents, GitlabEvents};
use crate::context::CiContext;

/// A key of a `[[route]]` that says something of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Repo,
    Environment,
    Workflow,
    /// Not a glob: the repository of the records that name none.
    RepoName,
}

impl Key {
    pub fn name(self) -> &'static str {
        match self {
            Key::Repo => "repo",
            Key::Environment => "environment",
            Key::Workflow => "workflow",
            Key::RepoName => "repo_name",
        }
    }

    /// What a record without it lacks, in words.
    fn missing(self) -> &'static str {
        match self {
            Key::Repo | Key::RepoName => "repository",
            Key::Environment => "environment",
            Key::Workflow => "workflow",
        }
    }
}

/// One kind of record.
pub struct Kind {
    pub source: Source,
    /// As its mapping names it (`CiContext::event`).
    event: &'static str,
    /// In a sentence, with its article: "a deployment_status".
    pub one: &'static str,
    /// In a list: "deployment_status deliveries".
    many: &'static str,
    environment: bool,
    workflow: bool,
    /// Whether it can come without its repository (a route's `repo_name` then gives one).
    nameless: bool,
    /// The setting that makes the relay take it, when it is optional.
    setting: Option<&'static str>,
}

impl Kind {
    /// Whether a record of this kind can carry `key` (for `repo_name`: can lack a repository).
    pub fn carries(&self, key: Key) -> bool {
        match key {
            Key::Repo => true,
            Key::Environment => self.environment,
            Key::Workflow => self.workflow,
            Key::RepoName => self.nameless,
        }
    }
}

pub const KINDS: [Kind; 6] = [
    Kind {
        source: Source::GitHub,
        event: "deployment_status",
        one: "a deployment_status",
        many: "deployment_status deliveries",
        environment: true,
        workflow: false,
        nameless: false,
        setting: Some("deployment_status to ALLSTACKS_GITHUB_EVENTS"),
    },
    Kind {
        source: Source::GitHub,
        event: "workflow_run",
        one: "a workflow_run",
        many: "workflow_run deliveries",
        environment: false,
        workflow: true,
        nameless: false,
        setting: Some("workflow_run to ALLSTACKS_GITHUB_EVENTS (with ALLSTACKS_WORKFLOWS)"),
    },
    Kind {
        source: Source::GitLab,
        event: "deployment",
        one: "a GitLab deployment",
        many: "GitLab deployment events",
        environment: true,
        workflow: false,
        nameless: false,
        setting: Some("deployment to ALLSTACKS_GITLAB_EVENTS"),
    },
    Kind {
        source: Source::GitLab,
        event: "pipeline",
        one: "a GitLab pipeline",
        many: "GitLab pipeline events",
        environment: true,
        workflow: true,
        nameless: false,
        setting: Some("pipeline to ALLSTACKS_GITLAB_EVENTS"),
    },
    Kind {
        source: Source::ArgoCd,
        event: "argocd",
        one: "an Argo CD notification",
        many: "Argo CD notifications",
        environment: false,
        workflow: false,
        nameless: true,
        setting: None,
    },
    Kind {
        source: Source::Flux,
        event: "flux",
        one: "a Flux event",
        many: "Flux events",
        environment: true,
        workflow: false,
        nameless: true,
        setting: None,
    },
];

/// Which kinds the relay takes in: `ALLSTACKS_GITHUB_EVENTS` and `ALLSTACKS_GITLAB_EVENTS`.
#[derive(Debug, Clone, Copy)]
pub struct Taken {
    pub deployment_status: bool,
    pub workflow_run: bool,
    pub gitlab_deployment: bool,
    pub pipeline: bool,
}

impl Taken {
    pub fn of(github: &GithubEvents, gitlab: &GitlabEvents) -> Taken {
        Taken {
            deployment_status: github.deployment_status,
            workflow_run: github.workflow_run,
            gitlab_deployment: gitlab.deployment,
            pipeline: gitlab.pipeline,
        }
    }

    /// What is taken when `ALLSTACKS_GITHUB_EVENTS` and `ALLSTACKS_GITLAB_EVENTS` are unset.
    pub const DEFAULT: Taken = Taken {
        deployment_status: true,
        workflow_run: false,
        gitlab_deployment: true,
        pipeline: false,
    };

    /// Every kind.
    pub const ALL: Taken = Taken {
        deployment_status: true,
        workflow_run: true,
        gitlab_deployment: true,
        pipeline: true,
    };

    fn takes(&self, kind: &Kind) -> bool {
        match (kind.source, kind.event) {
            (Source::GitHub, "deployment_status") => self.deployment_status,
            (Source::GitHub, _) => self.workflow_run,
            (Source::GitLab, "deployment") => self.gitlab_deployment,
            (Source::GitLab, _) => self.pipeline,
            (Source::ArgoCd | Source::Flux, _) => true,
        }
    }
}

/// The kind of a mapped record of `source`.
pub fn of(source: Source, ctx: &CiContext) -> Option<&'static Kind> {
    KINDS
        .iter()
        .find(|k| k.source == source && ctx.event == Some(k.event))
}

/// Why `key` of a route that takes `source` (`None`: every source) can never match a record,
/// or for `repo_name` never be used, when the relay takes `taken`: the end of a sentence
/// ("can never match: ..."). `None` when a record it takes can carry it.
pub fn never(source: Option<Source>, key: Key, taken: Taken) -> Option<String> {
    let of_source = |k: &&Kind| source.is_none_or(|s| s == k.source);
    let kinds: Vec<&Kind> = KINDS
        .iter()
        .filter(of_source)
        .filter(|k| taken.takes(k))
        .collect();
    if kinds.is_empty() || kinds.iter().any(|k| k.carries(key)) {
        return None;
    }
    let what = match source {
        Some(s) => format!("source {:?}", s.name()),
        None => "source \"*\"".to_string(),
    };
    let list: Vec<&str> = kinds.iter().map(|k| k.many).collect();
    let per = match source {
        Some(Source::GitHub) => ", per ALLSTACKS_GITHUB_EVENTS",
        Some(Source::GitLab) => ", per ALLSTACKS_GITLAB_EVENTS",
        _ => "",
    };
    let taken_list = format!("the records {what} takes ({}{per})", list.join(", "));
    if key == Key::RepoName {
        return Some(format!(
            "would never be used: {taken_list} always name their repository; repo_name gives one \
             to Argo CD and Flux records that name none (match repositories with repo)"
        ));
    }
    let enable: Vec<&str> = KINDS
        .iter()
        .filter(of_source)
        .filter(|k| !taken.takes(k) && k.carries(key))
        .filter_map(|k| k.setting)
        .collect();
    let others: Vec<&str> = [Key::Repo, Key::Environment, Key::Workflow]
        .into_iter()
        .filter(|other| *other != key && kinds.iter().any(|k| k.carries(*other)))
        .map(Key::name)
        .collect();
    let instead = format!("match them by {} instead", others.join(" or "));
    let hint = if enable.is_empty() {
        instead
    } else {
        let add = enable.join(" or ");
        format!("add {add} to take records that have one, or {instead}")
    };
    Some(format!(
        "can never match: {taken_list} have no {}; {hint}",
        key.missing()
    ))
}

/// How a record of `source` that lacks `key` is described: "a deployment_status has no
/// workflow" for a kind that never carries it, "this Flux event has no environment" for one
/// that carries it on some records only.
pub fn lacking(source: Source, ctx: &CiContext, key: Key) -> String {
    let missing = key.missing();
    match of(source, ctx) {
        Some(kind) if !kind.carries(key) => format!("{} has no {missing}", kind.one),
        Some(kind) => {
            let noun = kind.one.split_once(' ').map_or(kind.one, |(_, noun)| noun);
            format!("this {noun} has no {missing}")
        }
        None => format!("this record has no {missing}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_no_record_of_the_source_carries() {
        let never = |source, key, taken| never(source, key, taken);
        // The documented mistake: a workflow on GitHub under the default events.
        let github_workflow = never(Some(Source::GitHub), Key::Workflow, Taken::DEFAULT).unwrap();
        assert_eq!(
            github_workflow,
            "can never match: the records source \"github\" takes (deployment_status deliveries, \
             per ALLSTACKS_GITHUB_EVENTS) have no workflow; add workflow_run to \
             ALLSTACKS_GITHUB_EVENTS (with ALLSTACKS_WORKFLOWS) to take records that have one, or \
             match them by repo or environment instead"
        );
        assert_eq!(never(Some(Source::GitHub), Key::Workflow, Taken::ALL), None);
        let runs_only = Taken {
            deployment_status: false,
            workflow_run: true,
            ..Taken::DEFAULT
        };
        assert!(
            never(Some(Source::GitHub), Key::Environment, runs_only)
                .unwrap()
                .contains("(workflow_run deliveries, per ALLSTACKS_GITHUB_EVENTS) have no environment; add deployment_status to ALLSTACKS_GITHUB_EVENTS")
        );
        assert_eq!(
            never(Some(Source::GitHub), Key::Environment, Taken::DEFAULT),
            None
        );
        // A GitLab pipeline's name is its workflow; a deployment has none.
        assert!(
            never(Some(Source::GitLab), Key::Workflow, Taken::DEFAULT)
                .unwrap()
                .contains("add pipeline to ALLSTACKS_GITLAB_EVENTS")
        );
        assert_eq!(never(Some(Source::GitLab), Key::Workflow, Taken::ALL), None);
        assert_eq!(
            never(Some(Source::GitLab), Key::Environment, Taken::DEFAULT),
            None
        );
        // Argo CD: no environment, no workflow, whatever the events.
        for key in [Key::Environment, Key::Workflow] {
            let why = never(Some(Source::ArgoCd), key, Taken::ALL).unwrap();
            assert!(
                why.contains("(Argo CD notifications) have no")
                    && why.ends_with("match them by repo instead"),
                "{why}"
            );
        }
        assert_eq!(
            never(Some(Source::Flux), Key::Environment, Taken::ALL),
            None
        );
        assert!(never(Some(Source::Flux), Key::Workflow, Taken::ALL).is_some());
        // "*": only when no source carries it.
        let any_workflow = never(None, Key::Workflow, Taken::DEFAULT).unwrap();
        assert!(
            any_workflow.contains("add workflow_run to ALLSTACKS_GITHUB_EVENTS (with ALLSTACKS_WORKFLOWS) or pipeline to ALLSTACKS_GITLAB_EVENTS"),
            "{any_workflow}"
        );
        assert_eq!(never(None, Key::Workflow, Taken::ALL), None);
        assert_eq!(never(None, Key::Environment, Taken::DEFAULT), None);
        for source in Source::ALL {
            assert_eq!(never(Some(source), Key::Repo, Taken::DEFAULT), None);
        }
    }

    #[test]
    fn repo_name_is_for_records_that_may_name_no_repository() {
        for source in [Source::GitHub, Source::GitLab] {
            let why = never(Some(source), Key::RepoName, Taken::ALL).unwrap();
            assert!(why.starts_with("would never be used: "), "{why}");
            assert!(why.contains("always name their repository"), "{why}");
        }
        for source in [Some(Source::ArgoCd), Some(Source::Flux), None] {
            assert_eq!(never(source, Key::RepoName, Taken::DEFAULT), None);
        }
    }
}
