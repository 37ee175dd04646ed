//! Writing a run's changes (`apply`): every file checked for writability first, then atomic
//! rewrites, in path order: a temporary file in the same directory, fsync, rename over the
//! original, the original's permissions kept. A file that changed since it was read is not
//! written.

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

/// Replace `path` (whose content was `expected` when read) with `new`, completely or not at all.
pub fn replace(path: &Path, expected: &[u8], new: &[u8]) -> Result<(), WriteError> {
    check_writable(path)?;
    let meta = fs::symlink_metadata(path)?;
    let dir = dir_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".kcodemod-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(new)?;
    tmp.as_file().set_permissions(meta.permissions())?;
    tmp.as_file().sync_all()?;
    // Last look before the rename: someone may have edited the file meanwhile.
    if fs::read(path)? != expected {
        return Err(WriteError::Changed);
    }
    tmp.persist(path).map_err(|e| WriteError::Io(e.error))?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// What `apply` did: the files written and those left as they were (relative paths).
#[derive(Default)]
pub struct Applied {
    pub lists: crate::report::Interrupted,
    /// SIGINT/SIGTERM stopped the writes.
    pub interrupted: bool,
    /// Files found unwritable before any write, when that stopped every write.
    pub refused: usize,
}

/// Write every changed file atomically, in path order, until done or interrupted. Every file is
/// first checked for writability: one that cannot be written stops all writes (a half-converted
/// tree does not build), unless `keep_going`. A file not written keeps its sites out of the
/// converted count; one that cannot be written is also a problem of the run.
pub fn apply(res: &mut crate::pipeline::RunResult, keep_going: bool) -> Applied {
    res.applied = true;
    let mut done = Applied::default();
    let mut failed = Vec::new();
    for f in res.files.iter_mut().filter(|f| f.new.is_some()) {
        if let Err(e) = check_writable(&f.path) {
            f.unwritten = Some(format!("not written: {e}"));
            failed.push(crate::walk::Problem {
                path: f.path.clone(),
                why: e.to_string(),
            });
        }
    }
    if !failed.is_empty() && !keep_going {
        done.refused = failed.len();
        for f in res.files.iter_mut().filter(|f| f.changes()) {
            f.unwritten = Some("not written: other files cannot be written".into());
        }
    }
    // A test hook: slow writes down so that a signal can land mid-run.
    let delay = std::env::var("KCODEMOD_TEST_WRITE_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(std::time::Duration::from_millis);
    for f in res.files.iter_mut().filter(|f| f.changes()) {
        let rel = f.rel.clone();
        if crate::interrupted() {
            done.interrupted = true;
            f.unwritten = Some("not written: interrupted".into());
            done.lists.not_written.push(rel);
            continue;
        }
        if let Some(d) = delay {
            std::thread::sleep(d);
        }
        match replace(&f.path, &f.original, f.new.as_deref().unwrap()) {
            Ok(()) => done.lists.written.push(rel),
            Err(e) => {
                f.unwritten = Some(format!("not written: {e}"));
                failed.push(crate::walk::Problem {
                    path: f.path.clone(),
                    why: e.to_string(),
                });
            }
        }
    }
    res.problems.extend(failed);
    res.problems.sort_by(|a, b| a.path.cmp(&b.path));
    done
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
