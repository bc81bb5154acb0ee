//! Python programs that import the app by name: app servers given
//! `MODULE:ATTR` (gunicorn, uvicorn, hypercorn, daphne, waitress), task
//! runners (celery `-A`), `flask --app` / `FLASK_APP`, and Django's
//! settings module. Each puts directories on `sys.path` (the WorkingDir,
//! `--chdir`, `--app-dir`, `--pythonpath`) and imports modules whose names
//! are only in its arguments, its configuration or its settings: this reads
//! them, the way the server will.

/// What a launcher imports: sys.path directories, modules by name, and
/// Python files it reads (configuration).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Launch {
    /// Directories on sys.path, as written (relative ones are from the WorkingDir).
    pub dirs: Vec<String>,
    /// Dotted module names imported by name.
    pub modules: Vec<String>,
    /// Configuration files it reads as Python (kept, and scanned for imports).
    pub files: Vec<String>,
    /// A reason for the report: `gunicorn's argument app:app`.
    pub what: String,
}

/// A command line split into options (with their values) and positionals.
struct Opts {
    options: Vec<(String, Option<String>)>,
    positionals: Vec<String>,
}

impl Opts {
    /// `--flag=value`, `--flag value` (unless the flag is in `booleans`),
    /// `-kVALUE` for one-letter flags, positionals.
    fn parse(args: &[String], booleans: &[&str]) -> Opts {
        let mut out = Opts {
            options: Vec::new(),
            positionals: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a == "--" {
                out.positionals.extend(it.cloned());
                break;
            }
            if let Some((flag, value)) = a.split_once('=').filter(|_| a.starts_with("--")) {
                out.options
                    .push((flag.to_string(), Some(value.to_string())));
            } else if a.starts_with("--") || (a.starts_with('-') && a.len() == 2) {
                let value = if booleans.contains(&a.as_str()) {
                    None
                } else {
                    it.next().cloned()
                };
                out.options.push((a.clone(), value));
            } else if a.starts_with('-') && a.len() > 2 {
                // `-kgevent`, `-c/etc/gunicorn.py`
                out.options
                    .push((a[..2].to_string(), Some(a[2..].to_string())));
            } else {
                out.positionals.push(a.clone());
            }
        }
        out
    }

    /// The values of `flags`, in order.
    fn values<'a>(&'a self, flags: &'a [&str]) -> impl Iterator<Item = &'a str> + 'a {
        self.options
            .iter()
            .filter(move |(f, _)| flags.contains(&f.as_str()))
            .filter_map(|(_, v)| v.as_deref())
    }

    fn has(&self, flag: &str) -> bool {
        self.options.iter().any(|(f, _)| f == flag)
    }
}

/// `pkg.module:attr` or `pkg.module:factory()` → `pkg.module`.
fn module_of(app: &str) -> Option<String> {
    let module = app.split(':').next()?.trim();
    let valid = !module.is_empty()
        && module.split('.').all(|c| {
            !c.is_empty()
                && c.chars().all(|ch| ch.is_alphanumeric() || ch == '_')
                && !c.starts_with(|ch: char| ch.is_ascii_digit())
        });
    valid.then(|| module.to_string())
}

/// A worker class or implementation given by a dotted path
/// (`uvicorn.workers.UvicornWorker`): the module holding it.
fn class_module(class: &str) -> Option<String> {
    let (module, _) = class.rsplit_once('.')?;
    module_of(module)
}

/// A server given its app as `MODULE:ATTR` in its first positional, run
/// with the working directory on sys.path.
fn serving(server: &str, o: &Opts) -> Launch {
    let mut l = Launch {
        dirs: vec![".".into()],
        ..Default::default()
    };
    if let Some(app) = o.positionals.first() {
        l.modules.extend(module_of(app));
        l.what = format!("{server}'s argument {app}");
    }
    l
}

/// What the program named `name` (a console script, or the module of
/// `python -m`) run with `args` imports by name; `env` looks up the
/// image's Env. `None` for programs that import no app by name.
pub(super) fn launch(
    name: &str,
    args: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Launch> {
    let mut l = match name {
        "gunicorn" => gunicorn(args),
        "uvicorn" => uvicorn(args),
        "hypercorn" => hypercorn(args),
        "daphne" => daphne(args),
        "waitress-serve" | "waitress" => waitress(args),
        "celery" => celery(args),
        "flask" => flask(args, env),
        "django-admin" | "django" => django_admin(args),
        _ => return None,
    };
    if let Some(settings) = env("DJANGO_SETTINGS_MODULE") {
        l.modules.extend(module_of(&settings));
    }
    Some(l)
}

/// gunicorn [OPTIONS] APP_MODULE: `MODULE:VAR` or `MODULE:factory()`,
/// `--chdir` (default: the working directory) and `--pythonpath` on
/// sys.path, `-c/--config` (default `gunicorn.conf.py` in the chdir), and
/// the worker class (`-k`: an alias or a dotted class).
fn gunicorn(args: &[String]) -> Launch {
    const BOOLEANS: &[&str] = &[
        "--reload",
        "-D",
        "--daemon",
        "--preload",
        "--check-config",
        "--print-config",
        "--spew",
        "--capture-output",
        "--enable-stdio-inheritance",
        "--strip-header-spaces",
        "--no-sendfile",
        "--reuse-port",
        "--proxy-protocol",
        "--suppress-ragged-eofs",
        "--do-handshake-on-connect",
        "-R",
        "--help",
        "-h",
        "-v",
        "--version",
        "--paste",
        "--disable-redirect-access-to-syslog",
    ];
    let o = Opts::parse(args, BOOLEANS);
    let chdir = o.values(&["--chdir"]).last().unwrap_or(".").to_string();
    let mut l = Launch {
        dirs: vec![chdir.clone()],
        ..Default::default()
    };
    for p in o.values(&["--pythonpath"]) {
        l.dirs.extend(p.split(',').map(str::to_string));
    }
    let configs: Vec<&str> = o.values(&["-c", "--config"]).collect();
    if configs.is_empty() {
        l.files.push(format!("{chdir}/gunicorn.conf.py"));
    }
    for c in configs {
        match c.strip_prefix("python:") {
            Some(module) => l.modules.extend(module_of(module)),
            None => l.files.push(c.to_string()),
        }
    }
    for worker in o.values(&["-k", "--worker-class"]) {
        l.modules.extend(match worker {
            "sync" | "gthread" => None,
            "eventlet" | "gevent" | "tornado" => Some(worker.to_string()),
            "gevent_wsgi" | "gevent_pywsgi" => Some("gevent".to_string()),
            dotted => class_module(dotted).or_else(|| module_of(dotted)),
        });
    }
    if let Some(app) = o.positionals.first() {
        l.modules.extend(module_of(app));
        l.what = format!("gunicorn's argument {app}");
    } else {
        l.what = "gunicorn's configuration".into();
    }
    l
}

/// uvicorn APP: `--app-dir` (default `.`) on sys.path; `--loop`, `--http`
/// and `--ws` pick an implementation at run time (`auto`: uvloop,
/// httptools, websockets when installed), so every installed candidate is
/// imported; `--reload` watches with watchfiles.
fn uvicorn(args: &[String]) -> Launch {
    const BOOLEANS: &[&str] = &[
        "--reload",
        "--factory",
        "--use-colors",
        "--no-use-colors",
        "--proxy-headers",
        "--no-proxy-headers",
        "--server-header",
        "--no-server-header",
        "--date-header",
        "--no-date-header",
        "--access-log",
        "--no-access-log",
        "--version",
        "--help",
        "--reload-delay",
        "--h11-max-incomplete-event-size",
    ];
    let o = Opts::parse(args, BOOLEANS);
    let mut l = Launch {
        dirs: vec![o.values(&["--app-dir"]).last().unwrap_or(".").to_string()],
        ..Default::default()
    };
    let pick = |flag: &str, auto: &[&str]| -> Vec<String> {
        match o.values(&[flag]).last() {
            None | Some("auto") => auto.iter().map(|s| s.to_string()).collect(),
            Some("asyncio" | "none") => Vec::new(),
            Some(named) => class_module(named)
                .or_else(|| module_of(named))
                .into_iter()
                .collect(),
        }
    };
    l.modules.extend(pick("--loop", &["uvloop"]));
    l.modules.extend(pick("--http", &["httptools", "h11"]));
    l.modules.extend(pick("--ws", &["websockets", "wsproto"]));
    if o.has("--reload") {
        l.modules.push("watchfiles".into());
    }
    l.files
        .extend(o.values(&["--log-config"]).map(str::to_string));
    if let Some(app) = o.positionals.first() {
        l.modules.extend(module_of(app));
        l.what = format!("uvicorn's argument {app}");
    }
    l
}

/// hypercorn APP: the working directory and `--root-path`... on sys.path,
/// `-k/--worker-class` (asyncio, uvloop, trio), `-c/--config` (a file, or
/// `python:module`).
fn hypercorn(args: &[String]) -> Launch {
    const BOOLEANS: &[&str] = &["--reload", "--debug", "--version", "--help", "-h"];
    let o = Opts::parse(args, BOOLEANS);
    let mut l = serving("hypercorn", &o);
    for k in o.values(&["-k", "--worker-class"]) {
        l.modules.extend(match k {
            "asyncio" => None,
            other => Some(other.to_string()),
        });
    }
    for c in o.values(&["-c", "--config"]) {
        match c.strip_prefix("python:") {
            Some(module) => l.modules.extend(module_of(module)),
            None => l.files.push(c.to_string()),
        }
    }
    l
}

/// daphne APP (`MODULE:ATTR`) from the working directory.
fn daphne(args: &[String]) -> Launch {
    const BOOLEANS: &[&str] = &["--proxy-headers", "-v", "--help", "-h", "--no-server-name"];
    serving("daphne", &Opts::parse(args, BOOLEANS))
}

/// waitress-serve [--call] MODULE:ATTR.
fn waitress(args: &[String]) -> Launch {
    const BOOLEANS: &[&str] = &[
        "--call",
        "--help",
        "--ipv4",
        "--ipv6",
        "--no-ipv4",
        "--no-ipv6",
        "--expose-tracebacks",
    ];
    serving("waitress", &Opts::parse(args, BOOLEANS))
}

/// celery -A APP (or --app=APP) COMMAND.
fn celery(args: &[String]) -> Launch {
    const BOOLEANS: &[&str] = &[
        "--help",
        "--version",
        "--quiet",
        "-q",
        "--no-color",
        "-B",
        "--beat",
        "-D",
        "--detach",
    ];
    let o = Opts::parse(args, BOOLEANS);
    let mut l = Launch {
        dirs: vec![".".into()],
        ..Default::default()
    };
    if let Some(app) = o.values(&["-A", "--app"]).last() {
        l.modules.extend(module_of(app));
        l.what = format!("celery's argument --app {app}");
    }
    l
}

/// flask --app APP ... (or FLASK_APP; without either, flask tries `app`
/// and `wsgi` in the working directory).
fn flask(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> Launch {
    const BOOLEANS: &[&str] = &[
        "--debug",
        "--no-debug",
        "--version",
        "--help",
        "--reload",
        "--no-reload",
        "--with-threads",
        "--without-threads",
        "--eager-loading",
        "--lazy-loading",
    ];
    let o = Opts::parse(args, BOOLEANS);
    let mut l = Launch {
        dirs: vec![".".into()],
        ..Default::default()
    };
    let app = o
        .values(&["--app", "-A"])
        .last()
        .map(str::to_string)
        .or_else(|| env("FLASK_APP"));
    match app {
        Some(app) => {
            // `--app hello.py` names a file; `--app hello:create_app()` a module.
            let module = app.trim_end_matches(".py").replace('/', ".");
            l.modules.extend(module_of(&module));
            l.what = format!("flask's --app {app}");
        }
        None => {
            l.modules.extend(["app".to_string(), "wsgi".to_string()]);
            l.what = "flask's default app module".into();
        }
    }
    l
}

/// django-admin COMMAND --settings=MODULE --pythonpath=DIR.
fn django_admin(args: &[String]) -> Launch {
    let o = Opts::parse(
        args,
        &[
            "--help",
            "--version",
            "--no-color",
            "--force-color",
            "--traceback",
            "--noinput",
            "--no-input",
        ],
    );
    let mut l = Launch {
        dirs: vec![".".into()],
        what: "django-admin".into(),
        ..Default::default()
    };
    l.dirs
        .extend(o.values(&["--pythonpath"]).map(str::to_string));
    l.modules
        .extend(o.values(&["--settings"]).filter_map(module_of));
    l
}

/// The settings module a Django project names in its code
/// (`os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")`).
pub(super) fn django_settings_in(source: &str) -> Option<String> {
    let at = source.find("DJANGO_SETTINGS_MODULE")?;
    // What follows the name's closing quote: `, "mysite.settings")`.
    let rest = &source[at + "DJANGO_SETTINGS_MODULE".len()..];
    let literal = rest.split(['"', '\'']).nth(2)?.to_string();
    module_of(&literal)
}

/// The modules a Django settings file names as strings: INSTALLED_APPS,
/// MIDDLEWARE, ROOT_URLCONF, WSGI_APPLICATION, TEMPLATES backends and
/// context processors, DATABASES engines, AUTH and cache backends... Every
/// string literal that is a module name (`rest_framework`,
/// `polls.apps.PollsConfig`) is a candidate; the caller keeps the ones that
/// are installed or in the app.
pub(super) fn module_strings(source: &str) -> Vec<String> {
    source
        .split(['"', '\''])
        .skip(1)
        .step_by(2)
        .filter(|s| !s.contains(':'))
        .filter_map(module_of)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn gunicorn_app_chdir_pythonpath_config_and_workers() {
        let l = launch(
            "gunicorn",
            &args("--bind 0.0.0.0:8000 -w 4 --chdir /srv/site --pythonpath lib,vendor -k uvicorn.workers.UvicornWorker --preload proj.wsgi:application"),
            &no_env,
        )
        .unwrap();
        assert_eq!(l.dirs, ["/srv/site", "lib", "vendor"]);
        assert_eq!(l.modules, ["uvicorn.workers", "proj.wsgi"]);
        assert_eq!(l.files, ["/srv/site/gunicorn.conf.py"]);
        assert_eq!(l.what, "gunicorn's argument proj.wsgi:application");
        let l = launch(
            "gunicorn",
            &args("-kgevent -c conf/g.py app:create_app()"),
            &no_env,
        )
        .unwrap();
        assert_eq!(l.modules, ["gevent", "app"]);
        assert_eq!(l.files, ["conf/g.py"]);
        assert_eq!(l.dirs, ["."]);
    }

    #[test]
    fn uvicorn_keeps_the_implementations_it_may_pick() {
        let l = launch(
            "uvicorn",
            &args("main:app --host 127.0.0.1 --port 8000"),
            &no_env,
        )
        .unwrap();
        assert_eq!(
            l.modules,
            [
                "uvloop",
                "httptools",
                "h11",
                "websockets",
                "wsproto",
                "main"
            ]
        );
        let l = launch(
            "uvicorn",
            &args("--app-dir src --loop asyncio --http h11 --ws none --factory api.app:make"),
            &no_env,
        )
        .unwrap();
        assert_eq!(l.dirs, ["src"]);
        assert_eq!(l.modules, ["h11", "api.app"]);
    }

    #[test]
    fn flask_celery_django_and_settings() {
        let env = |k: &str| (k == "FLASK_APP").then(|| "hello.py".to_string());
        assert_eq!(
            launch("flask", &args("run --port 80"), &env)
                .unwrap()
                .modules,
            ["hello"]
        );
        assert_eq!(
            launch("flask", &args("--app web:create() run"), &no_env)
                .unwrap()
                .modules,
            ["web"]
        );
        assert_eq!(
            launch("celery", &args("-A proj worker -l info"), &no_env)
                .unwrap()
                .modules,
            ["proj"]
        );
        let env = |k: &str| (k == "DJANGO_SETTINGS_MODULE").then(|| "site.settings".to_string());
        assert_eq!(
            launch("daphne", &args("asgi:app"), &env).unwrap().modules,
            ["asgi", "site.settings"]
        );
        assert!(launch("pip", &args("install x"), &no_env).is_none());
        assert_eq!(
            django_settings_in(
                "os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", 'mysite.settings')\n"
            ),
            Some("mysite.settings".into())
        );
        let settings = "INSTALLED_APPS = ['polls.apps.PollsConfig', \"rest_framework\", 'django.contrib.admin']\nDATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': 'x y'}}\nSTATIC_URL = '/static/'\n";
        assert_eq!(
            module_strings(settings),
            [
                "polls.apps.PollsConfig",
                "rest_framework",
                "django.contrib.admin",
                "default",
                "ENGINE",
                "django.db.backends.postgresql",
                "NAME"
            ]
        );
    }
}
