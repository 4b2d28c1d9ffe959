//! The git repository in the working directory: `HEAD`, the remote's `owner/name`, the user's
//! email, and short-SHA resolution. The only module that touches git2.
//!
//! libgit2 cannot open SHA-256 repositories (the `objectformat` extension), so for those we
//! read `HEAD` from the files directly and the config through git2's config parser, which
//! works on any repository.

use std::fs;
use std::path::{Path, PathBuf};

use crate::env::Sourced;

/// What the local repository says; every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitInfo {
    /// Full lowercase hex SHA of `HEAD` (40 or 64 characters).
    pub head: Option<Sourced<String>>,
    /// `owner/name` (or `group/sub/name`) parsed from the remote URL.
    pub repo_name: Option<Sourced<String>>,
    /// `user.email` from the repository's or the user's git config.
    pub user_email: Option<Sourced<String>>,
    /// Where the repository's `.git` directory is (for the default state file).
    pub git_dir: Option<PathBuf>,
    /// Problems worth a warning (a corrupt `HEAD`, an unparsable remote).
    pub warnings: Vec<String>,
}

/// Finds the repository containing `dir` (like `git rev-parse --git-dir`, honouring
/// `GIT_DIR`-less discovery only) and reads what it can. Never fails: a missing repository
/// yields an empty [`GitInfo`].
pub fn inspect(dir: &Path) -> GitInfo {
    let mut info = GitInfo::default();
    let Some(git_dir) = discover(dir) else {
        return info;
    };
    let config = git2::Config::open(&git_dir.join("config")).ok();
    match read_head(&git_dir) {
        Ok(Some(sha)) => info.head = Some(Sourced::new(sha, "git HEAD")),
        Ok(None) => info
            .warnings
            .push("the git repository has no commits yet".into()),
        Err(e) => info.warnings.push(format!("could not read git HEAD: {e}")),
    }
    let remote = config.as_ref().and_then(remote_url);
    info.repo_name = match &remote {
        Some((remote, url)) => match repo_slug_from_url(url) {
            Some(slug) => Some(Sourced::new(slug, format!("git remote {remote}"))),
            // A remote that is a local path (a clone of a clone): its last component.
            None => last_component(url).map(|name| {
                info.warnings.push(format!(
                    "git remote {remote} has no owner/name in its URL: using {name:?} as \
                     repo_name; pass --repo-name to set it"
                ));
                Sourced::new(name, format!("git remote {remote} (path)"))
            }),
        },
        // No remote at all: the checkout's directory name is the best guess.
        None => git_dir
            .parent()
            .and_then(|p| last_component(&p.to_string_lossy()))
            .map(|name| {
                info.warnings.push(format!(
                    "the git repository has no remote: using its directory name {name:?} as \
                     repo_name; pass --repo-name to set it"
                ));
                Sourced::new(name, "directory name")
            }),
    };
    info.user_email = user_email(config.as_ref());
    info.git_dir = Some(git_dir);
    info
}

/// The last path component of a path or URL, without `.git`.
fn last_component(path: &str) -> Option<String> {
    let trimmed = path.trim_end_matches(['/', '\\']);
    let name = trimmed.rsplit(['/', '\\']).next()?;
    let name = name.strip_suffix(".git").unwrap_or(name);
    (!name.is_empty()).then(|| name.to_string())
}

/// Walks up from `dir` to the first directory holding `.git` (a directory, or a file with
/// `gitdir: ...` as in worktrees and submodules) and returns the git directory.
pub fn discover(dir: &Path) -> Option<PathBuf> {
    let dir = dir.canonicalize().ok()?;
    for candidate in dir.ancestors() {
        let dot_git = candidate.join(".git");
        if dot_git.is_dir() {
            return Some(dot_git);
        }
        if dot_git.is_file() {
            let text = fs::read_to_string(&dot_git).ok()?;
            let target = text.trim().strip_prefix("gitdir:")?.trim();
            let path = candidate.join(target);
            return path.is_dir().then_some(path);
        }
    }
    None
}

/// The commit `HEAD` points at, read from the files (loose ref, then `packed-refs`), so it
/// costs the same on a repository with one commit or a million and works for SHA-256.
fn read_head(git_dir: &Path) -> Result<Option<String>, String> {
    let common = common_dir(git_dir);
    let head = fs::read_to_string(git_dir.join("HEAD")).map_err(|e| format!("HEAD: {e}"))?;
    let mut target = head.trim().to_string();
    for _ in 0..5 {
        let Some(name) = target.strip_prefix("ref:").map(str::trim) else {
            return if is_full_sha(&target) {
                Ok(Some(target.to_ascii_lowercase()))
            } else {
                Err(format!("HEAD holds {target:?}, not a commit"))
            };
        };
        if !name.starts_with("refs/") || name.contains("..") {
            return Err(format!("HEAD points at {name:?}"));
        }
        let loose = [git_dir.join(name), common.join(name)]
            .into_iter()
            .find_map(|p| fs::read_to_string(p).ok());
        match loose {
            Some(text) => target = text.trim().to_string(),
            None => return Ok(packed_ref(&common, name)),
        }
    }
    Err("HEAD is a chain of symbolic refs that is too long".into())
}

fn common_dir(git_dir: &Path) -> PathBuf {
    match fs::read_to_string(git_dir.join("commondir")) {
        Ok(text) => git_dir.join(text.trim()),
        Err(_) => git_dir.to_path_buf(),
    }
}

fn packed_ref(common: &Path, name: &str) -> Option<String> {
    let mut file = fs::File::open(common.join("packed-refs")).ok()?;
    let len = file.metadata().ok()?.len();
    let first = read_line_at(&mut file, 0)?;
    let sorted = first.starts_with(b"#") && first.split(|b| *b == b' ').any(|w| w == b"sorted");
    if sorted {
        // `git pack-refs` sorts the file by ref name (byte order): a binary search reads a
        // dozen short windows instead of the whole file (megabytes with many tags).
        packed_ref_sorted(&mut file, len, first.len() as u64 + 1, name.as_bytes())
    } else {
        packed_ref_scan(file, name.as_bytes())
    }
}

/// A record line `<sha> <name>` split in two, `None` for comments and `^` peel lines.
fn packed_record(line: &[u8]) -> Option<(&[u8], &[u8])> {
    if line.starts_with(b"#") || line.starts_with(b"^") {
        return None;
    }
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let space = line.iter().position(|b| *b == b' ')?;
    Some((&line[..space], &line[space + 1..]))
}

fn full_sha(sha: &[u8]) -> Option<String> {
    let sha = std::str::from_utf8(sha).ok()?;
    is_full_sha(sha).then(|| sha.to_ascii_lowercase())
}

/// The line starting at byte `pos` (without its newline); `None` at end of file.
fn read_line_at(file: &mut fs::File, pos: u64) -> Option<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    file.seek(SeekFrom::Start(pos)).ok()?;
    let mut line = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            return (!line.is_empty()).then_some(line);
        }
        if let Some(i) = buf[..n].iter().position(|b| *b == b'\n') {
            line.extend_from_slice(&buf[..i]);
            return Some(line);
        }
        line.extend_from_slice(&buf[..n]);
    }
}

/// The start of the first line that begins at or after `pos` (`pos` itself when a line
/// begins there).
fn line_start_from(file: &mut fs::File, pos: u64) -> Option<u64> {
    use std::io::{Read, Seek, SeekFrom};
    if pos == 0 {
        return Some(0);
    }
    file.seek(SeekFrom::Start(pos - 1)).ok()?;
    let mut at = pos - 1;
    let mut buf = [0u8; 512];
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        if let Some(i) = buf[..n].iter().position(|b| *b == b'\n') {
            return Some(at + i as u64 + 1);
        }
        at += n as u64;
    }
}

/// Binary search over the byte range `[lo, hi)` of a sorted packed-refs. Invariant: every
/// record starting before `lo` sorts before `name`, every one starting at or after `hi` after.
fn packed_ref_sorted(file: &mut fs::File, len: u64, mut lo: u64, name: &[u8]) -> Option<String> {
    let mut hi = len;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let mut start = line_start_from(file, mid)?;
        // Skip peel lines (`^<sha>`, after an annotated tag) to the next record.
        let (line, record_start) = loop {
            if start >= hi {
                break (None, start);
            }
            let line = read_line_at(file, start)?;
            if line.starts_with(b"^") || line.starts_with(b"#") {
                start += line.len() as u64 + 1;
                continue;
            }
            break (Some(line), start);
        };
        let Some(line) = line else {
            hi = mid;
            continue;
        };
        let (sha, r) = packed_record(&line)?;
        match r.cmp(name) {
            std::cmp::Ordering::Equal => return full_sha(sha),
            std::cmp::Ordering::Less => lo = record_start + line.len() as u64 + 1,
            std::cmp::Ordering::Greater => hi = record_start,
        }
    }
    None
}

/// Any packed-refs, line by line (files written by other tools may be unsorted).
fn packed_ref_scan(mut file: fs::File, name: &[u8]) -> Option<String> {
    use std::io::{BufRead, Seek, SeekFrom};
    file.seek(SeekFrom::Start(0)).ok()?;
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, file);
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        let l = line.strip_suffix(b"\n").unwrap_or(&line);
        if let Some((sha, r)) = packed_record(l) {
            if r == name {
                return full_sha(sha);
            }
        }
    }
}

/// Whether `s` is a full SHA-1 (40) or SHA-256 (64) hex object name.
pub fn is_full_sha(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `origin`'s URL, else the only remote's; `None` with several remotes and no `origin`.
fn remote_url(config: &git2::Config) -> Option<(String, String)> {
    if let Ok(url) = config.get_string("remote.origin.url") {
        return Some(("origin".into(), url));
    }
    let mut urls = Vec::new();
    let mut entries = config.entries(Some(r"remote\..*\.url")).ok()?;
    while let Some(Ok(entry)) = entries.next() {
        if let (Ok(name), Ok(url)) = (entry.name(), entry.value()) {
            let remote = name
                .strip_prefix("remote.")
                .and_then(|n| n.strip_suffix(".url"))
                .unwrap_or(name);
            urls.push((remote.to_string(), url.to_string()));
        }
    }
    (urls.len() == 1).then(|| urls.remove(0))
}

fn user_email(repo_config: Option<&git2::Config>) -> Option<Sourced<String>> {
    let from = |c: &git2::Config| c.get_string("user.email").ok().filter(|e| !e.is_empty());
    if let Some(email) = repo_config.and_then(from) {
        return Some(Sourced::new(email, "git config user.email"));
    }
    let global = git2::Config::open_default().ok()?;
    from(&global).map(|e| Sourced::new(e, "git config user.email"))
}

/// Resolves a short SHA or a ref name (`main`, `v1.2`, `HEAD~1`) to a full SHA through the
/// repository containing `dir`. `None` when there is no repository, the name is unknown or
/// ambiguous, or the repository is SHA-256 (libgit2 cannot open it).
pub fn resolve(dir: &Path, spec: &str) -> Option<String> {
    let repo = git2::Repository::discover(dir).ok()?;
    // An abbreviated SHA is looked up in the object database directly: revparse would first
    // try it as a ref name under every refs/ prefix, which parses the whole packed-refs.
    if (7..40).contains(&spec.len()) && spec.bytes().all(|b| b.is_ascii_hexdigit()) {
        if let Ok(object) = repo.find_object_by_prefix(spec, None) {
            if let Ok(commit) = object.peel_to_commit() {
                return Some(commit.id().to_string());
            }
        }
    }
    let object = repo.revparse_single(spec).ok()?;
    let commit = object.peel_to_commit().ok()?;
    Some(commit.id().to_string())
}

/// The committer time (epoch seconds) of commit `sha` in the repository containing `dir`; `None`
/// when there is no repository, the commit is not in it, or the repository is SHA-256.
pub fn commit_time(dir: &Path, sha: &str) -> Option<i64> {
    let repo = git2::Repository::discover(dir).ok()?;
    let oid = git2::Oid::from_str(sha.trim()).ok()?;
    Some(repo.find_commit(oid).ok()?.time().seconds())
}

/// `owner/name` (or `group/sub/name`) from a remote URL: `https://host/owner/name.git`,
/// `ssh://git@host:22/owner/name`, `git@host:group/sub/name.git`, `file:///srv/git/name.git`
/// gives `None` (no owner). Credentials in the URL are ignored, never returned.
pub fn repo_slug_from_url(url: &str) -> Option<String> {
    let url = url.trim();
    let path = if let Some((scheme, rest)) = url.split_once("://") {
        if scheme.is_empty() || scheme.eq_ignore_ascii_case("file") {
            return None;
        }
        // Drop user:password@host:port.
        let (_, path) = rest.split_once('/')?;
        path
    } else if let Some((host, path)) = url.split_once(':') {
        // scp-like: [user@]host:path. A single letter before ':' is a Windows drive.
        let host = host.rsplit('@').next().unwrap_or(host);
        if host.len() <= 1 || host.contains('/') {
            return None;
        }
        path
    } else {
        return None;
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let path = path.trim_end_matches('/');
    // Azure DevOps: org/project/_git/repo → org/project/repo.
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != "_git")
        .collect();
    // Azure's ssh form `v3/org/project/repo`.
    let parts = match parts.as_slice() {
        ["v3", rest @ ..] if rest.len() == 3 => rest.to_vec(),
        _ => parts,
    };
    if parts.len() < 2 || parts.iter().any(|p| *p == "." || *p == "..") {
        return None;
    }
    Some(parts.join("/"))
}

/// A tag, peeled to the commit it marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// The name without `refs/tags/`.
    pub name: String,
    /// Full lowercase hex SHA of the commit.
    pub commit: String,
    /// An annotated tag (a tag object, with a tagger), not a lightweight one.
    pub annotated: bool,
    pub tagger_email: Option<String>,
    pub tagger_time: Option<i64>,
    pub committer_email: Option<String>,
    pub committer_time: i64,
}

/// The tags of the repository containing `dir` whose names match `pattern` ([`crate::glob`]),
/// newest first. A tag that marks no commit (a tree or a blob) is left out with a warning.
/// SHA-256 repositories, which libgit2 cannot open, are read with `git for-each-ref`. `Err`
/// when there is no repository or it cannot be read.
pub fn tags(dir: &Path, pattern: &str, warnings: &mut Vec<String>) -> Result<Vec<Tag>, String> {
    let git_dir =
        discover(dir).ok_or_else(|| format!("no git repository at or above {}", dir.display()))?;
    let mut tags = if object_format(&git_dir).as_deref() == Some("sha256") {
        tags_by_command(&git_dir, pattern, warnings)?
    } else {
        tags_by_libgit2(&git_dir, pattern, warnings)?
    };
    tags.sort_by(|a, b| tag_time(b).cmp(&tag_time(a)).then(a.name.cmp(&b.name)));
    Ok(tags)
}

/// When a tag was made: its tagger date, else its commit's committer date.
pub fn tag_time(t: &Tag) -> i64 {
    t.tagger_time
        .filter(|_| t.annotated)
        .unwrap_or(t.committer_time)
}

/// `extensions.objectformat` (`sha256`), lower case; `None` for SHA-1 repositories.
fn object_format(git_dir: &Path) -> Option<String> {
    let config = git2::Config::open(&common_dir(git_dir).join("config")).ok()?;
    let format = config.get_string("extensions.objectformat").ok()?;
    Some(format.to_ascii_lowercase())
}

fn tags_by_libgit2(
    git_dir: &Path,
    pattern: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<Tag>, String> {
    let repo = git2::Repository::open(git_dir)
        .map_err(|e| format!("cannot open the git repository {}: {e}", git_dir.display()))?;
    let refs = repo
        .references_glob("refs/tags/*")
        .map_err(|e| format!("cannot list the tags: {e}"))?;
    let mut out = Vec::new();
    for r in refs.flatten() {
        let Some(name) = r.name().ok().and_then(|n| n.strip_prefix("refs/tags/")) else {
            continue;
        };
        if !crate::glob::matches(pattern, name) {
            continue;
        }
        // The object the ref names (`peel(Any)` would go through an annotated tag).
        let object = r
            .resolve()
            .ok()
            .and_then(|r| r.target())
            .and_then(|id| repo.find_object(id, None).ok());
        let Some(object) = object else {
            warnings.push(format!("tag {name:?}: its target cannot be read; skipped"));
            continue;
        };
        let tag = object.as_tag();
        let Ok(commit) = object.peel_to_commit() else {
            warnings.push(format!(
                "tag {name:?} marks no commit (a tree or a blob); skipped"
            ));
            continue;
        };
        let committer = commit.committer();
        let tagger = tag.and_then(|t| t.tagger());
        out.push(Tag {
            name: name.to_string(),
            commit: commit.id().to_string(),
            annotated: tag.is_some(),
            tagger_email: tagger
                .as_ref()
                .and_then(|s| s.email().ok().map(str::to_string)),
            tagger_time: tagger.as_ref().map(|s| s.when().seconds()),
            committer_email: committer.email().ok().map(str::to_string),
            committer_time: committer.when().seconds(),
        });
    }
    Ok(out)
}

/// The `git for-each-ref` fields, NUL-separated, one tag a line.
const TAG_FORMAT: &str = "%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00\
    %(*objectname)%00%(taggeremail)%00%(taggerdate:unix)%00%(committeremail)%00\
    %(committerdate:unix)%00%(*committeremail)%00%(*committerdate:unix)";

/// SHA-256 repositories: libgit2 cannot open them, so the `git` command lists the tags.
fn tags_by_command(
    git_dir: &Path,
    pattern: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<Tag>, String> {
    let out = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(git_dir)
        .args(["for-each-ref", &format!("--format={TAG_FORMAT}"), "refs/tags"])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "reading the tags of a SHA-256 repository needs the git command (libgit2 cannot                  open those): {e}"
            )
        })?;
    if !out.status.success() {
        return Err(format!(
            "git for-each-ref failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut tags = Vec::new();
    for line in text.lines() {
        match for_each_ref_tag(line, pattern) {
            Some(Ok(tag)) => tags.push(tag),
            Some(Err(name)) => warnings.push(format!(
                "tag {name:?} marks no commit (a tree, a blob or another tag); skipped"
            )),
            None => {}
        }
    }
    Ok(tags)
}

/// One line of [`TAG_FORMAT`]: the tag, `Err(name)` for a tag that marks no commit, `None`
/// for a line that is not a tag matching `pattern`.
fn for_each_ref_tag(line: &str, pattern: &str) -> Option<Result<Tag, String>> {
    let f: Vec<&str> = line.split('\0').collect();
    let [
        refname,
        kind,
        object,
        peeled_kind,
        peeled,
        tagger,
        tagged,
        committer,
        committed,
        p_committer,
        p_committed,
    ] = f[..]
    else {
        return None;
    };
    let name = refname.strip_prefix("refs/tags/")?;
    if !crate::glob::matches(pattern, name) {
        return None;
    }
    let email = |e: &str| Some(e.trim_matches(['<', '>']).to_string()).filter(|e| !e.is_empty());
    Some(match (kind, peeled_kind) {
        ("commit", _) => Ok(Tag {
            name: name.to_string(),
            commit: object.to_ascii_lowercase(),
            annotated: false,
            tagger_email: None,
            tagger_time: None,
            committer_email: email(committer),
            committer_time: committed.parse().unwrap_or_default(),
        }),
        ("tag", "commit") => Ok(Tag {
            name: name.to_string(),
            commit: peeled.to_ascii_lowercase(),
            annotated: true,
            tagger_email: email(tagger),
            tagger_time: tagged.parse().ok(),
            committer_email: email(p_committer),
            committer_time: p_committed.parse().unwrap_or_default(),
        }),
        _ => Err(name.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        let cases = [
            ("https://github.com/acme/web.git", Some("acme/web")),
            (
                "https://user:secret@gitlab.example.com/group/sub/name.git",
                Some("group/sub/name"),
            ),
            (
                "ssh://git@gitlab.example.com:2222/group/sub/name.git",
                Some("group/sub/name"),
            ),
            ("git@github.com:acme/web.git", Some("acme/web")),
            ("git@gitlab.com:group/sub/name", Some("group/sub/name")),
            ("https://github.com/acme/web/", Some("acme/web")),
            (
                "https://dev.azure.com/org/project/_git/repo",
                Some("org/project/repo"),
            ),
            (
                "git@ssh.dev.azure.com:v3/org/project/repo",
                Some("org/project/repo"),
            ),
            ("file:///srv/git/name.git", None),
            ("/srv/git/name.git", None),
            ("C:/repos/name", None),
            ("https://github.com/web", None),
            ("", None),
        ];
        for (url, want) in cases {
            assert_eq!(repo_slug_from_url(url).as_deref(), want, "{url}");
        }
    }

    #[test]
    fn packed_refs_sorted_and_not() {
        let dir = tempfile::tempdir().unwrap();
        let sha = |i: usize| format!("{i:040x}");
        let mut names: Vec<String> = (0..3000)
            .map(|i| format!("refs/heads/feature/{i:05}"))
            .chain((0..3000).map(|i| format!("refs/tags/v{i:05}")))
            .chain([
                "refs/heads/main".to_string(),
                "refs/heads/a".into(),
                "refs/heads/zz".into(),
            ])
            .collect();
        names.sort();
        let mut sorted = String::from("# pack-refs with: peeled fully-peeled sorted \n");
        let mut unsorted = String::from("# pack-refs with: peeled \n");
        for (i, n) in names.iter().enumerate() {
            sorted.push_str(&format!("{} {n}\n", sha(i)));
            if n.starts_with("refs/tags/") {
                sorted.push_str(&format!("^{}\n", sha(i + 100_000)));
            }
        }
        for (i, n) in names.iter().enumerate().rev() {
            unsorted.push_str(&format!("{} {n}\n", sha(i)));
        }
        for text in [&sorted, &unsorted] {
            std::fs::write(dir.path().join("packed-refs"), text).unwrap();
            // Every 37th name plus both ends: enough to cross every branch of the search.
            let last = names.len() - 1;
            for (i, n) in names.iter().enumerate() {
                if i % 37 == 0 || i == last || n == "refs/heads/main" {
                    assert_eq!(packed_ref(dir.path(), n), Some(sha(i)), "{n}");
                }
            }
            for missing in [
                "refs/heads/",
                "refs/heads/b",
                "refs/tags/v99999",
                "refs/zzz",
                "a",
            ] {
                assert_eq!(packed_ref(dir.path(), missing), None, "{missing}");
            }
        }
    }

    #[test]
    fn full_sha() {
        assert!(is_full_sha(&"a".repeat(40)));
        assert!(is_full_sha(&"A".repeat(64)));
        assert!(!is_full_sha(&"a".repeat(41)));
        assert!(!is_full_sha(&"g".repeat(40)));
    }
}
