//! `pids`: the processes of the PID namespace the recorder runs in.
//!
//! Run with `docker exec` in a probed container, it lists the numeric
//! entries of /proc (the container's own /proc, so the container's PIDs),
//! sorted numerically, one per line, without its own PID. The caller uses
//! them to blank PIDs out of output it compares.

use std::io::Write;

/// The numeric entries of a /proc listing, sorted, without `own`.
pub fn numeric(names: impl IntoIterator<Item = String>, own: u32) -> Vec<u32> {
    let mut pids: Vec<u32> = names
        .into_iter()
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|n| n.parse().ok())
        .filter(|&p| p != own)
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

pub fn print() -> i32 {
    let entries = match std::fs::read_dir("/proc") {
        Ok(e) => e,
        Err(e) => {
            crate::error(&format!("cannot list /proc: {}", crate::sys::describe(&e)));
            return 1;
        }
    };
    let names = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok());
    let mut text = String::new();
    for pid in numeric(names, std::process::id()) {
        text.push_str(&pid.to_string());
        text.push('\n');
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        crate::error(&format!(
            "cannot write stdout: {}",
            crate::sys::describe(&e)
        ));
        return 1;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_and_filters() {
        let names =
            ["10", "2", "self", "1", "99999999999", "7", "", "acpi", "3x"].map(String::from);
        assert_eq!(numeric(names, 7), vec![1, 2, 10]);
    }
}
