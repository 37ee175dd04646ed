//! Writing a run's changes (`apply`): every file checked for writability first, then every new
//! text written to a temporary file beside its file (owner, group and mode kept) and synced,
//! then, only when all are, renamed over the originals in path order. A file that changed since
//! it was read is not written.

use std::fs;
use std::io::Write;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("changed since it was read; not written")]
    Changed,
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
}

fn denied(why: &str) -> WriteError {
    WriteError::Io(std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        why,
    ))
}

fn dir_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Can [`replace`] write `path`? The mode bits are honoured as the owner's intent even where the
/// OS would not stop the write (root): a read-only file, or a directory without write
/// permission (the temporary file is created beside the file). Then the OS is asked: opening
/// the file for writing, without truncating it, meets permissions, the immutable flag and a
/// read-only mount; `access(2)` on the directory meets the same for the temporary file and the
/// rename. Nothing is changed.
pub fn check_writable(path: &Path) -> Result<(), WriteError> {
    let meta = fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Err(WriteError::Io(std::io::Error::other(
            "is a symlink; not replaced",
        )));
    }
    if !meta.is_file() {
        return Err(WriteError::Io(std::io::Error::other("not a regular file")));
    }
    if meta.permissions().readonly() {
        return Err(denied("file is read-only"));
    }
    let dir = dir_of(path);
    use std::os::unix::fs::PermissionsExt;
    if fs::metadata(dir)?.permissions().mode() & 0o222 == 0 {
        return Err(denied(
            "its directory is read-only (the temporary file goes beside the file)",
        ));
    }
    fs::OpenOptions::new().write(true).open(path)?;
    use rustix::fs::Access;
    rustix::fs::access(dir, Access::WRITE_OK | Access::EXEC_OK).map_err(|e| {
        WriteError::Io(std::io::Error::new(
            std::io::Error::from(e).kind(),
            format!("its directory is not writable: {e}"),
        ))
    })?;
    Ok(())
}

/// A test hook: with `KCODEMOD_TEST_DISK_FULL_AFTER_BYTES=N` in the environment, writes fail
/// as on a full disk (ENOSPC) once the process has written N bytes through [`disk_take`]. It
/// lets the tests fill a disk without root or a small filesystem.
pub fn disk_take(n: usize) -> std::io::Result<()> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static USED: AtomicU64 = AtomicU64::new(0);
    let Some(limit) = std::env::var("KCODEMOD_TEST_DISK_FULL_AFTER_BYTES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return Ok(());
    };
    let used = USED.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
    if used > limit {
        return Err(std::io::Error::from_raw_os_error(28)); // ENOSPC
    }
    Ok(())
}

/// The new text of `path`, in a temporary file beside it: written, given the file's owner,
/// group and mode, synced and closed (a treewide run holds thousands), not yet renamed.
/// Dropping it removes the temporary file.
pub fn stage(path: &Path, new: &[u8]) -> Result<tempfile::TempPath, WriteError> {
    check_writable(path)?;
    let meta = fs::symlink_metadata(path)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".kcodemod-")
        .suffix(".tmp")
        .tempfile_in(dir_of(path))?;
    disk_take(new.len())?;
    tmp.write_all(new)?;
    keep_owner(tmp.as_file(), &meta)?;
    // After the owner: chown(2) may clear set-id bits, the mode is set last.
    tmp.as_file().set_permissions(meta.permissions())?;
    tmp.as_file().sync_all()?;
    Ok(tmp.into_temp_path())
}

/// The temporary file gets the owner and group of the file it replaces (root rewriting a
/// tree that belongs to someone else must not make the files root's). When that is not
/// allowed, the file is not written: the rename would change its owner.
fn keep_owner(tmp: &fs::File, meta: &fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let now = tmp.metadata()?;
    if now.uid() == meta.uid() && now.gid() == meta.gid() {
        return Ok(());
    }
    std::os::unix::fs::fchown(tmp, Some(meta.uid()), Some(meta.gid())).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!(
                "cannot give the new file its owner and group {}:{} ({})",
                meta.uid(),
                meta.gid(),
                crate::pipeline::io_why(&e)
            ),
        )
    })
}

/// Rename a staged text over `path`, if the file still holds `expected` (someone may have
/// edited it meanwhile), and sync the directory.
pub fn commit(path: &Path, expected: &[u8], staged: tempfile::TempPath) -> Result<(), WriteError> {
    if fs::read(path)? != expected {
        return Err(WriteError::Changed);
    }
    staged.persist(path).map_err(|e| WriteError::Io(e.error))?;
    if let Ok(d) = fs::File::open(dir_of(path)) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Replace `path` (whose content was `expected` when read) with `new`, completely or not at all.
pub fn replace(path: &Path, expected: &[u8], new: &[u8]) -> Result<(), WriteError> {
    commit(path, expected, stage(path, new)?)
}

/// What `apply` did: the files written and those left as they were (relative paths).
#[derive(Default)]
pub struct Applied {
    pub lists: crate::report::Interrupted,
    /// SIGINT/SIGTERM stopped the writes.
    pub interrupted: bool,
    /// Files found unwritable (before any write, or when writing their new text failed), when
    /// that stopped every write.
    pub refused: usize,
}

/// Write every changed file, all or nothing. Every file is first checked for writability;
/// then every new text is written and synced to a temporary file beside its file; only when
/// all are, are they renamed over the originals, in path order. A file that cannot be written
/// (or whose new text cannot: a full disk) stops all writes and removes the temporary files (a
/// half-converted tree does not build), unless `keep_going`. SIGINT/SIGTERM while the texts
/// are written discards them; the renames, quick, are not interrupted. A file not written
/// keeps its sites out of the converted count; one that cannot be written is also a problem of
/// the run.
pub fn apply(res: &mut crate::pipeline::RunResult, keep_going: bool) -> Applied {
    res.applied = true;
    let mut done = Applied::default();
    let mut failed = Vec::new();
    for f in res.files.iter_mut().filter(|f| f.new.is_some()) {
        if let Err(e) = check_writable(&f.path) {
            f.unwritten = Some(format!("not written: {e}"));
            failed.push(problem(&f.path, &e));
        }
    }
    let staged = if failed.is_empty() || keep_going {
        stage_all(res, keep_going, &mut failed)
    } else {
        None
    };
    let Some(staged) = staged else {
        // Nothing is renamed: every temporary file is gone with `staged`.
        if crate::interrupted() {
            done.interrupted = true;
            for f in res.files.iter_mut().filter(|f| f.changes()) {
                f.unwritten = Some("not written: interrupted".into());
                done.lists.not_written(f);
            }
        } else {
            done.refused = failed.len();
            for f in res.files.iter_mut().filter(|f| f.changes()) {
                f.unwritten = Some("not written: other files cannot be written".into());
            }
        }
        finish(res, failed);
        return done;
    };
    for (i, tmp) in staged {
        let f = &mut res.files[i];
        match commit(&f.path, &f.original, tmp) {
            Ok(()) => done.lists.written(f),
            Err(e) => {
                f.unwritten = Some(format!("not written: {e}"));
                failed.push(problem(&f.path, &e));
            }
        }
    }
    finish(res, failed);
    done
}

fn problem(path: &Path, e: &WriteError) -> crate::walk::Problem {
    crate::walk::Problem {
        path: path.to_path_buf(),
        why: e.to_string(),
    }
}

fn finish(res: &mut crate::pipeline::RunResult, failed: Vec<crate::walk::Problem>) {
    res.problems.extend(failed);
    res.problems.sort_by(|a, b| a.path.cmp(&b.path));
}

/// Every changed file's new text, staged: `(file index, temporary file)`. `None` when the
/// run must write nothing (interrupted, or a text could not be staged without `keep_going`).
fn stage_all(
    res: &mut crate::pipeline::RunResult,
    keep_going: bool,
    failed: &mut Vec<crate::walk::Problem>,
) -> Option<Vec<(usize, tempfile::TempPath)>> {
    // A test hook: slow writes down so that a signal can land mid-run.
    let delay = std::env::var("KCODEMOD_TEST_WRITE_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(std::time::Duration::from_millis);
    let mut staged = Vec::new();
    for (i, f) in res.files.iter_mut().enumerate() {
        if !f.changes() {
            continue;
        }
        if crate::interrupted() {
            return None;
        }
        if let Some(d) = delay {
            std::thread::sleep(d);
        }
        match stage(&f.path, f.new.as_deref().unwrap()) {
            Ok(tmp) => staged.push((i, tmp)),
            Err(e) => {
                f.unwritten = Some(format!("not written: {e}"));
                failed.push(problem(&f.path, &e));
                if !keep_going {
                    return None;
                }
            }
        }
    }
    // The last signal check: past it, every rename is made.
    (!crate::interrupted()).then_some(staged)
}

impl Applied {
    /// What `apply` says after the diagnostics: why nothing was written, or what an
    /// interrupt left.
    pub fn report(&self, err: &mut dyn std::io::Write) -> std::io::Result<()> {
        if self.refused > 0 {
            writeln!(
                err,
                "kcodemod: nothing written: {} files cannot be written (listed above); fix them or pass --keep-going",
                self.refused
            )?;
        }
        if self.interrupted {
            let l = &self.lists;
            writeln!(
                err,
                "kcodemod: interrupted: {} files written, {} not written",
                l.written.len(),
                l.not_written.len()
            )?;
            for (head, list) in [("written:", &l.written), ("not written:", &l.not_written)] {
                writeln!(err, "{head}")?;
                for p in list {
                    writeln!(err, "  {p}")?;
                }
            }
        }
        Ok(())
    }
}
