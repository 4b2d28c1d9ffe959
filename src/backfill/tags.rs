//! The local repository's tags as a source (`git-tags`), mapped by [`crate::events::git::tag`].
//! Tags are listed once (names, commits, dates: a few hundred bytes each), newest first, then
//! handed on in pages like an API's records.

use std::collections::VecDeque;
use std::path::Path;

use super::options::Options;
use super::{Control, Item, Page, Place, Source, Window};
use crate::api::ApiError;
use crate::env::Sourced;
use crate::git::{self, Tag};

const PAGE: usize = 100;

pub struct Tags {
    tags: VecDeque<Tag>,
    repo: Option<Sourced<String>>,
}

impl Tags {
    /// The tags of the repository at `dir` matching `--pattern` in `--since`/`--until`; `Err`
    /// when there is no repository. Tags that mark no commit are warned about and counted as
    /// found and skipped.
    pub fn new(dir: &Path, o: &Options, ctl: &Control) -> Result<Tags, ApiError> {
        let mut warnings = Vec::new();
        let all = git::tags(dir, &o.pattern, &mut warnings).map_err(ApiError::NotFound)?;
        // Each is a tag that marks no commit: listed, and skipped (spec/backfill.md).
        let counts = &ctl.progress.counts;
        for w in warnings {
            super::Counts::add(&counts.found, 1);
            super::Counts::add(&counts.skipped, 1);
            ctl.progress.warn(&w);
        }
        let window = Window {
            since: o.since,
            until: o.until,
        };
        let tags: VecDeque<Tag> = all
            .into_iter()
            .filter(|t| window.place_at(git::tag_time(t)) == Place::In)
            .collect();
        ctl.progress.set_total(tags.len() as u64);
        Ok(Tags {
            tags,
            repo: o.repo.clone(),
        })
    }
}

impl Source for Tags {
    fn next_page(&mut self, _ctl: &Control) -> Result<Option<Page>, ApiError> {
        if self.tags.is_empty() {
            return Ok(None);
        }
        let n = self.tags.len().min(PAGE);
        let items = self
            .tags
            .drain(..n)
            .map(|t| Item::Record {
                ctx: Box::new(crate::events::git::tag(&t, self.repo.as_ref())),
                what: format!("tag {:?}", t.name),
            })
            .collect();
        Ok(Some(Page {
            items,
            examined: n as u64,
        }))
    }
}
