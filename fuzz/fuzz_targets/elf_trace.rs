//! The ELF reader and the loader search: the input is parsed, then placed in
//! an image as the entrypoint, its loader and a library, and traced.
#![no_main]

#[path = "common.rs"]
mod common;

use slimify::internals::{trace_image, ElfInfo};
use slimify::TraceOptions;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ElfInfo::parse(data);
    let tar = common::tar_of(&[
        ("usr/bin/prog", 0o755, data),
        ("lib64/ld-linux-x86-64.so.2", 0o755, data),
        ("usr/lib/x86_64-linux-gnu/libc.so.6", 0o644, data),
        ("usr/lib/x86_64-linux-gnu/libz.so.1", 0o644, data),
    ]);
    let Some(mut fs) = common::flatten(&[&tar]) else {
        return;
    };
    let config = common::config(serde_json::json!({"Entrypoint": ["/usr/bin/prog"]}));
    let _ = trace_image(&mut fs, &config, &TraceOptions::new());
});
