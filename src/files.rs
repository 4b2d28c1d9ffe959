//! Files that we append to at a path the user chose or that lives beside the relay's queue (the
//! backfill ledger, the relay's `seen` file and catch-up checkpoint), opened so that nobody
//! else can redirect our writes (SPEC.md, Security rules: "Files named by the user are opened
//! safely").
//!
//! A symlink at the path is refused, never followed (a planted `ledger -> ~/.bashrc` would get
//! job ids appended to that file); the file is created owner-only (0600); and its directory
//! must not be writable by others, where anyone could put such a symlink (or swap the file)
//! between two runs. A missing directory is created owner-only (0700).

use std::fs::{self, File};
use std::path::Path;

/// Opens `path` for reading and appending, creating it (0600) when it does not exist. `Err`
/// names the path and the rule: a symlink, something that is not a regular file, a directory
/// others can write to, or the I/O error.
pub fn open_private(path: &Path) -> Result<File, String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.exists() {
        create_private_dir(dir)?;
    }
    check_dir(dir)?;
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(symlink_refused(path));
    }
    let mut options = File::options();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NOFOLLOW: a symlink put there since the check above still fails the open.
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return symlink_refused(path);
        }
        format!("cannot open {}: {e}", path.display())
    })?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot use {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!(
            "{} is not a regular file: refusing to write to it",
            path.display()
        ));
    }
    Ok(file)
}

fn symlink_refused(path: &Path) -> String {
    format!(
        "{} is a symbolic link: refusing to write through it (it could point at any file of \
         yours). Remove it, or name a file of your own",
        path.display()
    )
}

/// Creates `dir` and its missing parents, owner-only (0700 where modes exist).
pub fn create_private_dir(dir: &Path) -> Result<(), String> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| format!("cannot create the directory {}: {e}", dir.display()))
}

/// `dir` must not be writable by others: anyone could plant a symlink or swap the file there.
fn check_dir(dir: &Path) -> Result<(), String> {
    let meta = fs::metadata(dir).map_err(|e| format!("cannot use {}: {e}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mode = meta.mode() & 0o7777;
        if mode & 0o002 != 0 {
            return Err(format!(
                "the directory {} is writable by others (mode {mode:03o}): anyone could plant \
                 a symlink there to redirect what is written. Use a directory of your own \
                 (chmod o-w)",
                dir.display()
            ));
        }
    }
    let _ = meta;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_owner_only_files_in_new_private_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a/b/ledger");
        let mut f = open_private(&path).unwrap();
        f.write_all(b"1\n").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&tmp.path().join("a/b")), 0o700);
        // Opened again, it appends and reads.
        let mut f = open_private(&path).unwrap();
        f.write_all(b"2\n").unwrap();
        let mut text = String::new();
        File::open(&path)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "1\n2\n");
    }

    #[test]
    fn refuses_symlinks_others_writable_directories_and_non_files() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("target");
        fs::write(&target, "keep\n").unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = open_private(&link).unwrap_err();
        assert!(e.contains("is a symbolic link"), "{e}");
        assert!(e.contains(&link.display().to_string()), "{e}");
        let dangling = tmp.path().join("dangling");
        std::os::unix::fs::symlink(tmp.path().join("nowhere"), &dangling).unwrap();
        assert!(open_private(&dangling).is_err());
        assert!(!tmp.path().join("nowhere").exists(), "not created through");
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep\n");

        let shared = tmp.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o1777)).unwrap();
        let e = open_private(&shared.join("ledger")).unwrap_err();
        assert!(e.contains("writable by others (mode 1777)"), "{e}");
        assert!(!shared.join("ledger").exists());

        let not_a_file = tmp.path().join("dir");
        fs::create_dir(&not_a_file).unwrap();
        let e = open_private(&not_a_file).unwrap_err();
        assert!(
            e.contains("cannot open") || e.contains("not a regular file"),
            "{e}"
        );
    }
}
