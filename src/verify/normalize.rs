//! What differs between any two runs of one image, blanked before outputs
//! are compared: clock times and dates, durations, the PIDs the runs had,
//! and the user's `--ignore` patterns.

use regex::Regex;

use super::{VerifyError, VerifyOptions};

/// Times, dates, durations and client ports as logs print them.
const VOLATILE: &[&str] = &[
    // 2026-12-03T07:30:50.123Z, 2026-12-03 07:30:50,123 +0000, and in file
    // names 2026-12-03T07_30_50_123Z (npm's debug logs)
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}[:_]\d{2}[:_]\d{2}(?:[.,_]\d+)?(?:Z| ?[+-]\d{2}:?\d{2})?",
    // Thu, 03 Dec 2026 07:30:50 GMT (HTTP dates)
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \w+",
    // [03/Dec/2026:07:30:50 +0000] (common log format), [03/Dec/2026 07:30:50] (Python's)
    r"\d{2}/\w{3}/\d{4}[: ]\d{2}:\d{2}:\d{2}(?: [+-]\d{4})?",
    // Dec  3 07:30:50, 07:30:50.123
    r"(?:\w{3} +\d{1,2} )?\d{2}:\d{2}:\d{2}(?:[.,]\d+)?",
    // The client side of a request on loopback: a port of Linux's
    // ephemeral range (32768-60999), new for every connection.
    r"(?:127\.0\.0\.1|\[?::1\]?|localhost):(?:3276[89]|327[7-9]\d|32[89]\d\d|3[3-9]\d{3}|[45]\d{4}|60\d{3})\b",
    // 12.5ms, 0.003 s, 250µs
    r"\b\d+(?:\.\d+)?\s?(?:ns|us|µs|ms|s)\b",
];

/// Blanks the volatile parts of an output.
pub struct Normalizer {
    volatile: Vec<Regex>,
    ignore: Vec<Regex>,
    pid: Regex,
    framed_pid: Regex,
}

/// PIDs a container may have used after its PIDs were listed (processes
/// started while it stops): a PID namespace hands them out in order.
const PIDS_AFTER_LISTING: u32 = 64;

impl Normalizer {
    pub fn new(options: &VerifyOptions) -> Result<Normalizer, VerifyError> {
        let ignore = options
            .ignore
            .iter()
            .map(|p| {
                Regex::new(p).map_err(|source| VerifyError::BadIgnore {
                    pattern: p.clone(),
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let volatile = if options.exact {
            Vec::new()
        } else {
            VOLATILE
                .iter()
                .map(|p| Regex::new(p).expect("the built-in patterns compile"))
                .collect()
        };
        Ok(Normalizer {
            volatile,
            ignore,
            pid: Regex::new(r"\b\d+\b").expect("compiles"),
            framed_pid: Regex::new(r"(?i)(\[|\(|\bpid[:= ]\s*)(\d+)([\])]?)").expect("compiles"),
        })
    }

    /// `text` with times, durations, client ports, `--ignore` matches and
    /// the PIDs of `pids` (the PIDs the runs had when they were listed) blanked.
    pub fn apply(&self, text: &str, pids: &[u32]) -> String {
        let mut out = text.to_string();
        for r in &self.ignore {
            out = r.replace_all(&out, "<ignored>").into_owned();
        }
        if self.volatile.is_empty() {
            return out;
        }
        for r in &self.volatile {
            out = r.replace_all(&out, "<volatile>").into_owned();
        }
        // PIDs differ between runs (every `docker exec` takes one), and logs
        // print them in every form (`[7]`, `pid: 9`, `7#7:`, `worker process
        // 8`): a number that is a PID one of the runs had when its PIDs
        // were listed is blanked. PID 1 is the same in every run and stays.
        let out = self.pid.replace_all(&out, |c: &regex::Captures| {
            let n: u32 = c[0].parse().unwrap_or(0);
            if n > 1 && pids.contains(&n) {
                "<pid>".to_string()
            } else {
                c[0].to_string()
            }
        });
        // Processes that came and went (a database's startup process, a
        // backend per connection) were not listed; a PID namespace hands
        // PIDs out in order, so in PID-like places (`[N]`, `(N)`, `pid N`)
        // any number up to the highest one the runs reached is one.
        let Some(highest) = pids.iter().max().map(|m| m + PIDS_AFTER_LISTING) else {
            return out.into_owned();
        };
        self.framed_pid
            .replace_all(&out, |c: &regex::Captures| {
                let n: u32 = c[2].parse().unwrap_or(0);
                let framed = match &c[1] {
                    "[" => &c[3] == "]",
                    "(" => &c[3] == ")",
                    _ => true,
                };
                if framed && n > 1 && n <= highest {
                    format!("{}<pid>{}", &c[1], &c[3])
                } else {
                    c[0].to_string()
                }
            })
            .into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(exact: bool, ignore: &[&str]) -> Normalizer {
        Normalizer::new(&VerifyOptions {
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
            exact,
        })
        .unwrap()
    }

    #[test]
    fn times_and_the_runs_pids_are_blanked_and_nothing_else() {
        let a = "INFO: 127.0.0.1:53148 - \"GET / HTTP/1.0\" 200 OK on 127.0.0.1:8000\nnpm ERR! /home/node/.npm/_logs/2026-12-03T08_33_54_877Z-debug-0.log\n[2026-12-03 07:30:50 +0000] [7] [INFO] Booting worker with pid: 9\nitems[3] (12) took 3.2ms\n1#1: start worker process 9\n9#9: exit";
        let b = "INFO: 127.0.0.1:33136 - \"GET / HTTP/1.0\" 200 OK on 127.0.0.1:8000\nnpm ERR! /home/node/.npm/_logs/2026-12-03T08_33_55_002Z-debug-0.log\n[2026-12-03 07:31:02 +0000] [8] [INFO] Booting worker with pid: 10\nitems[3] (12) took 1.9ms\n1#1: start worker process 10\n10#10: exit";
        let x = n(false, &[]);
        let pids = [1, 7, 9, 8, 10];
        assert_eq!(x.apply(a, &pids), x.apply(b, &pids));
        // Numbers that are no PID of the runs stay, and so does PID 1.
        assert!(x.apply(a, &[1, 7]).contains("start worker process 9"));
        assert!(x.apply(a, &[1, 7]).contains("1#1"));
        // In PID-like places every number up to the highest PID (+64) is one:
        // a process that came and went between listings.
        let pg = |pid: u32| format!("LOG [{pid}] invalid length of startup packet (pid {pid})");
        assert_eq!(x.apply(&pg(17), &[1, 9]), x.apply(&pg(21), &[1, 12]));
        assert_ne!(x.apply(&pg(170), &[1, 9]), x.apply(&pg(210), &[1, 12]));
        // The server's own port is no client port.
        assert!(x.apply(a, &pids).contains("127.0.0.1:8000"));
        assert!(x.apply(a, &pids).contains("items[<pid>] (<pid>)"));
        assert!(x
            .apply(a, &pids)
            .contains("1#1: start worker process <pid>"));
        // --exact compares bytes.
        assert_ne!(
            n(true, &[]).apply(a, &[7, 9]),
            n(true, &[]).apply(b, &[8, 10])
        );
        assert_eq!(n(true, &["id=\\w+"]).apply("id=abc x", &[]), "<ignored> x");
        assert!(Normalizer::new(&VerifyOptions {
            ignore: vec!["(".into()],
            exact: false
        })
        .is_err());
    }
}
