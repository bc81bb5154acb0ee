//! The runtime tracers on small synthetic images: what each keeps, what it
//! leaves out, and why. The real images (tests/runtimes.rs) prove the slim
//! images behave like the fat ones.

use std::io::Write;

use serde_json::json;

use super::java::JavaArgs;
use super::perl::perl_modules;
use super::python::{imported_modules, PythonArgs};
use crate::keep::KeepSet;
use crate::rootfs::RootFs;
use crate::testutil::{index_all, LayerBuilder};
use crate::trace::tracer::test_config;
use crate::trace::{trace_image, TraceOptions};

/// Trace a one-layer image; returns the keep set and the warnings.
pub(super) fn trace(
    layer: LayerBuilder,
    config: serde_json::Value,
    opts: TraceOptions,
) -> (KeepSet, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut fs = RootFs::from_layers(index_all(dir.path(), &[layer.bytes()], false)).unwrap();
    let traced = trace_image(&mut fs, &test_config(config), &opts).unwrap();
    (traced.keep, traced.warnings)
}

pub(super) fn exe(l: LayerBuilder, path: &str, data: &[u8]) -> LayerBuilder {
    l.file_with(path, data, 0o755, 0, 0)
}

pub(super) fn assert_kept(keep: &KeepSet, paths: &[&str]) {
    for p in paths {
        assert!(keep.contains(p), "{p} should be kept");
    }
}

pub(super) fn assert_dropped(keep: &KeepSet, paths: &[&str]) {
    for p in paths {
        assert!(
            !keep.contains(p),
            "{p} should not be kept: {:?}",
            keep.reason(p)
        );
    }
}

/// A Debian-like python3.11 with a small standard library.
pub(super) fn python_base() -> LayerBuilder {
    let l = exe(
        LayerBuilder::new(),
        "usr/bin/python3.11",
        b"not really python",
    );
    l.symlink("usr/bin/python3", "python3.11")
        .file("usr/lib/python3.11/os.py", b"import abc\n")
        .file(
            "usr/lib/python3.11/json/__init__.py",
            b"from .decoder import JSONDecoder\n",
        )
        .file("usr/lib/python3.11/test/test_os.py", b"import os\n")
        .file("usr/lib/python3.11/idlelib/idle.py", b"import tkinter\n")
        .file("usr/lib/python3.11/ctypes/test/test_x.py", b"\n")
        .file(
            "usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so",
            b"x",
        )
        .file(
            "usr/lib/python3.11/lib-dynload/_testcapi.cpython-311-x86_64-linux-gnu.so",
            b"x",
        )
}

pub(super) fn site_package(
    l: LayerBuilder,
    site: &str,
    dist: &str,
    files: &[(&str, &str)],
    metadata: &str,
) -> LayerBuilder {
    let mut record = String::new();
    let mut l = l;
    for (f, content) in files {
        l = l.file(&format!("{site}/{f}"), content.as_bytes());
        record.push_str(&format!("{f},sha256=x,1\n"));
    }
    record.push_str(&format!("{dist}.dist-info/RECORD,,\n"));
    l.file(
        &format!("{site}/{dist}.dist-info/RECORD"),
        record.as_bytes(),
    )
    .file(
        &format!("{site}/{dist}.dist-info/METADATA"),
        metadata.as_bytes(),
    )
}

#[test]
fn python_virtualenv_keeps_what_the_import_graph_reaches() {
    let site = "opt/venv/lib/python3.11/site-packages";
    let mut l = python_base()
        .symlink("opt/venv/bin/python", "/usr/bin/python3")
        .file("opt/venv/pyvenv.cfg", b"home = /usr/bin\ninclude-system-site-packages = false\n")
        .file("app/main.py", b"import json\ntry:\n    import requests\nexcept ImportError:\n    pass\nfrom helpers import shout\n")
        .file("app/helpers.py", b"def shout(s):\n    return s.upper()\n")
        .file(&format!("{site}/distutils-precedence.pth"), b"import os; enabled = True; enabled and __import__('_distutils_hack').add_shim();\n");
    l = site_package(
        l,
        site,
        "requests-2.32.3",
        &[
            ("requests/__init__.py", "import urllib3\nfrom . import api\n"),
            ("requests/api.py", "from .sessions import Session\n"),
            ("requests/tests/test_api.py", "import pytest\n"),
        ],
        "Name: requests\nRequires-Dist: idna (<4,>=2.5)\nRequires-Dist: PySocks!=1.5.7,>=1.5.6; extra == \"socks\"\n",
    );
    l = site_package(
        l,
        site,
        "urllib3-2.2.3",
        &[("urllib3/__init__.py", "import ssl\n")],
        "Name: urllib3\n",
    );
    l = site_package(
        l,
        site,
        "idna-3.10",
        &[("idna/__init__.py", "\n")],
        "Name: idna\n",
    );
    l = site_package(
        l,
        site,
        "PySocks-1.7.1",
        &[("socks.py", "\n")],
        "Name: PySocks\n",
    );
    l = site_package(
        l,
        site,
        "pygments-2.18.0",
        &[("pygments/__init__.py", "\n")],
        "Name: pygments\n",
    );
    l = site_package(
        l,
        site,
        "pytest-8.0.0",
        &[("pytest/__init__.py", "\n")],
        "Name: pytest\n",
    );
    l = site_package(
        l,
        site,
        "setuptools-65.5.0",
        &[
            ("setuptools/__init__.py", "\n"),
            ("_distutils_hack/__init__.py", "import os\n"),
        ],
        "Name: setuptools\n",
    );
    let config =
        json!({"config": {"Cmd": ["/opt/venv/bin/python", "/app/main.py"], "WorkingDir": "/app"}});
    let (keep, warnings) = trace(l, config.clone(), TraceOptions::new());
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_kept(
        &keep,
        &[
            "opt/venv/bin/python",
            "usr/bin/python3",
            "usr/bin/python3.11",
            "opt/venv/pyvenv.cfg",
            "app/main.py",
            "app/helpers.py",
            "usr/lib/python3.11/os.py",
            "usr/lib/python3.11/json/__init__.py",
            &format!("{site}/requests/__init__.py"),
            &format!("{site}/requests/api.py"),
            &format!("{site}/requests-2.32.3.dist-info/METADATA"),
            &format!("{site}/urllib3/__init__.py"),
            &format!("{site}/idna/__init__.py"),
            &format!("{site}/distutils-precedence.pth"),
            &format!("{site}/_distutils_hack/__init__.py"),
        ],
    );
    assert_dropped(
        &keep,
        &[
            "usr/lib/python3.11/test",
            "usr/lib/python3.11/idlelib",
            "usr/lib/python3.11/ctypes/test",
            "usr/lib/python3.11/lib-dynload/_testcapi.cpython-311-x86_64-linux-gnu.so",
            // This json package never imports its accelerator.
            "usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so",
            &format!("{site}/requests/tests"),
            &format!("{site}/pygments"),
            &format!("{site}/pytest"),
            &format!("{site}/socks.py"),
            &format!("{site}/setuptools"),
        ],
    );
    let why = keep
        .reason(&format!("{site}/idna/__init__.py"))
        .unwrap()
        .to_string();
    assert_eq!(
        why,
        format!("required by the installed distribution /{site}/requests-2.32.3.dist-info")
    );

    let opts = TraceOptions {
        import_graph: false,
        ..TraceOptions::new()
    };
    let (keep, _) = trace_again_with(config, opts);
    assert_kept(
        &keep,
        &[
            &format!("{site}/pygments/__init__.py"),
            &format!("{site}/setuptools/__init__.py"),
        ],
    );
}

/// The virtualenv image of the test above, with a package of its own only.
fn trace_again_with(config: serde_json::Value, opts: TraceOptions) -> (KeepSet, Vec<String>) {
    let site = "opt/venv/lib/python3.11/site-packages";
    let l = python_base()
        .symlink("opt/venv/bin/python", "/usr/bin/python3")
        .file("opt/venv/pyvenv.cfg", b"home = /usr/bin\n")
        .file("app/main.py", b"import json\n")
        .file(&format!("{site}/pygments/__init__.py"), b"\n")
        .file(&format!("{site}/setuptools/__init__.py"), b"\n");
    trace(l, config, opts)
}

#[test]
fn volumes_and_paths_named_in_app_code_are_kept() {
    let l = python_base()
        .file("data/seed.json", b"{}")
        .file("srv/assets/logo.svg", b"<svg/>")
        .file("srv/other/unused.txt", b"x")
        .file_with("opt/tools/helper", b"#!/bin/false\n", 0o755, 0, 0)
        .file(
            "app/main.py",
            b"import subprocess\nASSETS = '/srv/assets/'\nsubprocess.run(['/opt/tools/helper'])\nopen(f'/etc/{name}')\nprint('/usr/lib')\n",
        );
    let config = json!({"config": {"Cmd": ["python3", "/app/main.py"], "Volumes": {"/data": {}}}});
    let (keep, _) = trace(l, config, TraceOptions::new());
    assert_kept(
        &keep,
        &["data/seed.json", "srv/assets/logo.svg", "opt/tools/helper"],
    );
    assert_dropped(&keep, &["srv/other/unused.txt"]);
    let why = keep.reason("srv/assets/logo.svg").unwrap().to_string();
    assert_eq!(why, "named in /app/main.py");
}

#[test]
fn python_command_lines_and_imports() {
    let argv = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
    let a = PythonArgs::parse(&argv("python3 -u -X dev /app/main.py --port 80"));
    assert_eq!(a.script.as_deref(), Some("/app/main.py"));
    let a = PythonArgs::parse(&argv("python3 -Im http.server 80"));
    assert_eq!(
        (a.module.as_deref(), a.ignore_env, a.no_user_site),
        (Some("http.server"), true, true)
    );
    let a = PythonArgs::parse(&argv("python -c import_sys"));
    assert_eq!(a.code.as_deref(), Some("import_sys"));
    let src = "import os, sys as system\nfrom a.b import c  # comment\nfrom . import local\n    import json.decoder\nx = __import__('dyn')\nimportlib.import_module(\"plug.in\")\n";
    let names: Vec<String> = imported_modules(src).into_iter().collect();
    assert_eq!(
        names,
        [
            "a.b",
            "a.b.c",
            "dyn",
            "json.decoder",
            "os",
            "plug.in",
            "sys"
        ]
    );
}

#[test]
fn node_keeps_production_dependencies_only() {
    let l = exe(LayerBuilder::new(), "usr/bin/node", b"not really node")
        .file(
            "app/package.json",
            br#"{"name": "app", "dependencies": {"debug": "^4"}, "devDependencies": {"typescript": "5"}}"#,
        )
        .file("app/index.js", b"const debug = require('debug');\nconst lib = require('./lib');\nimport('node:fs');\n")
        .file("app/lib.js", b"module.exports = require('fs');\n")
        .file("app/node_modules/debug/package.json", br#"{"dependencies": {"ms": "2"}}"#)
        .file("app/node_modules/debug/index.js", b"require('ms')\n")
        .file("app/node_modules/debug/build/native.node", b"not really an addon")
        .file("app/node_modules/ms/package.json", b"{}")
        .file("app/node_modules/ms/index.js", b"\n")
        .file("app/node_modules/typescript/package.json", b"{}")
        .file("app/node_modules/typescript/lib/tsc.js", b"\n")
        .symlink("app/node_modules/.bin/tsc", "../typescript/lib/tsc.js");
    let config = json!({"config": {"Cmd": ["node", "index.js"], "WorkingDir": "/app"}});
    let (keep, warnings) = trace(l, config, TraceOptions::new());
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_kept(
        &keep,
        &[
            "usr/bin/node",
            "app/index.js",
            "app/lib.js",
            "app/package.json",
            "app/node_modules/debug/index.js",
            "app/node_modules/debug/build/native.node",
            "app/node_modules/ms/index.js",
        ],
    );
    assert_dropped(
        &keep,
        &["app/node_modules/typescript", "app/node_modules/.bin/tsc"],
    );
    let why = keep
        .reason("app/node_modules/ms/index.js")
        .unwrap()
        .to_string();
    assert_eq!(why, "production dependency ms of /app/node_modules/debug");
}

#[test]
fn shell_script_programs_and_launchers() {
    let python = python_base();
    let l = exe(python, "usr/bin/dash", b"sh")
        .symlink("bin", "usr/bin")
        .symlink("usr/bin/sh", "dash")
        .file_with("usr/bin/tini", b"tini", 0o755, 0, 0)
        .file_with("usr/bin/sed", b"sed", 0o755, 0, 0)
        .file_with("usr/bin/mawk", b"mawk", 0o755, 0, 0)
        .file_with("usr/bin/unused", b"unused", 0o755, 0, 0)
        .symlink("usr/bin/awk", "/etc/alternatives/awk")
        .symlink("etc/alternatives/awk", "/usr/bin/mawk")
        .file("app/run.py", b"import json\n")
        .file("app/lib.sh", b"say() { echo \"$@\"; }\n")
        .file_with(
            "app/entry.sh",
            b"#!/bin/sh\nset -e\n. /app/lib.sh\ncase \"$1\" in\n  start|run) say go ;;\nesac\nv=$(echo \"$1\" | sed 's/a;b/c/')\nawk '{ s += $2 } END { print s }' /data\n\"$RUNNER\" x\nexec python3 /app/run.py \"$@\"\n",
            0o755,
            0,
            0,
        );
    let config = json!({"config": {"Entrypoint": ["/usr/bin/tini", "--", "/app/entry.sh"], "Cmd": ["start"]}});
    let (keep, warnings) = trace(l, config, TraceOptions::new());
    assert_kept(
        &keep,
        &[
            "usr/bin/tini",
            "app/entry.sh",
            "usr/bin/dash",
            "usr/bin/sh",
            "bin",
            "app/lib.sh",
            "usr/bin/sed",
            "usr/bin/awk",
            "etc/alternatives/awk",
            "usr/bin/mawk",
            "usr/bin/python3",
            "usr/bin/python3.11",
            "app/run.py",
            "usr/lib/python3.11/os.py",
        ],
    );
    assert_dropped(&keep, &["usr/bin/unused"]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("\"$RUNNER\"") && warnings[0].contains("--include-exe"),
        "{warnings:?}"
    );
    let why = keep.reason("usr/bin/mawk").unwrap().to_string();
    assert_eq!(why, "run by the script /app/entry.sh");
}

/// A jar holding only a manifest.
fn jar(manifest: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(
        "META-INF/MANIFEST.MF",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    zip.write_all(manifest.as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

#[test]
fn java_runtime_without_the_jdk_and_the_jar_class_path() {
    let home = "usr/lib/jvm/java-17-openjdk-amd64";
    let l = exe(LayerBuilder::new(), &format!("{home}/bin/java"), b"java")
        .file_with(&format!("{home}/bin/javac"), b"javac", 0o755, 0, 0)
        .file(&format!("{home}/lib/modules"), b"jimage")
        .file(&format!("{home}/lib/server/libjvm.so"), b"not ELF")
        .file(&format!("{home}/jmods/java.base.jmod"), b"jmod")
        .file(&format!("{home}/include/jni.h"), b"header")
        .symlink(&format!("{home}/lib/security/cacerts"), "/etc/ssl/certs/java/cacerts")
        .file("etc/ssl/certs/java/cacerts", b"keystore")
        .symlink("usr/bin/java", "/etc/alternatives/java")
        .symlink("etc/alternatives/java", &format!("/{home}/bin/java"))
        .file("app/app.jar", &jar("Manifest-Version: 1.0\r\nMain-Class: Main\r\nClass-Path: lib/dep.jar lib/lo\r\n ng.jar\r\n"))
        .file("app/lib/dep.jar", &jar("Manifest-Version: 1.0\r\n"))
        .file("app/lib/long.jar", &jar("Manifest-Version: 1.0\r\n"))
        .file("app/lib/unused.jar", &jar("Manifest-Version: 1.0\r\n"));
    let config = json!({"config": {"Cmd": ["java", "-Xmx64m", "-jar", "/app/app.jar"]}});
    let (keep, warnings) = trace(l, config, TraceOptions::new());
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_kept(
        &keep,
        &[
            "usr/bin/java",
            "etc/alternatives/java",
            &format!("{home}/bin/java"),
            &format!("{home}/lib/modules"),
            &format!("{home}/lib/server/libjvm.so"),
            &format!("{home}/lib/security/cacerts"),
            "etc/ssl/certs/java/cacerts",
            "app/app.jar",
            "app/lib/dep.jar",
            "app/lib/long.jar",
        ],
    );
    assert_dropped(
        &keep,
        &[
            &format!("{home}/bin/javac"),
            &format!("{home}/jmods"),
            &format!("{home}/include"),
            "app/lib/unused.jar",
        ],
    );
    let argv: Vec<String> = "java -Xmx1g -cp /a:/b/* --add-opens x=y com.example.Main arg"
        .split(' ')
        .map(str::to_string)
        .collect();
    let a = JavaArgs::parse(&argv);
    assert_eq!(a.class_path.as_deref(), Some("/a:/b/*"));
    assert_eq!(a.main_class.as_deref(), Some("com.example.Main"));
}

#[test]
fn java_home_in_env_keeps_the_runtime_a_script_starts_through_a_variable() {
    let home = "opt/java/openjdk";
    let l = exe(LayerBuilder::new(), &format!("{home}/bin/java"), b"java")
        .file(&format!("{home}/lib/modules"), b"jimage")
        .file(&format!("{home}/jmods/java.base.jmod"), b"jmod")
        .file_with("bin/sh", b"sh", 0o755, 0, 0)
        .file_with(
            "app/run.sh",
            b"#!/bin/sh\nexec \"$JAVA_HOME/bin/java\" -jar /app/app.jar\n",
            0o755,
            0,
            0,
        )
        .file("app/app.jar", &jar("Manifest-Version: 1.0\r\n"));
    let config =
        json!({"config": {"Entrypoint": ["/app/run.sh"], "Env": ["JAVA_HOME=/opt/java/openjdk"]}});
    let (keep, warnings) = trace(l, config, TraceOptions::new());
    assert_kept(
        &keep,
        &[
            &format!("{home}/bin/java"),
            &format!("{home}/lib/modules"),
            "app/app.jar",
        ],
    );
    assert_dropped(&keep, &[&format!("{home}/jmods")]);
    // The variable itself is reported, since only Env told where java is.
    assert!(
        warnings.iter().any(|w| w.contains("$JAVA_HOME/bin/java")),
        "{warnings:?}"
    );
}

#[test]
fn crafted_chains_end_with_a_warning_not_a_stack_overflow() {
    // 200 scripts, each running the next; a package.json whose main is itself;
    // 5000 directories each linking to the next, named by the app.
    let make = || {
        let mut l =
            exe(LayerBuilder::new(), "bin/sh", b"sh").file("app/package.json", br#"{"main": "."}"#);
        for i in 0..200 {
            let body = format!("#!/bin/sh\nexec /s/{} \"$@\"\n", i + 1);
            l = l.file_with(&format!("s/{i}"), body.as_bytes(), 0o755, 0, 0);
        }
        for i in 0..5000 {
            l = l.symlink(&format!("chain/{i}/next"), &format!("/chain/{}", i + 1));
        }
        exe(l, "usr/bin/node", b"node").file_with(
            "s/node-app",
            b"#!/usr/bin/node\n'/chain/0'\n",
            0o755,
            0,
            0,
        )
    };
    let config = json!({"config": {"Entrypoint": ["/s/0"], "Cmd": []}});
    let (keep, warnings) = trace(make(), config, TraceOptions::new());
    assert!(keep.contains("s/30"));
    assert!(
        warnings.iter().any(|w| w.contains("nested deeper than 32")),
        "{warnings:?}"
    );
    let config = json!({"config": {"Cmd": ["node", "/app"], "WorkingDir": "/app"}});
    let (_, warnings) = trace(make(), config, TraceOptions::new());
    assert!(
        warnings.iter().any(|w| w.contains("\"main\" fields loop")),
        "{warnings:?}"
    );
    let config = json!({"config": {"Cmd": ["/s/node-app"]}});
    let (keep, _) = trace(make(), config, TraceOptions::new());
    assert!(keep.contains("chain/4999/next"));
}

#[test]
fn perl_uses_and_ruby_paths() {
    let src = "use strict;\nuse JSON::PP;\nuse parent -norequire, 'Local::Base';\nuse base qw(Some::Class);\nrequire Digest::SHA; # sha\nmy $x = 'use Not::Code';\n__END__\nuse After::End;\n";
    let m: Vec<String> = perl_modules(src).into_iter().collect();
    assert_eq!(
        m,
        [
            "Digest::SHA",
            "JSON::PP",
            "Local::Base",
            "Some::Class",
            "base",
            "parent",
            "strict"
        ]
    );

    let l = exe(
        LayerBuilder::new(),
        "usr/bin/ruby3.1",
        b"\0/usr/lib/ruby/3.1.0\0/var/lib/gems/3.1.0\0",
    )
    .symlink("usr/bin/ruby", "ruby3.1")
    .file("usr/lib/ruby/3.1.0/json.rb", b"")
    .file("var/lib/gems/3.1.0/gems/rack-3.0/lib/rack.rb", b"")
    .file("var/lib/gems/3.1.0/gems/rack-3.0/lib/rack/lint.rb", b"")
    .file("var/lib/gems/3.1.0/specifications/rack-3.0.gemspec", b"")
    .file("var/lib/gems/3.1.0/gems/sinatra-4.0/lib/sinatra.rb", b"")
    .file("var/lib/gems/3.1.0/specifications/sinatra-4.0.gemspec", b"")
    .file("var/lib/gems/3.1.0/cache/rack-3.0.gem", b"archive")
    .file("app/app.rb", b"require 'json'\nrequire 'rack'\n");
    let config = json!({"config": {"Cmd": ["ruby", "/app/app.rb"]}});
    let (keep, warnings) = trace(l, config, TraceOptions::new());
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_kept(
        &keep,
        &[
            "usr/bin/ruby",
            "usr/bin/ruby3.1",
            "usr/lib/ruby/3.1.0/json.rb",
            "var/lib/gems/3.1.0/gems/rack-3.0/lib/rack.rb",
            // A gem is kept whole, with the specifications RubyGems reads.
            "var/lib/gems/3.1.0/gems/rack-3.0/lib/rack/lint.rb",
            "var/lib/gems/3.1.0/specifications/sinatra-4.0.gemspec",
            "app/app.rb",
        ],
    );
    assert_dropped(
        &keep,
        &[
            "var/lib/gems/3.1.0/cache/rack-3.0.gem",
            "var/lib/gems/3.1.0/gems/sinatra-4.0/lib/sinatra.rb",
        ],
    );
}

#[test]
fn sources_in_a_legacy_encoding_are_followed_all_the_same() {
    // A Latin-1 byte (not UTF-8) in a comment or a POD: the script's
    // modules are still found.
    let l = exe(
        LayerBuilder::new(),
        "usr/bin/perl",
        b"\0/usr/share/perl/5.36\0",
    )
    .file("usr/share/perl/5.36/strict.pm", b"")
    .file("usr/share/perl/5.36/Getopt/Long.pm", b"use strict;\n")
    .file("usr/share/perl/5.36/Unused.pm", b"")
    .file(
        "app/t.pl",
        b"# caf\xe9 ledger\nuse Getopt::Long;\n__END__\n\n=encoding latin1\n\n=head1 NAME\n\nt - caf\xe9\n",
    );
    let config = json!({"config": {"Cmd": ["perl", "/app/t.pl"]}});
    let (keep, _) = trace(l, config, TraceOptions::new());
    assert_kept(
        &keep,
        &[
            "usr/share/perl/5.36/Getopt/Long.pm",
            "usr/share/perl/5.36/strict.pm",
        ],
    );
    assert_dropped(&keep, &["usr/share/perl/5.36/Unused.pm"]);

    let l = exe(
        LayerBuilder::new(),
        "usr/bin/ruby3.1",
        b"\0/usr/lib/ruby/3.1.0\0",
    )
    .symlink("usr/bin/ruby", "ruby3.1")
    .file("usr/lib/ruby/3.1.0/json.rb", b"")
    .file(
        "app/app.rb",
        b"# -*- coding: iso-8859-1 -*-\n# caf\xe9\nrequire 'json'\n",
    );
    let config = json!({"config": {"Cmd": ["ruby", "/app/app.rb"]}});
    let (keep, _) = trace(l, config, TraceOptions::new());
    assert_kept(&keep, &["usr/lib/ruby/3.1.0/json.rb"]);
}
