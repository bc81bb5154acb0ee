//! Interpreted apps on real fat images (fixtures/*, built from Debian
//! packages with compilers and package managers left in): each is slimmed by
//! tracing alone, then run beside its fat image. Same output, same exit
//! code, and smaller by at least the factor the runtime promises.

mod util;

use util::*;

/// Slim a fixture, run both images, compare; returns the report and the size ratio.
fn slims_and_runs_the_same(name: &str, extra: &[&str]) -> (serde_json::Value, f64) {
    let fat = fixture(name);
    let (slim, report) = slim(&fat, name, extra);
    let fat_run = run_image(&fat, &[]);
    assert_eq!(fat_run.1, 0, "the fat {name} image fails:\n{}", fat_run.0);
    assert!(
        fat_run.0.contains("done") || fat_run.0.contains("report:"),
        "{}",
        fat_run.0
    );
    let slim_run = run_image(&slim.0, &[]);
    assert_same_lines(
        &format!("{name}: fat vs slim output"),
        &fat_run.0,
        &slim_run.0,
    );
    assert_eq!(slim_run.1, fat_run.1);
    assert_eq!(runtime_config(&slim.0), runtime_config(&fat));
    let ratio = image_size(&fat) as f64 / image_size(&slim.0) as f64;
    (report, ratio)
}

/// The report's reason chain for a kept path, or `None` when it was dropped.
fn kept(report: &serde_json::Value, path: &str) -> Option<Vec<String>> {
    report["kept"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["path"] == path)
        .map(|k| {
            k["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_string())
                .collect()
        })
}

/// The package the report says a kept path came from.
fn package_of(report: &serde_json::Value, path: &str) -> String {
    let k = report["kept"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["path"] == path);
    k.and_then(|k| k["package"].as_str())
        .unwrap_or("")
        .to_string()
}

fn no_warnings(report: &serde_json::Value) {
    let w = report["warnings"].as_array().unwrap();
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn python_venv_app_with_json_hashlib_sqlite3_ssl_decimal_and_requests() {
    let (report, ratio) = slims_and_runs_the_same("py-app", &[]);
    assert!(ratio >= 5.0, "only {ratio:.1}x smaller");
    no_warnings(&report);
    let site = "/opt/venv/lib/python3.11/site-packages";
    // requests' dependencies come through its metadata; pygments is never imported.
    let why = kept(&report, &format!("{site}/charset_normalizer/__init__.py")).unwrap();
    assert!(
        why[0].starts_with("required by the installed distribution"),
        "{why:?}"
    );
    assert!(kept(&report, &format!("{site}/pygments/__init__.py")).is_none());
    // The dpkg database names each kept system file's package.
    let pkg = package_of(&report, "/usr/bin/python3.11");
    assert!(pkg.starts_with("python3.11-minimal 3.11."), "{pkg:?}");
    assert!(package_of(&report, "/app/main.py").is_empty());
    let packages = report["packages"].as_array().unwrap();
    assert!(
        packages.iter().any(|p| p["name"] == "libssl3"),
        "{packages:?}"
    );
    assert!(
        !packages.iter().any(|p| p["name"] == "gcc-12"),
        "{packages:?}"
    );
}

#[test]
fn python_numpy_with_openblas_behind_alternatives() {
    let (report, ratio) = slims_and_runs_the_same("py-numpy", &[]);
    // OpenBLAS (44 MB) and numpy (20 MB) are most of what is left.
    assert!(ratio >= 4.5, "only {ratio:.1}x smaller");
    no_warnings(&report);
    for link in [
        "/usr/lib/x86_64-linux-gnu/libblas.so.3",
        "/etc/alternatives/libblas.so.3-x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
    ] {
        assert!(kept(&report, link).is_some(), "{link} not kept");
    }
}

#[test]
fn node_app_keeps_its_dependency_and_drops_its_dev_dependency() {
    let (report, ratio) = slims_and_runs_the_same("node-app", &[]);
    assert!(ratio >= 4.0, "only {ratio:.1}x smaller");
    no_warnings(&report);
    let why = kept(&report, "/app/node_modules/ms/index.js").unwrap();
    assert!(why[0].starts_with("production dependency ms of"), "{why:?}");
    assert!(kept(&report, "/app/node_modules/typescript/package.json").is_none());
}

#[test]
fn java_app_compiled_in_the_image_runs_on_the_kept_jre() {
    let (report, ratio) = slims_and_runs_the_same("java-app", &[]);
    assert!(ratio >= 2.0, "only {ratio:.1}x smaller");
    no_warnings(&report);
    let home = "/usr/lib/jvm/java-17-openjdk-amd64";
    assert!(kept(&report, &format!("{home}/lib/server/libjvm.so")).is_some());
    assert!(kept(&report, "/etc/ssl/certs/java/cacerts").is_some());
    assert!(kept(&report, &format!("{home}/bin/javac")).is_none());
}

#[test]
fn entrypoint_shell_script_with_sed_awk_date_then_exec_python() {
    let (report, ratio) = slims_and_runs_the_same("shell-app", &[]);
    assert!(ratio >= 5.0, "only {ratio:.1}x smaller");
    no_warnings(&report);
    let why = kept(&report, "/usr/bin/mawk").unwrap();
    assert_eq!(why[0], "run by the script /app/entry.sh", "{why:?}");
}

#[test]
fn python_demo_finds_its_volume_seed_and_the_paths_its_code_names() {
    let (report, ratio) = slims_and_runs_the_same("demo", &[]);
    assert!(ratio >= 5.0, "only {ratio:.1}x smaller");
    // The VOLUME's seed data, and what the app's code names by path.
    for path in [
        "/data/seed.json",
        "/opt/features/hardlinks/l1-a",
        "/opt/app/bin/hello",
    ] {
        assert!(kept(&report, path).is_some(), "{path} not kept");
    }
    let why = kept(&report, "/opt/features/hardlinks/l1-a").unwrap();
    assert_eq!(why[0], "named in /opt/app/main.py", "{why:?}");
}

#[test]
fn perl_script_with_json_pp_and_digest_sha() {
    let (report, ratio) = slims_and_runs_the_same("perl-app", &[]);
    assert!(ratio >= 5.0, "only {ratio:.1}x smaller");
    no_warnings(&report);
}

#[test]
fn ruby_script_with_json_digest_time_set_and_bigdecimal() {
    let (report, ratio) = slims_and_runs_the_same("ruby-app", &[]);
    assert!(ratio >= 10.0, "only {ratio:.1}x smaller");
    no_warnings(&report);
    // The helper the script loads with require_relative.
    assert!(kept(&report, "/app/lib/report.rb").is_some());
}

#[test]
fn python_stdlib_tour_on_system_python_with_runtime_named_imports_and_codecs() {
    let (report, ratio) = slims_and_runs_the_same("py-stdlib", &[]);
    assert!(ratio >= 5.0, "only {ratio:.1}x smaller");
    no_warnings(&report);
    // The plugin the app imports from inside a function.
    assert!(kept(&report, "/app/textplugin.py").is_some());
}

#[test]
fn python_stdlib_only_app_keeps_only_the_codecs_its_code_names() {
    // An app of json, hashlib, sqlite3, ssl, zlib, decimal and uuid, written
    // apart from the tracing rules: it names no codec and computes none.
    let (report, ratio) = slims_and_runs_the_same("py-small", &[]);
    assert!(ratio >= 10.0, "only {ratio:.1}x smaller");
    no_warnings(&report);
    let lib = "/usr/lib/python3.11";
    // json decodes UTF-16 and UTF-32 input it detects, by names in its own code.
    for codec in ["utf_16_le", "utf_32_be", "utf_8_sig"] {
        let path = format!("{lib}/encodings/{codec}.py");
        assert!(kept(&report, &path).is_some(), "{path} dropped");
    }
    // No code names the CJK codecs or a code page: dropped with their C parts.
    for path in [
        format!("{lib}/encodings/shift_jis.py"),
        format!("{lib}/encodings/cp1252.py"),
        format!("{lib}/lib-dynload/_codecs_jp.cpython-311-x86_64-linux-gnu.so"),
    ] {
        assert!(kept(&report, &path).is_none(), "{path} kept");
    }
}

#[test]
fn perl_core_modules_tour_with_local_base_class_and_runtime_require() {
    let (report, ratio) = slims_and_runs_the_same("perl-core", &[]);
    assert!(ratio >= 5.0, "only {ratio:.1}x smaller");
    no_warnings(&report);
    // The base class `use parent` loads from app/lib through `use lib`.
    assert!(kept(&report, "/app/lib/Local/Shape.pm").is_some());
}

#[test]
fn ruby_stdlib_tour_with_autoload_and_runtime_named_require() {
    let (report, ratio) = slims_and_runs_the_same("ruby-stdlib", &[]);
    assert!(ratio >= 5.0, "only {ratio:.1}x smaller");
    no_warnings(&report);
    // The require_relative helper and the autoloaded constant's file.
    assert!(kept(&report, "/app/lib/formatter.rb").is_some());
    assert!(kept(&report, "/app/lib/inventory.rb").is_some());
}
