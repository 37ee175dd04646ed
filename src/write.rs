//! Atomic rewrites: a temporary file in the same directory, fsync, rename over the original,
//! the original's permissions kept. A file that changed since it was read is not written, and
//! [`check_writable`] tells beforehand whether a rewrite can succeed.

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
