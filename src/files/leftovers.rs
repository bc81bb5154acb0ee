//! Temporary names that say which process made them, so a run can remove
//! what a run killed with SIGKILL left behind (SIGINT and SIGTERM clean up
//! themselves; `kill -9` cannot be caught).
//!
//! A temporary file or directory is named `PREFIX<pid>-<random>`. It is stale
//! when no process with that pid exists, or the one that does is not slimify
//! (the pid was reused).

use std::fs;
use std::path::Path;

/// Beside a target: `.slimify-tmp-<pid>-…` (hidden, so `ls` stays clean).
pub const BESIDE_TARGET: &str = ".slimify-tmp-";
/// In the temporary directory: `slimify-<pid>-…` (decompressed layer spools).
pub const SPOOL: &str = "slimify-";

/// The prefix this process gives its temporary names.
pub fn prefix(kind: &str) -> String {
    format!("{kind}{}-", std::process::id())
}

fn is_running_slimify(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim().starts_with("slimify"))
}

/// Remove entries of `dir` named `kind<pid>-…` whose process is gone; returns
/// how many. Best effort: a name that does not parse, or that cannot be
/// removed, is left alone.
pub fn remove_stale(dir: &Path, kind: &str) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(kind)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid == std::process::id() || is_running_slimify(pid) {
            continue;
        }
        let path = e.path();
        let gone = match e.file_type() {
            Ok(t) if t.is_dir() => fs::remove_dir_all(&path).is_ok(),
            Ok(_) => fs::remove_file(&path).is_ok(),
            Err(_) => false,
        };
        removed += usize::from(gone);
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_leftovers_of_dead_processes_are_removed() {
        let d = tempfile::tempdir().unwrap();
        // A pid above the kernel's maximum is never running.
        let dead = d.path().join(".slimify-tmp-4194305-abc");
        let mine = d.path().join(format!("{}abc", prefix(BESIDE_TARGET)));
        let other = d.path().join(".slimify-tmp-notapid");
        let spool = d.path().join("slimify-4194305-xyz");
        for f in [&dead, &mine, &other] {
            fs::write(f, b"x").unwrap();
        }
        fs::create_dir_all(spool.join("inner")).unwrap();
        assert_eq!(remove_stale(d.path(), BESIDE_TARGET), 1);
        assert_eq!(remove_stale(d.path(), SPOOL), 1);
        assert!(!dead.exists() && !spool.exists());
        assert!(mine.exists() && other.exists());
    }
}
