//! Atomic rewrites: a temporary file in the same directory, fsync, rename over the original,
//! the original's permissions kept. A file that changed since it was read is not written.

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

/// Replace `path` (whose content was `expected` when read) with `new`, completely or not at all.
pub fn replace(path: &Path, expected: &[u8], new: &[u8]) -> Result<(), WriteError> {
    let meta = fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Err(WriteError::Io(std::io::Error::other(
            "is a symlink; not replaced",
        )));
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if meta.permissions().readonly() {
        return Err(WriteError::Io(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "file is read-only",
        )));
    }
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
