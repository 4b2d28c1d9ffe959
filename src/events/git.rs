//! A git tag as a deployment (`backfill git-tags`): teams that deploy by tagging a release have
//! their history in the tags. The job is the tag (`tag-{name}`), at the tagged commit, at the
//! time it was tagged (an annotated tag's tagger date, else the commit's committer date), with
//! no duration, Succeeded, triggered by the tagger (else the committer).

use crate::context::{CiContext, Provider};
use crate::env::Sourced;
use crate::git::Tag;

/// A tag of the repository `repo_name` (its remote's `owner/name`, or `--repo`).
pub fn tag(t: &Tag, repo_name: Option<&Sourced<String>>) -> CiContext {
    let mut ctx = CiContext::new(Provider::Local);
    ctx.event = Some("tag");
    let id = Sourced::new(format!("tag-{}", t.name), "git tag name");
    ctx.pipeline_id = Some(id.clone());
    ctx.job_id = Some(id);
    ctx.commit_sha = Some(Sourced::new(t.commit.clone(), "git tag target (peeled)"));
    ctx.repo_name = repo_name.cloned();
    let (who, when) = match (&t.tagger_email, t.tagger_time) {
        (email, Some(time)) if t.annotated => (
            email
                .as_ref()
                .map(|e| Sourced::new(e.clone(), "git tagger email")),
            Sourced::new(time, "git tagger date"),
        ),
        _ => (
            t.committer_email
                .as_ref()
                .map(|e| Sourced::new(e.clone(), "git committer email")),
            Sourced::new(t.committer_time, "git committer date"),
        ),
    };
    ctx.triggered_by = who.filter(|w| !w.value.trim().is_empty());
    ctx.pipeline_started = Some(when.clone());
    ctx.job_started = Some(when.clone());
    ctx.finished = Some(when);
    ctx.status = Some(Sourced::new(
        "success".to_string(),
        "git tag (a tag is a release)",
    ));
    ctx.add_context("tag", Some(t.name.as_str()));
    ctx
}
