//! `slimify batch` on real images in a real registry: two fixtures built on
//! one base (c-app and c-app-alternatives share their Debian base and user
//! layers), one listed twice, one missing. Checks the table, the exit code,
//! per-image reports and summary.json, layers read once, shards, the
//! cross-run cache directory, and that the outputs run like the fat images.

mod util;

use std::process::{Command, Output, Stdio};

use util::registry::Registry;
use util::{fixture, run_image, sh, TempTag};

fn batch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_slimify"))
        .arg("batch")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run slimify batch")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn batch_shares_layers_reports_every_image_and_fails_on_any_failure() {
    let c_app = fixture("c-app");
    let c_alt = fixture("c-app-alternatives");
    let reg = Registry::plain();
    let a = reg.push_from_engine(&c_app, "c-app:fat");
    let b = reg.push_from_engine(&c_alt, "c-alt:fat");
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("out");
    let list = work.path().join("images.txt");
    std::fs::write(
        &list,
        format!(
            "# fixtures on one base\n\
             {a} oci:{l}:c-app\n\
             \n\
             {b} {slim_b}   # to the registry\n\
             {a} oci:{l}:c-app-again\n\
             {missing} oci:{l}:missing\n",
            l = layout.display(),
            slim_b = reg.reference("c-alt:slim"),
            missing = reg.reference("nope:1"),
        ),
    )
    .unwrap();
    let reports = work.path().join("reports");
    let sboms = work.path().join("sboms");
    let mut args = vec![
        list.to_str().unwrap(),
        "--jobs",
        "2",
        "--report",
        reports.to_str().unwrap(),
        "--sbom",
        sboms.to_str().unwrap(),
    ];
    let flags = reg.slimify_args();
    args.extend(flags.iter().map(String::as_str));
    let out = batch(&args);
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "one image fails: {table}");
    assert!(table.starts_with("IMAGE"), "{table}");
    assert_eq!(
        table.lines().filter(|l| l.ends_with("  ok")).count(),
        3,
        "{table}"
    );
    assert!(
        table.contains("FAILED") && table.contains("failed: line 6"),
        "{table}"
    );
    assert!(table.contains("4 image(s): 3 ok, 1 failed"), "{table}");
    // Each finished image was reported as it finished, on stderr.
    assert_eq!(text(&out.stderr).matches("[ok] ").count(), 3);

    // c-app's layers were read once for its two entries, and the Debian base
    // layer once for c-app-alternatives too.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("summary.json")).unwrap()).unwrap();
    let layers_of = |name: &str| reg.inspect(name)["Layers"].as_array().unwrap().len() as u64;
    let (la, lb) = (layers_of("c-app:fat"), layers_of("c-alt:fat"));
    let layers = &summary["layers"];
    let (read, shared) = (
        layers["read"].as_u64().unwrap(),
        layers["shared"].as_u64().unwrap(),
    );
    assert_eq!(read + shared, 2 * la + lb, "{summary}");
    assert!(shared > la, "{summary}");
    assert_eq!(summary["failed"], 1);
    let images = summary["images"].as_array().unwrap();
    assert_eq!(images.len(), 4);
    assert!(images[3]["error"].as_str().unwrap().contains("nope"));
    for image in &images[..3] {
        let name = image["reports"][0].as_str().unwrap();
        let r: serde_json::Value =
            serde_json::from_slice(&std::fs::read(reports.join(name)).unwrap()).unwrap();
        assert!(!r["kept"].as_array().unwrap().is_empty(), "{name}");
        let sbom = image["sboms"][0].as_str().unwrap();
        assert_eq!(
            sbom,
            format!("{}.sbom.json", name.trim_end_matches(".json"))
        );
        let bom: serde_json::Value =
            serde_json::from_slice(&std::fs::read(sboms.join(sbom)).unwrap()).unwrap();
        assert_eq!(bom["specVersion"], "1.5", "{sbom}");
        assert_eq!(
            bom["metadata"]["component"]["version"],
            image["manifest_digest"]
        );
        let libraries = bom["components"].as_array().unwrap().iter();
        let purls: Vec<&str> = libraries.filter_map(|c| c["purl"].as_str()).collect();
        assert!(
            purls
                .iter()
                .any(|p| p.starts_with("pkg:deb/debian/zlib1g@")),
            "{purls:?}"
        );
    }
    // The same source twice gives the same image.
    assert_eq!(images[0]["manifest_digest"], images[2]["manifest_digest"]);

    // The outputs run like their fat images.
    let slim_a = TempTag::new("batch-a");
    sh(Command::new("skopeo")
        .args(["copy", "-q"])
        .arg(format!("oci:{}:c-app", layout.display()))
        .arg(format!("docker-daemon:{}", slim_a.0)));
    let slim_b = TempTag::new("batch-b");
    reg.pull_to_engine("c-alt:slim", &slim_b.0);
    for (fat, slim) in [(&c_app, &slim_a.0), (&c_alt, &slim_b.0)] {
        let (want, code) = run_image(fat, &[]);
        assert_eq!(code, 0);
        util::assert_same_lines("batch output", &want, &run_image(slim, &[]).0);
    }

    // Shards: 2/2 takes the 2nd and 4th entries, and nothing else.
    let mut args = vec![list.to_str().unwrap(), "--shard", "2/2", "-q"];
    args.extend(flags.iter().map(String::as_str));
    let out = batch(&args);
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(table.contains("2 image(s): 1 ok, 1 failed"), "{table}");
    assert!(
        table.contains("c-alt:fat") && table.contains("nope:1"),
        "{table}"
    );
    assert!(
        text(&out.stderr).is_empty(),
        "-q prints only the table: {}",
        text(&out.stderr)
    );
}

#[test]
fn cache_dir_serves_a_later_run_and_survives_damage() {
    let c_app = fixture("c-app");
    let reg = Registry::plain();
    let a = reg.push_from_engine(&c_app, "c-app:fat");
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let list = work.path().join("one.txt");
    let run = |tag: &str| {
        std::fs::write(
            &list,
            format!("{a} oci:{}:{tag}\n", work.path().join("o").display()),
        )
        .unwrap();
        let reports = work.path().join(format!("r-{tag}"));
        let mut args = vec![
            list.to_str().unwrap(),
            "--cache-dir",
            cache.to_str().unwrap(),
            "--report",
            reports.to_str().unwrap(),
        ];
        let flags = reg.slimify_args();
        args.extend(flags.iter().map(String::as_str));
        let out = batch(&args);
        assert!(out.status.success(), "{}", text(&out.stdout));
        let s: serde_json::Value =
            serde_json::from_slice(&std::fs::read(reports.join("summary.json")).unwrap()).unwrap();
        (
            s["layers"]["from_cache_dir"].as_u64().unwrap(),
            s["images"][0]["manifest_digest"].clone(),
        )
    };
    let (first, digest) = run("one");
    assert_eq!(first, 0);
    let (second, again) = run("two");
    assert_eq!(second, 4, "every layer from the cache directory");
    assert_eq!(digest, again, "the cache changes nothing in the output");

    // A damaged cache file is noticed (its diff_id no longer matches),
    // dropped, and the layer read from the registry again.
    let biggest = std::fs::read_dir(cache.join("layers"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .max_by_key(|p| p.metadata().unwrap().len())
        .unwrap();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&biggest)
        .unwrap();
    std::os::unix::fs::FileExt::write_at(&f, b"garbage!", 4096).unwrap();
    let (third, still) = run("three");
    assert_eq!(third, 3);
    assert_eq!(digest, still);
}

/// examples/slimify-batch-job.yaml stays true: its shard count matches its
/// completions, and slimify accepts every flag it passes.
#[test]
fn kubernetes_example_matches_the_cli() {
    let manifest =
        std::fs::read_to_string(util::repo().join("examples/slimify-batch-job.yaml")).unwrap();
    let completions: u32 = manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("completions:"))
        .and_then(|v| v.split('#').next())
        .map(|v| v.trim().parse().unwrap())
        .expect("completions");
    assert!(manifest.contains("completionMode: Indexed"));
    assert!(
        manifest.contains(&format!(
            "--shard \"$((JOB_COMPLETION_INDEX + 1))/{completions}\""
        )),
        "--shard must be I/{completions}"
    );
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().display().to_string();
    let out = batch(&[
        &format!("{dir}/missing-list.txt"),
        "--shard",
        &format!("{completions}/{completions}"),
        "--jobs",
        "2",
        "--cache-dir",
        &dir,
        "--report",
        &dir,
        "--tmp-dir",
        &dir,
    ]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.starts_with("error: ") && err.contains("missing-list.txt"),
        "{err}"
    );
}

/// A list line's own selection flags reach that image alone, added to the
/// command line's; a line with a flag it may not carry fails the whole run
/// before any image is written, naming its line.
#[test]
fn a_list_line_carries_its_own_selection_flags() {
    let c_app = fixture("c-app");
    let work = tempfile::tempdir().unwrap();
    let l = work.path().join("out").display().to_string();
    let list = work.path().join("images.txt");
    std::fs::write(
        &list,
        format!(
            "{c_app} oci:{l}:plain\n\
             {c_app} oci:{l}:more --include /etc/adduser.conf --exclude '/etc/group'  # this one only\n"
        ),
    )
    .unwrap();
    let reports = work.path().join("reports");
    let out = batch(&[
        list.to_str().unwrap(),
        "--report",
        reports.to_str().unwrap(),
        "--exclude",
        "/etc/passwd",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let kept = |n: usize| -> Vec<String> {
        let dir = std::fs::read_dir(&reports).unwrap();
        let name = dir
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("000{n}-"))
            })
            .unwrap();
        let r: serde_json::Value = serde_json::from_slice(&std::fs::read(name).unwrap()).unwrap();
        r["kept"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["path"].as_str().unwrap().to_string())
            .collect()
    };
    let (plain, more) = (kept(1), kept(2));
    let has = |v: &[String], p: &str| v.iter().any(|k| k == p);
    // The command line's --exclude reaches both; each line's flags its own.
    assert!(!has(&plain, "/etc/passwd") && !has(&more, "/etc/passwd"));
    assert!(has(&plain, "/etc/group") && !has(&more, "/etc/group"));
    assert!(!has(&plain, "/etc/adduser.conf") && has(&more, "/etc/adduser.conf"));

    // A bad flag on line 2: nothing runs, exit 2, the line is named.
    let fresh = work.path().join("fresh").display().to_string();
    std::fs::write(
        &list,
        format!("{c_app} oci:{fresh}:a\n{c_app} oci:{fresh}:b --keep '/bin/**' --platform linux/arm64\n"),
    )
    .unwrap();
    let out = batch(&[list.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    util::assert_error_form(&err);
    assert!(
        err.contains("images.txt:2: ") && err.contains("--platform"),
        "{err}"
    );
    assert!(!work.path().join("fresh").exists());
    // --keep on a line beside the command line's --include would drop the
    // include silently: refused.
    std::fs::write(&list, format!("{c_app} oci:{fresh}:a --keep '/bin/**'\n")).unwrap();
    let out = batch(&[list.to_str().unwrap(), "--include", "/etc/debian_version"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("images.txt:1: --keep cannot be used with --include"),
        "{err}"
    );
}
