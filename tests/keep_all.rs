//! `--keep '/**'` on a real fat image: the slim image must be the flattened
//! source, file for file, and behave the same when run.

mod util;

use util::*;

#[test]
fn keep_all_gives_an_image_that_runs_and_looks_exactly_like_the_fat_one() {
    let fat = fixture("demo");
    let slim = TempTag::new("keep-all");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let summary = slimify_ok(&[
        &fat,
        "-o",
        &slim.0,
        "--keep",
        "/**",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(
        summary.contains("paths") && summary.contains(" s"),
        "summary: {summary}"
    );

    // Same behaviour: the app's output and exit code.
    assert_eq!(run_image(&slim.0, &[]), run_image(&fat, &[]));
    // Same filesystem, down to modes, owners, xattrs, devices and hard links.
    assert_same_lines("filesystems", &fsdump(&fat), &fsdump(&slim.0));
    // Same runtime configuration.
    assert_eq!(runtime_config(&slim.0), runtime_config(&fat));
    // One layer, and history saying who made it.
    assert_eq!(
        docker(&[
            "image",
            "inspect",
            "--format",
            "{{len .RootFS.Layers}}",
            &slim.0
        ])
        .trim(),
        "1"
    );
    assert!(docker(&["history", "--no-trunc", &slim.0]).contains("slimify"));

    // The report lists every kept path with its size and reason.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let kept = report["kept"].as_array().unwrap();
    let main = kept
        .iter()
        .find(|k| k["path"] == "/opt/app/main.py")
        .expect("main.py in report");
    assert!(main["size"].as_u64().unwrap() > 0);
    assert_eq!(main["reasons"][0], "matches --keep /**");
    assert_eq!(report["before"]["paths"], report["after"]["paths"]);
}
