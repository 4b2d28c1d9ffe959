//! The `[[catch_up]]` hooks of the `--config` file: which GitHub organisation or repository
//! hook, which GitLab group or project hook, checked at start; their names in logs and in the
//! checkpoint file, and their addresses under a platform's API.

use serde::Deserialize;

use crate::relay::Source;

/// A `[[catch_up]]` of the `--config` file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    github_org: Option<String>,
    github_repo: Option<String>,
    gitlab_group: Option<IdOrPath>,
    gitlab_project: Option<IdOrPath>,
    hook_id: Option<i64>,
}

/// A GitLab group or project, by id or path.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum IdOrPath {
    Id(i64),
    Path(String),
}

/// Whose log a `[[catch_up]]` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Hook {
    GithubOrg(String),
    GithubRepo(String),
    GitlabGroup(String),
    GitlabProject(String),
}

/// One hook whose deliveries are caught up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    hook: Hook,
    hook_id: u64,
}

impl Entry {
    /// The sender whose endpoint the hook posts to.
    pub fn source(&self) -> Source {
        match self.hook {
            Hook::GithubOrg(_) | Hook::GithubRepo(_) => Source::GitHub,
            Hook::GitlabGroup(_) | Hook::GitlabProject(_) => Source::GitLab,
        }
    }

    /// How it is named in logs and in the checkpoint file: `github_org acme hook 123`.
    pub fn name(&self) -> String {
        let (kind, owner) = match &self.hook {
            Hook::GithubOrg(o) => ("github_org", o),
            Hook::GithubRepo(r) => ("github_repo", r),
            Hook::GitlabGroup(g) => ("gitlab_group", g),
            Hook::GitlabProject(p) => ("gitlab_project", p),
        };
        format!("{kind} {owner} hook {}", self.hook_id)
    }

    /// The hook's address under the API's base: `/orgs/acme/hooks/123`.
    pub fn path(&self) -> String {
        match &self.hook {
            Hook::GithubOrg(o) => format!("/orgs/{o}/hooks/{}", self.hook_id),
            Hook::GithubRepo(r) => format!("/repos/{r}/hooks/{}", self.hook_id),
            Hook::GitlabGroup(g) => format!(
                "/groups/{}/hooks/{}",
                crate::client::encode_component(g),
                self.hook_id
            ),
            Hook::GitlabProject(p) => {
                format!(
                    "/projects/{}/hooks/{}",
                    crate::client::encode_component(p),
                    self.hook_id
                )
            }
        }
    }
}

/// The entries of `specs` (from `label`, the file), or what is wrong with each.
pub fn entries(specs: Vec<Spec>, label: &str) -> Result<Vec<Entry>, Vec<String>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, spec) in specs.into_iter().enumerate() {
        let here = format!("{label} catch_up {}", i + 1);
        match entry(spec, &here) {
            Ok(e) if out.contains(&e) => errors.push(format!("{here}: the same hook twice")),
            Ok(e) => out.push(e),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn entry(spec: Spec, here: &str) -> Result<Entry, String> {
    let id_or_path = |v: IdOrPath| match v {
        IdOrPath::Id(n) => n.to_string(),
        IdOrPath::Path(p) => p.trim().trim_matches('/').to_string(),
    };
    let mut hooks = Vec::new();
    if let Some(o) = spec.github_org {
        hooks.push(Hook::GithubOrg(o.trim().to_string()));
    }
    if let Some(r) = spec.github_repo {
        hooks.push(Hook::GithubRepo(r.trim().to_string()));
    }
    if let Some(g) = spec.gitlab_group {
        hooks.push(Hook::GitlabGroup(id_or_path(g)));
    }
    if let Some(p) = spec.gitlab_project {
        hooks.push(Hook::GitlabProject(id_or_path(p)));
    }
    let [hook] = <[Hook; 1]>::try_from(hooks).map_err(|_| {
        format!("{here}: give exactly one of github_org, github_repo, gitlab_group, gitlab_project")
    })?;
    let name_ok = match &hook {
        Hook::GithubOrg(o) => plain(o, false),
        Hook::GithubRepo(r) => r
            .split_once('/')
            .is_some_and(|(o, n)| plain(o, false) && plain(n, false)),
        Hook::GitlabGroup(p) | Hook::GitlabProject(p) => plain(p, true),
    };
    if !name_ok {
        return Err(format!(
            "{here}: the organisation, repository (owner/name), group or project must be letters, \
             digits, '-', '_' and '.' (and '/' between a GitLab path's parts)"
        ));
    }
    let hook_id = spec
        .hook_id
        .filter(|n| *n > 0)
        .map(|n| n as u64)
        .ok_or_else(|| format!("{here}: hook_id must be the hook's id, a positive integer"))?;
    Ok(Entry { hook, hook_id })
}

/// A name fit for a URL path: 1 to 200 letters, digits, `-`, `_`, `.` (and `/` inside when
/// `slashes`).
fn plain(name: &str, slashes: bool) -> bool {
    (1..=200).contains(&name.len())
        && !name.starts_with('.')
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') || (slashes && b == b'/')
        })
        && !name.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(toml: &str) -> Vec<Spec> {
        #[derive(Deserialize)]
        struct File {
            catch_up: Vec<Spec>,
        }
        toml::from_str::<File>(toml).expect("toml").catch_up
    }
    #[test]
    fn entries_name_one_hook_each() {
        let ok = entries(
            spec(
                "[[catch_up]]\ngithub_org = \"acme\"\nhook_id = 7\n\
                 [[catch_up]]\ngitlab_project = \"acme/sub/web\"\nhook_id = 42\n\
                 [[catch_up]]\ngitlab_group = 12\nhook_id = 1\n",
            ),
            "r.toml",
        )
        .expect("valid");
        assert_eq!(ok[0].name(), "github_org acme hook 7");
        assert_eq!(ok[0].path(), "/orgs/acme/hooks/7");
        assert_eq!(ok[1].path(), "/projects/acme%2Fsub%2Fweb/hooks/42");
        assert_eq!(ok[2].path(), "/groups/12/hooks/1");
        assert_eq!(ok[2].source(), Source::GitLab);
        let bad = entries(
            spec(
                "[[catch_up]]\ngithub_org = \"acme\"\ngithub_repo = \"acme/web\"\nhook_id = 7\n\
                 [[catch_up]]\ngithub_repo = \"acme\"\nhook_id = 7\n\
                 [[catch_up]]\ngitlab_group = \"../admin\"\nhook_id = 7\n\
                 [[catch_up]]\ngithub_org = \"acme\"\n",
            ),
            "r.toml",
        )
        .unwrap_err();
        assert!(
            bad[0].starts_with("r.toml catch_up 1: give exactly one of"),
            "{bad:?}"
        );
        assert!(
            bad[1].starts_with("r.toml catch_up 2: the organisation"),
            "{bad:?}"
        );
        assert!(
            bad[2].starts_with("r.toml catch_up 3: the organisation"),
            "{bad:?}"
        );
        assert!(bad[3].contains("catch_up 4: hook_id must be"), "{bad:?}");
    }
}
