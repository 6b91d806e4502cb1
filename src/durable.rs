//! Files written so that a crash, a SIGKILL or a full disk leaves either the old file or the new one whole,
//! never half of one: the bytes go to a temporary file of a unique name beside the target, created with its
//! final permissions (keys and state files are never readable by others, not even for a moment), flushed to
//! the disk, renamed over the target, and the directory flushed so the rename itself survives a power cut.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Permissions of files only their owner may read: keys and state files.
pub const PRIVATE: u32 = 0o600;

/// Permissions of files anyone may read: certificates.
pub const PUBLIC: u32 = 0o644;

/// A temporary name beside `path`, unique to this process and call.
fn temp_name(path: &Path) -> PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.{n}.{:08x}.tmp", std::process::id(), rand::random::<u32>()))
}

/// Write `path` with what `fill` writes (buffered), created with `mode` (unix permissions; the umask may
/// narrow them), durably: see the module. On any error the target is untouched and the temporary file gone.
pub fn write_with(
    path: &Path,
    mode: u32,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = temp_name(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let file = options.open(&tmp)?;
    let written = (|| {
        let mut w = io::BufWriter::with_capacity(1 << 20, file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(path)
}

/// Write `bytes` to `path` with `mode`, durably (see [`write_with`]).
pub fn write(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    write_with(path, mode, |w| w.write_all(bytes))
}

/// Flush the directory holding `path`, so a rename into it is on the disk.
fn sync_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_with_their_mode_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("recmock-durable-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        write(&path, b"old", PRIVATE).unwrap();
        write(&path, b"new", PRIVATE).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // A writer that fails leaves the old file and no temporary one.
        let failed = write_with(&path, PRIVATE, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
