//! The batch list: one `SOURCE TARGET [FLAGS]` line per image, and the shard
//! of it a run takes.

use crate::pipeline::Select;
use crate::reference::{ImageRef, RefError};

/// One image to slim, with the list line it came from (1-based).
#[derive(Clone, Debug)]
pub struct Entry {
    pub line: usize,
    pub source: ImageRef,
    pub target: ImageRef,
    /// The words after the two references (`--include /data/**`), split
    /// as a POSIX shell splits them; the command line reads them.
    pub flags: Vec<String>,
    /// The selection for this image when its line has flags: the command
    /// line's with the line's added (see [`Select::and`]).
    pub select: Option<Select>,
}

/// A list line slimify cannot use.
#[derive(Debug, thiserror::Error)]
#[error("{name}:{line}: {why}")]
pub struct ListError {
    pub name: String,
    pub line: usize,
    #[source]
    pub why: LineError,
}

#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("expected `SOURCE TARGET [FLAGS]`, found {0} reference(s)")]
    Fields(usize),
    #[error("unbalanced quotes")]
    Quotes,
    /// A flag the line may not carry, or a bad value (the command line's words).
    #[error("{0}")]
    Flags(String),
    #[error(transparent)]
    Reference(#[from] RefError),
    #[error("{target} is also the target of line {first}")]
    DuplicateTarget { target: String, first: usize },
}

/// Parse the whole list before anything runs, so a typo on line 900 is
/// reported before 899 images were slimmed. Blank lines and `#` comments
/// (a `#` that starts a word, to the end of the line) are skipped; words
/// are split as a POSIX shell splits them, so a flag's value may be quoted.
pub fn parse(text: &str, name: &str) -> Result<Vec<Entry>, ListError> {
    let mut entries: Vec<Entry> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let bad = |why: LineError| ListError {
            name: name.to_string(),
            line,
            why,
        };
        let words = shell_words::split(strip_comment(raw)).map_err(|_| bad(LineError::Quotes))?;
        let refs = words.iter().take_while(|w| !w.starts_with('-')).count();
        match (refs, words.as_slice()) {
            (0, []) => continue,
            (2, [source, target, flags @ ..]) => {
                let source = ImageRef::parse(source).map_err(|e| bad(e.into()))?;
                let target = ImageRef::parse(target).map_err(|e| bad(e.into()))?;
                if let Some(first) = entries.iter().find(|j| j.target == target) {
                    return Err(bad(LineError::DuplicateTarget {
                        target: target.to_string(),
                        first: first.line,
                    }));
                }
                entries.push(Entry {
                    line,
                    source,
                    target,
                    flags: flags.to_vec(),
                    select: None,
                });
            }
            _ => return Err(bad(LineError::Fields(refs))),
        }
    }
    Ok(entries)
}

/// The line without its comment: from a `#` at the start of a word on.
fn strip_comment(line: &str) -> &str {
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        if c == '#' && prev.is_whitespace() {
            return &line[..i];
        }
        prev = c;
    }
    line
}

/// A `--shard` value that is not `I/N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--shard {0:?}: expected I/N with 1 <= I <= N, e.g. 2/8")]
pub struct BadShard(pub String);

/// `--shard I/N`: the I-th of N slices (1 ≤ I ≤ N).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub fn parse(s: &str) -> Result<Self, BadShard> {
        let bad = || BadShard(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Entries are dealt round-robin in list order: entry k (0-based) goes to
    /// shard `k mod N + 1`. Every shard gets a near-equal share wherever the
    /// big images sit in the list, and the N shards together cover the list
    /// exactly once.
    pub fn take(&self, jobs: Vec<Entry>) -> Vec<Entry> {
        jobs.into_iter()
            .enumerate()
            .filter(|(k, _)| k % self.count == self.index - 1)
            .map(|(_, j)| j)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "# images\n\
        a:1 oci:/out:a   # trailing comment\n\
        \n\
        docker://127.0.0.1:5000/b:1 docker://127.0.0.1:5000/b:slim\n\
        c:1 oci:/out:c\n\
        d:1 oci:/out:d\n\
        e:1 oci:/out:e\n";

    #[test]
    fn parses_pairs_and_skips_comments() {
        let jobs = parse(LIST, "list").unwrap();
        assert_eq!(jobs.len(), 5);
        assert_eq!(jobs[0].line, 2);
        assert_eq!(jobs[1].line, 4);
        assert_eq!(jobs[1].target.to_string(), "docker://127.0.0.1:5000/b:slim");
    }

    #[test]
    fn flags_follow_the_references_quoted_as_in_a_shell() {
        let jobs = parse(
            "a:1 oci:/o:a --include '/data/**' --entrypoint \"python app.py\" # why\n\
             b:1 oci:/o:b#not-a-comment\n",
            "l",
        )
        .unwrap();
        assert_eq!(
            jobs[0].flags,
            ["--include", "/data/**", "--entrypoint", "python app.py"]
        );
        assert_eq!(jobs[1].target.to_string(), "oci:/o:b#not-a-comment");
        assert!(jobs[1].flags.is_empty());
        let e = parse("a:1 oci:/o:a --include '/x\n", "l").unwrap_err();
        assert_eq!(e.to_string(), "l:1: unbalanced quotes");
        let e = parse("a:1 --include /x\n", "l").unwrap_err();
        assert!(e.to_string().contains("found 1 reference(s)"), "{e}");
        let e = parse("a:1 oci:/o:a c:1 --include /x\n", "l").unwrap_err();
        assert!(e.to_string().contains("found 3 reference(s)"), "{e}");
    }

    #[test]
    fn bad_lines_name_their_line() {
        let e = parse("a:1 oci:/o:a\nonly-one\n", "l.txt").unwrap_err();
        assert!(e.to_string().starts_with("l.txt:2: expected"), "{e}");
        let e = parse("a:1 oci:/o:a\nb:1 oci:/o:a\n", "l").unwrap_err();
        assert!(e.to_string().contains("also the target of line 1"), "{e}");
        let e = parse("a:1 bogus:x:y\n", "l").unwrap_err();
        assert!(e.to_string().starts_with("l:1: "), "{e}");
    }

    #[test]
    fn shards_cover_the_list_once() {
        let jobs = parse(LIST, "list").unwrap();
        let mut seen: Vec<usize> = Vec::new();
        for i in 1..=3 {
            let s = Shard::parse(&format!("{i}/3")).unwrap();
            let part = s.take(jobs.clone());
            assert!(part.len() == 1 || part.len() == 2);
            seen.extend(part.iter().map(|j| j.line));
        }
        seen.sort();
        assert_eq!(seen, vec![2, 4, 5, 6, 7]);
        for bad in ["0/3", "4/3", "1/0", "x", "1/", "/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
