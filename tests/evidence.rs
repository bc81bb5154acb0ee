//! Programs that *name* files and directories: a config file on the command
//! line, a directory in a flag, a file inside a URL, literal paths in C code,
//! the paths of a stock server configuration, what a database loads when a
//! client asks for it, the home directory of the user an image runs as.
//! Each fixture is slimmed by tracing alone (no --include, no --keep) and the
//! slim image must behave exactly like the fat one. Every test first checks
//! that the fat image really does the thing, so two failures never compare
//! equal.

mod util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use util::serve::{Response, Server};
use util::*;

/// Start `image` on the host network (it listens on 127.0.0.1:`port`), run
/// `f` against it, remove it. Fat and slim share the port, so a test calls
/// this for one image after the other (the port lock is released on return).
fn with_server<T>(image: &str, port: u16, f: impl FnOnce(&Server) -> T) -> T {
    let server = Server::start(image, port, &[], &[]);
    f(&server)
}

/// Fat and slim must run the same one-shot command: same output, same exit
/// code. Returns the fat run after checking it exited 0 and printed `expect`.
fn fat_then_slim_run(fat: &str, slim: &str, expect: &str) -> (String, i32) {
    let fat_run = run_image(fat, &[]);
    assert_eq!(fat_run.1, 0, "fat image failed:\n{}", fat_run.0);
    assert!(
        fat_run.0.contains(expect),
        "fat output lacks {expect:?}:\n{}",
        fat_run.0
    );
    let slim_run = run_image(slim, &[]);
    assert_eq!(
        slim_run.1, fat_run.1,
        "slim exit code differs; slim output:\n{}",
        slim_run.0
    );
    assert_same_lines("fat and slim output", &fat_run.0, &slim_run.0);
    fat_run
}

// ---------------------------------------------------------------- redis-conf

/// One RESP reply, rendered as text: `+OK`, `-ERR ...`, `:1`, `$bulk`, `$nil`,
/// `*[a, b]`.
fn resp_reply(r: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let line = line.trim_end_matches("\r\n");
    let (kind, rest) = line.split_at(line.len().min(1));
    Ok(match kind {
        "+" | "-" | ":" => line.to_string(),
        "$" => {
            let n: i64 = rest.parse().map_err(std::io::Error::other)?;
            if n < 0 {
                "$nil".to_string()
            } else {
                let mut buf = vec![0; n as usize + 2];
                r.read_exact(&mut buf)?;
                buf.truncate(n as usize);
                format!("${}", String::from_utf8_lossy(&buf))
            }
        }
        "*" => {
            let n: i64 = rest.parse().map_err(std::io::Error::other)?;
            let items = (0..n.max(0))
                .map(|_| resp_reply(r))
                .collect::<std::io::Result<Vec<_>>>()?;
            format!("*[{}]", items.join(", "))
        }
        _ => return Err(std::io::Error::other(format!("bad RESP line {line:?}"))),
    })
}

/// Send each command (as a RESP array of bulk strings) on one connection and
/// return the replies in order.
fn redis(port: u16, cmds: &[&[&str]]) -> Vec<String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to redis");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut w = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    cmds.iter()
        .map(|cmd| {
            let mut req = format!("*{}\r\n", cmd.len());
            for arg in *cmd {
                req += &format!("${}\r\n{arg}\r\n", arg.len());
            }
            w.write_all(req.as_bytes()).unwrap();
            resp_reply(&mut r).unwrap_or_else(|e| panic!("reply to {cmd:?}: {e}"))
        })
        .collect()
}

/// The `key:value` lines of `INFO server` that do not change between runs.
fn stable_info(info: &str) -> Vec<String> {
    const KEYS: &[&str] = &[
        "redis_version",
        "redis_mode",
        "arch_bits",
        "multiplexing_api",
        "gcc_version",
        "tcp_port",
        "executable",
        "config_file",
    ];
    info.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| KEYS.iter().any(|k| l.split(':').next() == Some(*k)))
        .map(str::to_string)
        .collect()
}

/// PING, SET/GET, the settings that come from the config file, INFO server.
fn redis_session(server: &Server) -> Vec<String> {
    let mut replies = redis(
        server.port,
        &[
            &["PING"],
            &["SET", "slimify:greeting", "hello from redis"],
            &["GET", "slimify:greeting"],
            &["INCRBY", "slimify:counter", "41"],
            &["INCR", "slimify:counter"],
            &["DBSIZE"],
            &["CONFIG", "GET", "port"],
            &["CONFIG", "GET", "dir"],
            &["CONFIG", "GET", "maxmemory"],
            &["CONFIG", "GET", "databases"],
            &["SELECT", "3"],
            &["SELECT", "4"],
        ],
    );
    let info = redis(server.port, &[&["INFO", "server"]]).remove(0);
    replies.extend(stable_info(&info));
    replies
}

#[test]
fn redis_started_with_a_config_file_on_its_command_line_serves_the_same() {
    let fat = fixture("redis-conf");
    let fat_replies = with_server(&fat, 18101, redis_session);
    for want in [
        "+PONG",
        "$hello from redis",
        ":42",
        "*[$port, $18101]",
        "*[$dir, $/var/lib/redis]",
        "*[$maxmemory, $33554432]",
        "*[$databases, $4]",
        "config_file:/etc/redis/app.conf",
    ] {
        assert!(
            fat_replies.iter().any(|r| r == want),
            "fat redis did not answer {want:?}: {fat_replies:#?}"
        );
    }
    assert!(
        fat_replies.iter().any(|r| r.starts_with("redis_version:")),
        "{fat_replies:#?}"
    );
    let (slim, _report) = slim(&fat, "redis-conf", &[]);
    let slim_replies = with_server(&slim.0, 18101, redis_session);
    assert_eq!(slim_replies, fat_replies);
    assert_eq!(runtime_config(&slim.0), runtime_config(&fat));
}

// --------------------------------------------------------------- static-site

const SITE_PAGES: &[&str] = &[
    "/",
    "/index.html",
    "/docs/guide.html",
    "/docs/notes.txt",
    "/docs/",
    "/css/site.css",
    "/missing.html",
    "/docs/missing/",
];

/// Every page (status and body) and the HEALTHCHECK status.
fn site_session(server: &Server) -> (Vec<(String, Response)>, String) {
    let pages = SITE_PAGES
        .iter()
        .map(|p| (p.to_string(), server.get(p)))
        .collect();
    (pages, server.health(Duration::from_secs(40)))
}

#[test]
fn static_files_in_a_directory_named_by_a_flag_and_a_curl_healthcheck_behave_the_same() {
    let fat = fixture("static-site");
    let (fat_pages, fat_health) = with_server(&fat, 18102, site_session);
    let page = |pages: &[(String, Response)], p: &str| {
        pages.iter().find(|(q, _)| q == p).unwrap().1.clone()
    };
    let index = page(&fat_pages, "/");
    assert_eq!(index.status, 200, "{index:?}");
    assert!(index.body.contains("static-site: front page"), "{index:?}");
    let guide = page(&fat_pages, "/docs/guide.html");
    assert!(guide.body.contains("static-site: the guide"), "{guide:?}");
    let listing = page(&fat_pages, "/docs/");
    assert!(listing.body.contains("notes.txt"), "{listing:?}");
    assert!(page(&fat_pages, "/css/site.css").body.contains("#0a5"));
    assert_eq!(page(&fat_pages, "/missing.html").status, 404);
    assert_eq!(fat_health, "healthy");

    let (slim, _report) = slim(&fat, "static-site", &[]);
    let (slim_pages, slim_health) = with_server(&slim.0, 18102, site_session);
    assert_eq!(slim_pages, fat_pages);
    assert_eq!(slim_health, fat_health, "HEALTHCHECK status differs");
    assert_eq!(runtime_config(&slim.0), runtime_config(&fat));
}

// ----------------------------------------------------------------- curl-file

#[test]
fn curl_printing_a_file_named_by_a_file_url_prints_the_same() {
    let fat = fixture("curl-file");
    let (slim, _report) = slim(&fat, "curl-file", &[]);
    let (out, _) = fat_then_slim_run(&fat, &slim.0, "checksum-word: zebra-quartz-17");
    assert!(out.starts_with("curl-file fixture data: line 1"), "{out}");
    assert_eq!(runtime_config(&slim.0), runtime_config(&fat));
}

// -------------------------------------------------------------------- c-data

#[test]
fn a_c_program_reading_a_file_and_listing_a_directory_by_literal_paths_prints_the_same() {
    let fat = fixture("c-data");
    let (slim, _report) = slim(&fat, "c-data", &[]);
    let (out, _) = fat_then_slim_run(&fat, &slim.0, "c-data: all data read");
    for want in [
        "Hello from /app/data/greeting.txt!",
        "/app/data/templates: 3 entries",
        "== b-goodbye.tmpl",
        "Report for {{name}}:",
    ] {
        assert!(out.contains(want), "fat output lacks {want:?}:\n{out}");
    }
    assert_eq!(runtime_config(&slim.0), runtime_config(&fat));
    let size = image_size(&slim.0);
    assert!(size < 10_000_000, "slim image is {size} bytes");
}

// --------------------------------------------------------------- nginx-stock

const NGINX_PAGES: &[&str] = &[
    "/",
    "/index.html",
    "/about.html",
    "/index.nginx-debian.html",
    "/missing.html",
];

#[test]
fn nginx_with_debians_stock_configuration_serves_the_same_and_is_under_15_mb() {
    let fat = fixture("nginx-stock");
    let session = |s: &Server| -> Vec<(String, Response)> {
        NGINX_PAGES
            .iter()
            .map(|p| (p.to_string(), s.get(p)))
            .collect()
    };
    let fat_pages = with_server(&fat, 18105, session);
    let (index, about, missing) = (&fat_pages[0].1, &fat_pages[2].1, &fat_pages[4].1);
    assert_eq!(index.status, 200, "{index:?}");
    assert!(
        index
            .body
            .contains("nginx-stock: served with Debian's stock configuration"),
        "{index:?}"
    );
    assert!(about.body.contains("nginx-stock: about page"), "{about:?}");
    assert_eq!(missing.status, 404, "{missing:?}");
    assert!(missing.body.contains("404 Not Found"), "{missing:?}");

    let (slim, _report) = slim(&fat, "nginx-stock", &[]);
    let slim_pages = with_server(&slim.0, 18105, session);
    assert_eq!(slim_pages, fat_pages);
    assert_eq!(runtime_config(&slim.0), runtime_config(&fat));
    let size = image_size(&slim.0);
    assert!(size < 15_000_000, "slim image is {size} bytes");
}

// -------------------------------------------------------------- postgres-ext

/// One statement through the host's psql (unaligned, tuples only, no psqlrc);
/// returns its output and exit code.
fn psql(port: u16, sql: &str) -> (String, i32) {
    let out = Command::new("psql")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-U", "postgres", "-d", "postgres", "-XAtq"])
        .args(["-v", "ON_ERROR_STOP=1", "-c", sql])
        .env("PGCONNECT_TIMEOUT", "5")
        .env_remove("PGPASSWORD")
        .stdin(Stdio::null())
        .output()
        .expect("run psql (install postgresql-client on the host)");
    (
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        out.status.code().unwrap_or(-1),
    )
}

/// Wait until the server accepts queries (it accepts connections while it
/// is still starting up).
fn wait_for_postgres(server: &Server) {
    let start = Instant::now();
    loop {
        let (out, code) = psql(server.port, "SELECT 1");
        if code == 0 && out.trim() == "1" {
            return;
        }
        assert!(
            server.running() && start.elapsed() < Duration::from_secs(60),
            "postgres never answered SELECT 1 (last: {out})\n{}",
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

const PG_QUERIES: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "SELECT extversion FROM pg_extension WHERE extname = 'pg_trgm'",
    "SELECT similarity('word', 'words')",
    "SELECT show_trgm('word')",
    "SELECT to_tsvector('english', 'The quick brown foxes jumped') @@ to_tsquery('english', 'fox')",
    "SELECT to_tsvector('english', 'The quick brown foxes jumped')",
    "SELECT ts_lexize('english_stem', 'jumping')",
    "SHOW timezone",
    "SELECT '2024-01-15 12:00:00+00'::timestamptz",
    "SELECT '2024-07-15 12:00:00+00'::timestamptz AT TIME ZONE 'Asia/Tokyo'",
    "SELECT '2024-07-15 12:00:00 CEST'::timestamptz",
];

/// Each query with its output and exit code.
fn pg_session(server: &Server) -> Vec<(String, String, i32)> {
    wait_for_postgres(server);
    PG_QUERIES
        .iter()
        .map(|q| {
            let (out, code) = psql(server.port, q);
            (q.to_string(), out.trim_end().to_string(), code)
        })
        .collect()
}

#[test]
fn postgres_loading_an_extension_dictionaries_and_time_zones_at_run_time_answers_the_same() {
    let fat = fixture("postgres-ext");
    let fat_answers = with_server(&fat, 18106, pg_session);
    let answer = |q: &str| {
        let (_, out, code) = fat_answers.iter().find(|(sql, _, _)| sql == q).unwrap();
        assert_eq!(*code, 0, "fat postgres failed {q:?}: {out}");
        out.clone()
    };
    assert_eq!(answer(PG_QUERIES[0]), "");
    assert_eq!(answer(PG_QUERIES[1]), "1.6");
    assert_eq!(answer(PG_QUERIES[2]), "0.5714286");
    assert_eq!(answer(PG_QUERIES[4]), "t");
    assert_eq!(
        answer(PG_QUERIES[5]),
        "'brown':3 'fox':4 'jump':5 'quick':2"
    );
    assert_eq!(answer(PG_QUERIES[6]), "{jump}");
    assert_eq!(answer(PG_QUERIES[7]), "America/New_York");
    assert_eq!(answer(PG_QUERIES[8]), "2024-01-15 07:00:00-05");
    assert_eq!(answer(PG_QUERIES[9]), "2024-07-15 21:00:00");
    assert_eq!(answer(PG_QUERIES[10]), "2024-07-15 06:00:00-04");

    let (slim, _report) = slim(&fat, "postgres-ext", &[]);
    let slim_answers = with_server(&slim.0, 18106, pg_session);
    assert_eq!(slim_answers, fat_answers);
    assert_eq!(runtime_config(&slim.0), runtime_config(&fat));
}

// ----------------------------------------------------------------- home-user

#[test]
fn a_non_root_user_writing_state_under_its_home_directory_runs_the_same() {
    let fat = fixture("home-user");
    let (slim, _report) = slim(&fat, "home-user", &[]);
    let (out, _) = fat_then_slim_run(&fat, &slim.0, "home-app: ok");
    for want in [
        "user: app (1001:1001)",
        "HOME=/home/app",
        "home: /home/app owner=app:app mode=700 type=directory",
        "state: /home/app/.cache/app/state.txt owner=app:app mode=644",
        "run by app",
    ] {
        assert!(out.contains(want), "fat output lacks {want:?}:\n{out}");
    }
    assert_eq!(runtime_config(&slim.0), runtime_config(&fat));
}
