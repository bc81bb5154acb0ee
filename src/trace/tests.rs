//! The evidence rules on small synthetic images: what a command line, a
//! binary and the image's user name is kept (or its directory), what is
//! not, and an entrypoint that cannot be traced is an error.

use serde_json::json;

use super::tracer::test_config;
use super::{trace_image, TraceError, TraceOptions, Traced};
use crate::rootfs::RootFs;
use crate::testutil::{index_all, LayerBuilder};

fn trace(
    layer: LayerBuilder,
    config: serde_json::Value,
    opts: TraceOptions,
) -> Result<Traced, TraceError> {
    let dir = tempfile::tempdir().unwrap();
    let mut fs = RootFs::from_layers(index_all(dir.path(), &[layer.bytes()], false)).unwrap();
    trace_image(&mut fs, &test_config(config), &opts)
}

fn exe(l: LayerBuilder, path: &str, data: &[u8]) -> LayerBuilder {
    l.file_with(path, data, 0o755, 0, 0)
}

fn why(t: &Traced, path: &str) -> Option<String> {
    t.keep.reason(path).map(|r| r.to_string())
}

#[test]
fn every_form_of_a_command_line_word_names_its_path() {
    let l = exe(
        LayerBuilder::new(),
        "usr/bin/server",
        b"not ELF, not a script",
    )
    .file("etc/app/app.conf", b"x")
    .file("srv/www/index.html", b"<h1>")
    .file("srv/www/css/a.css", b"a")
    .file("srv/other.txt", b"other")
    .file("var/data/seed", b"s")
    .dir("var/db", 0o750)
    .dir("run", 0o755)
    .file("app/data.txt", b"d")
    .file("app/conf/local.yml", b"l")
    .file("app/unrelated.txt", b"u");
    let config = json!({"config": {
        "Entrypoint": ["/usr/bin/server", "/etc/app/app.conf", "--root=/srv/www", "-d/var/data"],
        "Cmd": ["DB=/var/db/app.db", "--pid", "/run/app/app.pid", "file:///app/data.txt", "conf/local.yml", "start"],
        "WorkingDir": "/app"}});
    let t = trace(l, config, TraceOptions::new()).unwrap();
    let cmdline = "named on the command line of entrypoint";
    for p in [
        "etc/app/app.conf",
        "srv/www",
        "srv/www/index.html",
        "srv/www/css/a.css",
        "var/data/seed",
        "app/data.txt",
        "app/conf/local.yml",
    ] {
        assert_eq!(why(&t, p).as_deref(), Some(cmdline), "{p}");
    }
    // Not there: the nearest directory that is, so the program can create it.
    assert_eq!(
        why(&t, "var/db").as_deref(),
        Some("directory of /var/db/app.db (not in the image), named on the command line of entrypoint")
    );
    assert!(why(&t, "run")
        .unwrap()
        .starts_with("directory of /run/app/app.pid"));
    assert!(!t.keep.contains("srv/other.txt") && !t.keep.contains("app/unrelated.txt"));
}

#[test]
fn a_system_directory_on_a_command_line_is_kept_without_its_tree() {
    let l = exe(LayerBuilder::new(), "usr/bin/lister", b"x").file("usr/share/doc/a/README", b"r");
    let config = json!({"config": {"Entrypoint": ["/usr/bin/lister", "/usr/share", "/usr"]}});
    let t = trace(l, config, TraceOptions::new()).unwrap();
    assert!(t.keep.contains("usr/share"));
    assert!(!t.keep.contains("usr/share/doc/a/README"));
}

/// A static C program with string literals (built with the host's gcc).
fn static_program(source: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("p.c");
    std::fs::write(&src, source).unwrap();
    let bin = dir.path().join("p");
    let out = std::process::Command::new("gcc")
        .args(["-static", "-O0", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
        .expect("gcc (build-essential) must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(bin).unwrap()
}

#[test]
fn paths_in_a_programs_read_only_data_are_kept_or_get_their_directory() {
    let prog = static_program(
        r#"#include <stdio.h>
const char *BODY = "/var/lib/myserver/body";
const char *PLUGINS = "/usr/lib/myserver/plugins";
const char *CONF = "/opt/myserver/server.conf";
const char *FMT = "/proc/%d/status";
int main(void) { printf("%s %s %s %s\n", BODY, PLUGINS, CONF, FMT); return 0; }
"#,
    );
    let l = exe(LayerBuilder::new(), "usr/sbin/myserver", &prog)
        .dir("var/lib/myserver", 0o700)
        .file("usr/lib/myserver/plugins/readme.txt", b"p")
        .file("usr/lib/myserver/other/unused.txt", b"u")
        .file("opt/myserver/server.conf", b"c")
        .file("opt/myserver/unused.conf", b"u");
    let config = json!({"config": {"Entrypoint": ["/usr/sbin/myserver"]}});
    let t = trace(l, config, TraceOptions::new()).unwrap();
    assert_eq!(
        why(&t, "usr/lib/myserver/plugins/readme.txt").as_deref(),
        Some("named in /usr/sbin/myserver")
    );
    assert_eq!(
        why(&t, "opt/myserver/server.conf").as_deref(),
        Some("named in /usr/sbin/myserver")
    );
    assert!(why(&t, "var/lib/myserver")
        .unwrap()
        .starts_with("directory of /var/lib/myserver/body (not in the image)"));
    assert!(!t.keep.contains("usr/lib/myserver/other/unused.txt"));
    assert!(!t.keep.contains("opt/myserver/unused.conf"));
}

#[test]
fn the_users_home_is_kept_without_its_content() {
    let l = exe(LayerBuilder::new(), "usr/bin/app", b"x")
        .file(
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\napp:x:1001:1001::/home/app:/bin/sh\n",
        )
        .dir("home/app", 0o700)
        .file("home/app/.bash_history", b"secret");
    let config = json!({"config": {"Entrypoint": ["/usr/bin/app"], "User": "app"}});
    let t = trace(l, config, TraceOptions::new()).unwrap();
    assert_eq!(
        why(&t, "home/app").as_deref(),
        Some("runtime essential: the home directory of the image's user")
    );
    assert!(!t.keep.contains("home/app/.bash_history"));
}

#[test]
fn an_entrypoint_that_cannot_be_traced_is_an_error_unless_included() {
    let broken = exe(
        LayerBuilder::new(),
        "usr/bin/app",
        b"\x7fELF\x02\x01\x01 and then nothing",
    );
    let config = json!({"config": {"Entrypoint": ["/usr/bin/app"]}});
    let e = trace(broken, config.clone(), TraceOptions::new())
        .err()
        .unwrap();
    assert!(
        matches!(&e, TraceError::Entrypoint { name, why } if name == "/usr/bin/app" && why.contains("ELF")),
        "{e}"
    );
    let broken = exe(
        LayerBuilder::new(),
        "usr/bin/app",
        b"\x7fELF\x02\x01\x01 and then nothing",
    );
    let opts = TraceOptions {
        include: vec!["/usr/bin/app".into()],
        ..TraceOptions::new()
    };
    assert!(trace(broken, config.clone(), opts).is_ok());

    for (script, missing) in [
        (&b"#!/usr/bin/python9\nprint(1)\n"[..], "/usr/bin/python9"),
        (b"#!/usr/bin/env python9\nprint(1)\n", "python9"),
    ] {
        let l = exe(LayerBuilder::new(), "usr/bin/app", script).file_with(
            "usr/bin/env",
            b"a program",
            0o755,
            0,
            0,
        );
        let e = trace(l, config.clone(), TraceOptions::new()).err().unwrap();
        assert!(e.to_string().contains("/usr/bin/app"), "{e}");
        assert!(
            matches!(&e, TraceError::Entrypoint { why, .. } if why.contains(missing)),
            "{e}"
        );
    }
}

#[test]
fn an_include_that_matches_nothing_is_a_warning() {
    let l = exe(LayerBuilder::new(), "usr/bin/app", b"x");
    let config = json!({"config": {"Entrypoint": ["/usr/bin/app"]}});
    let opts = TraceOptions {
        include: vec!["/nope/**".into()],
        ..TraceOptions::new()
    };
    let t = trace(l, config, opts).unwrap();
    assert!(
        t.warnings
            .iter()
            .any(|w| w.contains("/nope/** matches nothing")),
        "{:?}",
        t.warnings
    );
}

#[test]
fn what_a_probe_touched_is_kept_beside_the_static_evidence() {
    use crate::probe::{Access, Record};
    let l = exe(LayerBuilder::new(), "usr/bin/app", b"not ELF")
        .file("opt/plugins/csv.py", b"x")
        .file("opt/plugins/json.py", b"unused")
        .file("opt/plugins/late.py", b"stat'ed, then opened")
        .dir("srv/in", 0o755)
        .file("srv/in/a.txt", b"a")
        .symlink("data", "srv/in")
        .symlink("etc/link", "../opt/plugins/json.py");
    let config = json!({"config": {"Entrypoint": ["/usr/bin/app"]}});
    let rec = |access, path: &str| Record {
        access,
        program: "/usr/bin/app".into(),
        path: path.into(),
    };
    let opts = TraceOptions {
        probed: Some(vec![
            rec(Access::Stat, "/opt/plugins/late.py"),
            rec(Access::Opened, "/opt/plugins/csv.py"),
            rec(Access::Listed, "/data"),
            rec(Access::Executed, "/usr/bin/app"),
            rec(Access::ReadLink, "/etc/link"),
            rec(Access::Stat, "/created/at/run/time"),
            rec(Access::Opened, "relative/is/ignored"),
            // Stat'ed first, opened later: it was read.
            rec(Access::Opened, "/opt/plugins/late.py"),
        ]),
        ..TraceOptions::new()
    };
    let t = trace(l, config, opts).unwrap();
    assert_eq!(
        why(&t, "opt/plugins/csv.py").unwrap(),
        "opened while probing by /usr/bin/app"
    );
    // A listed directory through a symlink: the link and the directory, not its content.
    assert_eq!(
        why(&t, "srv/in").unwrap(),
        "listed while probing by /usr/bin/app"
    );
    assert_eq!(why(&t, "data").unwrap(), "symlink on the way to /srv/in");
    assert!(why(&t, "srv/in/a.txt").is_none());
    // A link read as a link is the link, not what it points to.
    assert!(why(&t, "etc/link").is_some());
    assert!(why(&t, "opt/plugins/json.py").is_none());
    // What static tracing found keeps its own reason.
    assert!(why(&t, "usr/bin/app").unwrap().starts_with("entrypoint"));
    let found = t.probe.unwrap();
    assert!(found.static_kept.contains("usr/bin/app"));
    assert!(found.touched.contains("opt/plugins/csv.py"));
    let opened: Vec<&str> = found.opened.iter().map(|p| p.as_str()).collect();
    assert_eq!(
        opened,
        ["opt/plugins/csv.py", "opt/plugins/late.py", "usr/bin/app"]
    );
    assert_eq!(found.not_in_image, 1);
}
