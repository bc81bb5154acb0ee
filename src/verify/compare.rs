//! The differences between two runs, each said in a line or a short diff.

use super::Normalizer;
use crate::probe::{Exec, Observed};

/// Lines of a diff shown per difference; the rest is counted.
const DIFF_LINES: usize = 8;

/// Every way `slim`'s run differs from `fat`'s.
pub fn differences(fat: &Observed, slim: &Observed, n: &Normalizer) -> Vec<String> {
    let mut out = Vec::new();
    let pids: Vec<u32> = fat.pids.iter().chain(&slim.pids).copied().collect();
    let norm = |s: &str| n.apply(s, &pids);
    if fat.timed_out != slim.timed_out {
        out.push(format!(
            "ran past --timeout: source {}, slim {}",
            yes_no(fat.timed_out),
            yes_no(slim.timed_out)
        ));
    }
    if fat.ended_early != slim.ended_early {
        out.push(format!(
            "ended before it was stopped: source {}, slim {}",
            yes_no(fat.ended_early),
            yes_no(slim.ended_early)
        ));
    }
    if fat.exit != slim.exit {
        out.push(format!(
            "exit status: source {}, slim {}",
            fat.exit, slim.exit
        ));
    }
    text_diff(&mut out, "stdout", &norm(&fat.stdout), &norm(&slim.stdout));
    text_diff(&mut out, "stderr", &norm(&fat.stderr), &norm(&slim.stderr));
    for (a, b) in fat.http.iter().zip(&slim.http) {
        let what = format!("GET {}", a.path);
        match (&a.response, &b.response) {
            (Some(x), Some(y)) => {
                let (x, y) = (http_view(&norm(x)), http_view(&norm(y)));
                text_diff(&mut out, &what, &x, &y);
            }
            (Some(_), None) => out.push(format!("{what}: the slim image never answered")),
            (None, Some(_)) => out.push(format!("{what}: only the slim image answered")),
            (None, None) => {}
        }
    }
    for (a, b) in fat.execs.iter().zip(&slim.execs) {
        exec_diff(&mut out, &format!("exec {}", a.argv.join(" ")), a, b, &norm);
    }
    match (&fat.health, &slim.health) {
        (Some(a), Some(b)) if (a.code == Some(0)) != (b.code == Some(0)) => {
            out.push(format!(
                "healthcheck: source {}, slim {}",
                health(a),
                health(b)
            ));
        }
        (Some(a), None) => out.push(format!(
            "healthcheck: source {}, slim never ran it (it ended first)",
            health(a)
        )),
        _ => {}
    }
    out
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn health(e: &Exec) -> String {
    match e.code {
        Some(0) => "healthy".into(),
        Some(c) => format!("unhealthy (exit {c})"),
        None => "unhealthy (could not run)".into(),
    }
}

fn exec_diff(out: &mut Vec<String>, what: &str, a: &Exec, b: &Exec, norm: &dyn Fn(&str) -> String) {
    if a.code != b.code {
        let code = |c: Option<i32>| c.map_or("none".to_string(), |c| c.to_string());
        out.push(format!(
            "{what}: exit status: source {}, slim {}",
            code(a.code),
            code(b.code)
        ));
    }
    text_diff(
        out,
        &format!("{what}: stdout"),
        &norm(&a.stdout),
        &norm(&b.stdout),
    );
    text_diff(
        out,
        &format!("{what}: stderr"),
        &norm(&a.stderr),
        &norm(&b.stderr),
    );
}

/// The parts of an HTTP response that must agree: the status line, the
/// Content-Type and the body (other headers carry dates, lengths, ids).
fn http_view(raw: &str) -> String {
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .or_else(|| raw.split_once("\n\n"))
        .unwrap_or((raw, ""));
    let mut lines = head.lines();
    let status = lines.next().unwrap_or("").trim();
    // HTTP/1.0 vs 1.1 answers to the same request are one server's choice.
    let status = status.split_once(' ').map_or(status, |(_, s)| s);
    let content_type = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    format!("status {status}\ncontent-type {content_type}\n{body}")
}

/// A short line diff of two texts: lines only the source printed (`-`),
/// then lines only the slim image printed (`+`), in order.
fn text_diff(out: &mut Vec<String>, what: &str, a: &str, b: &str) {
    if a == b {
        return;
    }
    let only = |x: &str, y: &str| -> Vec<String> {
        let mut rest: Vec<&str> = y.lines().collect();
        x.lines()
            .filter(|l| match rest.iter().position(|r| r == l) {
                Some(i) => {
                    rest.remove(i);
                    false
                }
                None => true,
            })
            .map(str::to_string)
            .collect()
    };
    let (minus, plus) = (only(a, b), only(b, a));
    // The same lines in another order: the processes of a server write
    // concurrently (a database's backends, a web server's workers), so
    // their order differs from run to run of one image.
    if minus.is_empty() && plus.is_empty() {
        return;
    }
    let mut lines = vec![format!("{what} differs:")];
    let total = minus.len() + plus.len();
    lines.extend(
        minus
            .iter()
            .map(|l| format!("-{l}"))
            .chain(plus.iter().map(|l| format!("+{l}")))
            .take(DIFF_LINES),
    );
    if total > DIFF_LINES {
        lines.push(format!("... and {} more lines", total - DIFF_LINES));
    }
    out.push(lines.join("\n"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::HttpAnswer;
    use crate::verify::VerifyOptions;

    #[test]
    fn differences_are_said_with_a_short_diff() {
        let n = Normalizer::new(&VerifyOptions::default()).unwrap();
        let fat = Observed {
            stdout: "total 3\nok\n".into(),
            http: vec![HttpAnswer {
                path: "/".into(),
                response: Some("HTTP/1.0 200 OK\r\nDate: Thu, 03 Dec 2026 07:30:50 GMT\r\nContent-Type: text/html\r\n\r\n<h1>hi</h1>".into()),
            }],
            ..Observed::default()
        };
        let mut same = fat.clone();
        same.http[0].response = Some(
            "HTTP/1.1 200 OK\r\nDate: Thu, 03 Dec 2026 07:31:09 GMT\r\nContent-Type: text/html\r\n\r\n<h1>hi</h1>".into(),
        );
        same.stderr = "LOG: b\nLOG: a\n".into();
        let mut reordered = fat.clone();
        reordered.stderr = "LOG: a\nLOG: b\n".into();
        assert_eq!(differences(&reordered, &same, &n), Vec::<String>::new());
        let slim = Observed {
            exit: 1,
            stdout: "total 3\n".into(),
            stderr: "ModuleNotFoundError: No module named 'yaml'\n".into(),
            http: vec![HttpAnswer {
                path: "/".into(),
                response: None,
            }],
            ..Observed::default()
        };
        let d = differences(&fat, &slim, &n);
        assert_eq!(d[0], "exit status: source 0, slim 1");
        assert_eq!(d[1], "stdout differs:\n-ok");
        assert!(d[2].starts_with("stderr differs:\n+ModuleNotFoundError"));
        assert_eq!(d[3], "GET /: the slim image never answered");
    }
}
