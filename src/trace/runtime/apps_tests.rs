//! The framework rules on small synthetic images: app servers that import
//! the app by name, Django's settings, package-manager scripts, Next.js.

use serde_json::json;

use super::tests::{assert_dropped, assert_kept, exe, python_base, site_package, trace};
use crate::testutil::LayerBuilder;
use crate::trace::TraceOptions;

#[test]
fn gunicorn_imports_the_app_its_argument_names_from_the_working_directory() {
    let user_site = "root/.local/lib/python3.11/site-packages";
    let mut l = python_base()
        .file_with(
            "root/.local/bin/gunicorn",
            b"#!/usr/bin/python3\nfrom gunicorn.app.wsgiapp import run\nrun()\n",
            0o755,
            0,
            0,
        )
        .file(
            "app/app.py",
            b"from flask import Flask\napp = Flask(__name__)\n",
        )
        .file("app/templates/page.html", b"<p>{{ x }}</p>");
    l = site_package(
        l,
        user_site,
        "gunicorn-22.0.0",
        &[("gunicorn/__init__.py", "\n")],
        "Name: gunicorn\n",
    );
    l = site_package(
        l,
        user_site,
        "flask-3.0.0",
        &[("flask/__init__.py", "import json\n")],
        "Name: flask\n",
    );
    l = site_package(
        l,
        user_site,
        "gevent-24.2.1",
        &[("gevent/__init__.py", "\n")],
        "Name: gevent\n",
    );
    l = site_package(
        l,
        user_site,
        "rich-13.0.0",
        &[("rich/__init__.py", "\n")],
        "Name: rich\n",
    );
    let config = json!({"config": {
        "Cmd": ["gunicorn", "app:app", "--bind", "0.0.0.0:8000", "-k", "gevent"],
        "WorkingDir": "/app",
        "Env": ["PATH=/root/.local/bin:/usr/bin:/bin"]}});
    let (keep, warnings) = trace(l, config, TraceOptions::new());
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_kept(
        &keep,
        &[
            "root/.local/bin/gunicorn",
            "app/app.py",
            "app/templates/page.html",
            &format!("{user_site}/gunicorn/__init__.py"),
            &format!("{user_site}/flask/__init__.py"),
            &format!("{user_site}/gevent/__init__.py"),
        ],
    );
    assert_dropped(&keep, &[&format!("{user_site}/rich")]);
    assert_eq!(
        keep.reason("app/app.py").unwrap().to_string(),
        "module named by gunicorn's argument app:app, run by /usr/bin/python3.11"
    );
}

#[test]
fn django_settings_name_installed_apps_by_string() {
    let site = "usr/local/lib/python3.11/dist-packages";
    let mut l = python_base()
        .file(
            "app/manage.py",
            b"import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\nfrom django.core.management import execute_from_command_line\n",
        )
        .file("app/mysite/__init__.py", b"")
        .file(
            "app/mysite/settings.py",
            b"INSTALLED_APPS = ['polls.apps.PollsConfig', 'rest_framework', 'django.contrib.admin']\n",
        )
        .file("app/polls/__init__.py", b"");
    l = site_package(
        l,
        site,
        "Django-4.2.16",
        &[("django/__init__.py", "\n")],
        "Name: Django\n",
    );
    l = site_package(
        l,
        site,
        "djangorestframework-3.15.0",
        &[("rest_framework/__init__.py", "\n")],
        "Name: djangorestframework\n",
    );
    l = site_package(
        l,
        site,
        "celery-5.3.0",
        &[("celery/__init__.py", "\n")],
        "Name: celery\n",
    );
    let config =
        json!({"config": {"Cmd": ["python3", "manage.py", "runserver"], "WorkingDir": "/app"}});
    let (keep, _) = trace(l, config, TraceOptions::new());
    assert_kept(
        &keep,
        &[
            &format!("{site}/rest_framework/__init__.py"),
            "app/mysite/settings.py",
        ],
    );
    assert_dropped(&keep, &[&format!("{site}/celery")]);
    assert!(keep
        .reason(&format!("{site}/rest_framework/__init__.py"))
        .unwrap()
        .to_string()
        .contains("the Django settings mysite.settings"));
}

/// Node, a shell, and npm as Debian installs it.
fn node_base() -> LayerBuilder {
    let l = exe(LayerBuilder::new(), "usr/bin/node", b"node");
    exe(l, "usr/bin/dash", b"dash")
        .symlink("bin", "usr/bin")
        .symlink("usr/bin/sh", "dash")
        .file_with("usr/bin/env", b"env", 0o755, 0, 0)
        .file(
            "usr/share/nodejs/npm/package.json",
            br#"{"name": "npm", "dependencies": {"semver": "7"}}"#,
        )
        .file_with(
            "usr/share/nodejs/npm/bin/npm-cli.js",
            b"#!/usr/bin/env node\nrequire('../lib/cli.js')(process)\n",
            0o755,
            0,
            0,
        )
        .file("usr/share/nodejs/npm/lib/cli.js", b"require('treeverse')\n")
        .file(
            "usr/share/nodejs/npm/node_modules/treeverse/index.js",
            b"\n",
        )
        .file("usr/share/nodejs/semver/package.json", b"{}")
        .file("usr/share/nodejs/semver/index.js", b"\n")
        .symlink("usr/bin/npm", "../share/nodejs/npm/bin/npm-cli.js")
}

#[test]
fn npm_start_runs_the_scripts_with_the_packages_bin_first() {
    let l = node_base()
        .file(
            "app/package.json",
            br#"{"scripts": {"prestart": "node check.js", "start": "my-server --port 3", "poststart": "echo done", "build": "tsc"}}"#,
        )
        .file("app/check.js", b"require('fs')\n")
        .symlink("app/node_modules/.bin/my-server", "../my-server/bin.js")
        .file_with(
            "app/node_modules/my-server/bin.js",
            b"#!/usr/bin/env node\nrequire('./lib')\n",
            0o755,
            0,
            0,
        )
        .file("app/node_modules/my-server/package.json", br#"{"name": "my-server", "dependencies": {"ms": "2"}}"#)
        .file("app/node_modules/my-server/lib.js", b"\n")
        .file("app/node_modules/ms/package.json", b"{}")
        .file("app/node_modules/ms/index.js", b"\n")
        .file("app/node_modules/typescript/package.json", b"{}")
        .symlink("app/node_modules/.bin/tsc", "../typescript/bin/tsc");
    let config = json!({"config": {"Cmd": ["npm", "start"], "WorkingDir": "/app"}});
    let (keep, warnings) = trace(l, config, TraceOptions::new());
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_kept(
        &keep,
        &[
            "usr/bin/npm",
            "usr/share/nodejs/npm/node_modules/treeverse/index.js",
            "usr/share/nodejs/semver/index.js",
            "app/package.json",
            "app/check.js",
            "app/node_modules/.bin/my-server",
            "app/node_modules/my-server/bin.js",
            "app/node_modules/ms/index.js",
            "usr/bin/dash",
        ],
    );
    assert_dropped(
        &keep,
        &["app/node_modules/typescript", "app/node_modules/.bin/tsc"],
    );
    assert_eq!(
        keep.reason("app/node_modules/my-server/bin.js")
            .unwrap()
            .to_string(),
        "my-server, run by the npm script start of /app/package.json shell command"
    );
}

#[test]
fn yarn_npx_node_run_and_unknown_commands() {
    let l = node_base()
        .file(
            "app/package.json",
            br#"{"scripts": {"serve": "node server.js"}}"#,
        )
        .file("app/server.js", b"\n")
        .file_with("usr/bin/yarn", b"yarn", 0o755, 0, 0)
        .symlink("app/node_modules/.bin/tool", "../tool/cli.js")
        .file_with(
            "app/node_modules/tool/cli.js",
            b"#!/usr/bin/env node\n",
            0o755,
            0,
            0,
        )
        .file("app/node_modules/tool/package.json", b"{}");
    for (cmd, kept) in [
        (json!(["yarn", "serve"]), "app/server.js"),
        (json!(["yarn", "run", "serve"]), "app/server.js"),
        (json!(["node", "--run", "serve"]), "app/server.js"),
        (
            json!(["npm", "exec", "tool", "--", "x"]),
            "app/node_modules/tool/cli.js",
        ),
    ] {
        let config = json!({"config": {"Cmd": cmd, "WorkingDir": "/app"}});
        let (keep, _) = trace(l.clone_layer(), config, TraceOptions::new());
        assert_kept(&keep, &[kept]);
    }
    let config = json!({"config": {"Cmd": ["npm", "ci"], "WorkingDir": "/app"}});
    let (_, warnings) = trace(l, config, TraceOptions::new());
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`npm ci` runs no script")),
        "{warnings:?}"
    );
}

#[test]
fn next_start_keeps_what_nexts_traces_list_not_the_whole_package() {
    let l = node_base()
        .file("app/package.json", br#"{"scripts": {"start": "next start -p 3000"}, "dependencies": {"next": "14"}}"#)
        .file("app/next.config.js", b"module.exports = {}\n")
        .file("app/public/hello.txt", b"hi")
        .file("app/.next/BUILD_ID", b"x")
        .file("app/.next/server/app/page.js", b"\n")
        .file("app/.next/cache/webpack/big.pack", b"cache")
        .file(
            "app/.next/next-server.js.nft.json",
            br#"{"version": 1, "files": ["../node_modules/next/dist/server/next-server.js", "../node_modules/react/index.js"]}"#,
        )
        .symlink("app/node_modules/.bin/next", "../next/dist/bin/next")
        .file_with(
            "app/node_modules/next/dist/bin/next",
            b"#!/usr/bin/env node\nrequire('../cli/next-start')\n",
            0o755,
            0,
            0,
        )
        .file("app/node_modules/next/package.json", br#"{"name": "next", "optionalDependencies": {"@next/swc-linux-x64-gnu": "14"}}"#)
        .file("app/node_modules/next/dist/cli/next-start.js", b"require('next/dist/compiled/semver')\nconst hooks = [['webpack', 'next/dist/compiled/webpack/webpack-lib']]\n")
        .file("app/node_modules/next/dist/compiled/semver/index.js", b"\n")
        .file("app/node_modules/next/dist/compiled/webpack/webpack-lib.js", b"\n")
        .file("app/node_modules/next/dist/server/next-server.js", b"\n")
        .file("app/node_modules/next/dist/build/webpack-config.js", b"\n")
        .file("app/node_modules/react/index.js", b"\n")
        .file("app/node_modules/@next/swc-linux-x64-gnu/next-swc.node", b"swc")
        .file("app/node_modules/@next/swc-linux-x64-gnu/package.json", b"{}");
    let config = json!({"config": {"Cmd": ["npm", "start"], "WorkingDir": "/app"}});
    let (keep, _) = trace(l, config, TraceOptions::new());
    assert_kept(
        &keep,
        &[
            "app/next.config.js",
            "app/public/hello.txt",
            "app/.next/BUILD_ID",
            "app/.next/server/app/page.js",
            "app/node_modules/next/dist/server/next-server.js",
            "app/node_modules/react/index.js",
            "app/node_modules/next/dist/cli/next-start.js",
            "app/node_modules/next/dist/compiled/semver/index.js",
            "app/node_modules/next/dist/compiled/webpack/webpack-lib.js",
        ],
    );
    assert_dropped(
        &keep,
        &[
            "app/.next/cache",
            "app/node_modules/next/dist/build/webpack-config.js",
            "app/node_modules/@next/swc-linux-x64-gnu",
        ],
    );
    assert_eq!(
        keep.reason("app/node_modules/react/index.js")
            .unwrap()
            .to_string(),
        "listed in Next.js's trace /app/.next/next-server.js.nft.json"
    );
}

#[test]
fn official_node_image_layout_npm_bundled_and_corepack_yarn() {
    // The official image: node in /usr/local, npm with its dependencies
    // bundled in its own node_modules, yarn a corepack shim that runs the
    // yarn corepack unpacked into its home; a module found through NODE_PATH.
    let l = exe(LayerBuilder::new(), "usr/local/bin/node", b"node");
    let l = exe(l, "bin/dash", b"dash");
    let l = exe(l, "usr/bin/env", b"env")
        .symlink("bin/sh", "dash")
        .symlink(
            "usr/local/bin/npm",
            "../lib/node_modules/npm/bin/npm-cli.js",
        )
        .file(
            "usr/local/lib/node_modules/npm/package.json",
            br#"{"name": "npm", "bundleDependencies": ["treeverse"]}"#,
        )
        .file_with(
            "usr/local/lib/node_modules/npm/bin/npm-cli.js",
            b"#!/usr/bin/env node\nrequire('../lib/cli.js')\n",
            0o755,
            0,
            0,
        )
        .file(
            "usr/local/lib/node_modules/npm/lib/cli.js",
            b"require('treeverse')\n",
        )
        .file(
            "usr/local/lib/node_modules/npm/node_modules/treeverse/index.js",
            b"\n",
        )
        .symlink(
            "usr/local/bin/yarn",
            "../lib/node_modules/corepack/dist/yarn.js",
        )
        .file(
            "usr/local/lib/node_modules/corepack/package.json",
            br#"{"name": "corepack"}"#,
        )
        .file_with(
            "usr/local/lib/node_modules/corepack/dist/yarn.js",
            b"#!/usr/bin/env node\nrequire('./lib/corepack.cjs')\n",
            0o755,
            0,
            0,
        )
        .file(
            "usr/local/lib/node_modules/corepack/dist/lib/corepack.cjs",
            b"\n",
        )
        .file("root/.cache/node/corepack/yarn/1.22.22/bin/yarn.js", b"\n")
        .file("usr/local/lib/node_modules/typescript/package.json", b"{}")
        .file("usr/local/lib/node_modules/typescript/lib/tsc.js", b"\n")
        .file("opt/shared/config-loader/main.js", b"require('one-file')\n")
        .file(
            "opt/shared/config-loader/package.json",
            br#"{"main": "main.js", "dependencies": {"one-file": "1"}}"#,
        )
        .file("opt/shared/one-file.js", b"\n")
        .file(
            "app/package.json",
            br#"{"scripts": {"start": "node server.js"}}"#,
        )
        .file("app/server.js", b"require('config-loader')\n");
    for launcher in ["npm", "yarn"] {
        let config = json!({"config": {
            "Cmd": [launcher, "start"],
            "WorkingDir": "/app",
            "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "NODE_PATH=/opt/shared"]}});
        let (keep, warnings) = trace(l.clone_layer(), config, TraceOptions::new());
        assert!(warnings.is_empty(), "{launcher}: {warnings:?}");
        assert_kept(
            &keep,
            &[
                "usr/local/bin/node",
                "app/server.js",
                "opt/shared/config-loader/main.js",
                "opt/shared/one-file.js",
            ],
        );
        assert_dropped(&keep, &["usr/local/lib/node_modules/typescript"]);
        let launcher_files: &[&str] = if launcher == "npm" {
            &["usr/local/lib/node_modules/npm/node_modules/treeverse/index.js"]
        } else {
            &[
                "usr/local/lib/node_modules/corepack/dist/lib/corepack.cjs",
                "root/.cache/node/corepack/yarn/1.22.22/bin/yarn.js",
            ]
        };
        assert_kept(&keep, launcher_files);
    }
}
