//! What a batch prints: a line per finished image while it runs, a table at
//! the end, and `summary.json` for machines.

use serde_json::json;

use super::{Finished, Outcome};
use crate::error::one_line;
use crate::units::human;

fn ratio(before: u64, after: u64) -> String {
    if after == 0 {
        "-".into()
    } else {
        format!("{:.1}x", before as f64 / after as f64)
    }
}

/// `[ok] SOURCE -> TARGET: 452.3 MB -> 8.0 MB (56.5x), 3.50 s` or the error.
pub fn progress_line(o: &Outcome) -> String {
    match &o.result {
        Ok(s) => format!(
            "[ok] {} -> {}: {} -> {} ({}), {:.2} s",
            o.entry.source,
            o.entry.target,
            human(s.before.content_bytes),
            human(s.after.content_bytes),
            ratio(s.before.content_bytes, s.after.content_bytes),
            o.seconds
        ),
        Err(e) => format!(
            "[FAILED] {} (line {}): {}",
            o.entry.source,
            o.entry.line,
            one_line(e)
        ),
    }
}

/// The end-of-run table: image, before, after, ratio, seconds, status; then
/// the errors of failed images, and a totals line.
pub fn table(f: &Finished) -> String {
    let mut rows = vec![[
        "IMAGE".to_string(),
        "BEFORE".into(),
        "AFTER".into(),
        "RATIO".into(),
        "SECONDS".into(),
        "STATUS".into(),
    ]];
    let (mut before, mut after) = (0u64, 0u64);
    for o in &f.outcomes {
        let image = o.entry.source.to_string();
        let secs = format!("{:.2}", o.seconds);
        rows.push(match &o.result {
            Ok(s) => {
                before += s.before.content_bytes;
                after += s.after.content_bytes;
                [
                    image,
                    human(s.before.content_bytes),
                    human(s.after.content_bytes),
                    ratio(s.before.content_bytes, s.after.content_bytes),
                    secs,
                    "ok".into(),
                ]
            }
            Err(_) => [
                image,
                "-".into(),
                "-".into(),
                "-".into(),
                secs,
                "FAILED".into(),
            ],
        });
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let line = format!(
            "{:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {:>w4$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4],
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    for o in &f.outcomes {
        if let Err(e) = &o.result {
            out.push_str(&format!(
                "failed: line {}: {}: {}\n",
                o.entry.line,
                o.entry.source,
                one_line(e)
            ));
        }
    }
    let ok = f.outcomes.len() - f.failed();
    out.push_str(&format!(
        "{} image(s): {ok} ok, {} failed; {} -> {} ({}); {:.2} s; layers: {} read, {} shared in this run, {} from --cache-dir\n",
        f.outcomes.len(),
        f.failed(),
        human(before),
        human(after),
        ratio(before, after),
        f.seconds,
        f.layers_read,
        f.layers_shared,
        f.layers_from_cache_dir,
    ));
    out
}

/// `summary.json`: every image's outcome (and its report's file name), and the totals.
pub fn summary_json(f: &Finished) -> Vec<u8> {
    let images: Vec<serde_json::Value> = f
        .outcomes
        .iter()
        .map(|o| {
            let mut v = json!({
                "line": o.entry.line,
                "source": o.entry.source.to_string(),
                "target": o.entry.target.to_string(),
                "seconds": o.seconds,
                "status": if o.result.is_ok() { "ok" } else { "failed" },
            });
            match &o.result {
                Ok(s) => {
                    v["before"] = json!(s.before);
                    v["after"] = json!(s.after);
                    v["manifest_digest"] = json!(s.manifest_digest);
                    v["reports"] = json!(o.reports);
                    v["sboms"] = json!(o.sboms);
                }
                Err(e) => v["error"] = json!(one_line(e)),
            }
            v
        })
        .collect();
    let doc = json!({
        "images": images,
        "total": f.outcomes.len(),
        "failed": f.failed(),
        "seconds": f.seconds,
        "layers": {
            "read": f.layers_read,
            "shared": f.layers_shared,
            "from_cache_dir": f.layers_from_cache_dir,
        },
    });
    serde_json::to_vec_pretty(&doc).expect("JSON values serialize")
}
