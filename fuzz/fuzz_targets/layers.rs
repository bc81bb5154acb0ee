//! The layer reader and flattener, then the tracer over what they built:
//! up to three layers (tar, gzip or zstd, sniffed), separated by `\xffLAYER\xff`.
#![no_main]

#[path = "common.rs"]
mod common;

use slimify::internals::trace_image;
use slimify::TraceOptions;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let parts = common::split(data, b"\xffLAYER\xff");
    let layers: Vec<&[u8]> = parts.into_iter().take(3).collect();
    let Some(mut fs) = common::flatten(&layers) else {
        return;
    };
    let paths: Vec<String> = fs.iter().map(|(p, _)| p.to_string()).collect();
    for p in &paths {
        let _ = fs.lookup(p, true);
    }
    let _ = fs.content_size();
    let config = common::config(serde_json::json!({
        "Entrypoint": ["/bin/sh", "-c", "exec app \"$@\""],
        "Cmd": ["python3", "/app/main.py"],
        "Env": ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"],
        "Volumes": {"/data": {}},
    }));
    let _ = trace_image(&mut fs, &config, &TraceOptions::new());
});
