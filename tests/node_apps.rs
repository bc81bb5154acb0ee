//! Node.js web apps in the shapes of a Docker lesson's examples (fixtures/
//! node-express-ts, nextjs-start, nextjs-standalone: naive fat single-stage
//! images on Debian's nodejs 18 with npm, the devDependencies and a C
//! toolchain left in). Each is slimmed by tracing alone, then the fat and the
//! slim image serve the same requests one after the other on the same
//! loopback port: every route must answer with the same status and body, the
//! runtime config must be the same, and the slim image must stay within
//! 150 MB. The fat answers are checked first, so two failures never compare
//! equal.

mod util;

use util::serve::{answer, assert_same_exchanges, expect, Exchange, Server};
use util::*;

/// Start `image` with its own entrypoint and command on the host network,
/// let `send` make its requests, and return the exchanges and the logs.
fn serve_all(
    image: &str,
    port: u16,
    send: fn(&Server) -> Vec<Exchange>,
) -> (Vec<Exchange>, String) {
    let server = Server::start(image, port, &[], &[]);
    let exchanges = send(&server);
    let logs = server.logs();
    (exchanges, logs)
}

fn get(server: &Server, path: &str) -> Exchange {
    (format!("GET {path}"), server.get(path))
}

fn post_json(server: &Server, path: &str, body: &str) -> Exchange {
    (
        format!("POST {path} {body}"),
        server.post(path, "application/json", body),
    )
}

/// Require a status and exactly this body.
fn expect_exact(exchanges: &[Exchange], what: &str, status: u16, body: &str) {
    let r = answer(exchanges, what);
    assert_eq!(r.status, status, "{what}: {r:?}");
    assert_eq!(r.body, body, "{what}");
}

/// Print both sizes; the slim image must stay within issue 13's target, 150
/// MB (10^6 bytes, as docker counts them; the lesson's multi-stage result),
/// for what the app needs: the package metadata kept for scanners (the dpkg
/// records and copyright files of every kept package, 1.8 MB of Next.js's
/// 456 packages) is counted apart, and printed.
fn sizes(name: &str, fat: &str, slim: &str, report: &serde_json::Value) {
    let (f, s) = (image_size(fat), image_size(slim));
    let metadata = metadata_bytes(report);
    let mb = |b: u64| b as f64 / 1e6;
    eprintln!(
        "{name}: fat {:.1} MB, slim {:.1} MB ({:.1}x smaller), of which package metadata {:.1} MB",
        mb(f),
        mb(s),
        f as f64 / s as f64,
        mb(metadata)
    );
    assert!(
        metadata < 3_000_000,
        "{name}: {:.1} MB of package metadata",
        mb(metadata)
    );
    assert!(
        s - metadata <= 150_000_000,
        "{name}: slim image is {:.1} MB without its package metadata",
        mb(s - metadata)
    );
}

/// Slim `name` by tracing alone, serve the same requests from the fat and the
/// slim image, check the fat answers with `check`, and compare.
fn slims_and_serves_the_same(
    name: &str,
    port: u16,
    send: fn(&Server) -> Vec<Exchange>,
    check: fn(&[Exchange]),
) {
    let fat = fixture(name);
    let (slim, report) = slim(&fat, name, &[]);
    let warnings = report["warnings"].as_array().unwrap();
    if !warnings.is_empty() {
        eprintln!("{name}: slimify warnings: {warnings:#?}");
    }

    let (fat_answers, fat_logs) = serve_all(&fat, port, send);
    eprintln!("{name}: fat container logs:\n{fat_logs}");
    check(&fat_answers);

    eprintln!("{name}: starting the slim image {}", slim.0);
    let (slim_answers, slim_logs) = serve_all(&slim.0, port, send);
    eprintln!("{name}: slim container logs:\n{slim_logs}");
    assert_same_exchanges(name, &fat_answers, &slim_answers, &slim_logs);

    assert_eq!(runtime_config(&slim.0), runtime_config(&fat));
    sizes(name, &fat, &slim.0, &report);
}

// ---------------------------------------------------------------- Express

const EXPRESS_ECHO: &str = r#"{"user":"ada","tags":["x","y"],"n":3,"nested":{"ok":true}}"#;
const EXPRESS_BAD_JSON: &str = r#"{"user": "#;

fn express_requests(server: &Server) -> Vec<Exchange> {
    vec![
        get(server, "/"),
        get(server, "/api/items"),
        post_json(server, "/api/echo", EXPRESS_ECHO),
        post_json(server, "/api/echo", EXPRESS_BAD_JSON),
        get(server, "/nope"),
    ]
}

fn express_answers(a: &[Exchange]) {
    expect_exact(a, "GET /", 200, "Hello from Express + TypeScript\n");
    expect_exact(
        a,
        "GET /api/items",
        200,
        r#"{"count":3,"total":258.49,"items":[{"id":1,"name":"keyboard","price":49.5},{"id":2,"name":"mouse","price":19.99},{"id":3,"name":"monitor","price":189}]}"#,
    );
    expect_exact(
        a,
        &format!("POST /api/echo {EXPRESS_ECHO}"),
        200,
        &format!(r#"{{"received":{EXPRESS_ECHO},"type":"application/json"}}"#),
    );
    // body-parser's SyntaxError, through the app's JSON error handler.
    expect(
        a,
        &format!("POST /api/echo {EXPRESS_BAD_JSON}"),
        400,
        &[r#"{"error":""#, "JSON"],
    );
    expect_exact(
        a,
        "GET /nope",
        404,
        r#"{"error":"not found","method":"GET","path":"/nope"}"#,
    );
}

#[test]
fn express_typescript_app_started_through_npm_start() {
    slims_and_serves_the_same("node-express-ts", 18201, express_requests, express_answers);
}

// ---------------------------------------------------------------- Next.js

/// The first `/_next/static/chunks/*.js` script the page names: served from
/// .next/static (copied into .next/standalone for the standalone server).
fn first_chunk(page: &str) -> Option<String> {
    let start = page.find("/_next/static/chunks/")?;
    let len = page[start..].find('"')?;
    Some(page[start..start + len].to_string())
}

fn next_requests(server: &Server) -> Vec<Exchange> {
    let page = get(server, "/");
    let mut out = vec![
        get(server, "/hello.txt"),
        get(server, "/api/hello"),
        get(server, "/api/hello?name=slim"),
        get(server, "/missing"),
    ];
    // Named "GET chunk" so fat and slim line up even if the page differs.
    if let Some(chunk) = first_chunk(&page.1.body) {
        out.push(("GET chunk".to_string(), server.get(&chunk)));
    }
    out.insert(0, page);
    out
}

fn next_answers(a: &[Exchange]) {
    expect(
        a,
        "GET /",
        200,
        &[
            "<h1>Hello from Next.js</h1>",
            "Server-rendered by Node.js <!-- -->18</p>",
            "<li>Mercury</li><li>Venus</li><li>Earth</li><li>Mars</li>",
            // sha256("Mercury,Venus,Earth,Mars"), computed by node:crypto per request.
            "ecc054f4f22b67dc",
            "buildId",
        ],
    );
    expect_exact(
        a,
        "GET /hello.txt",
        200,
        "Hello from public/hello.txt, served as a static file.\n",
    );
    expect_exact(
        a,
        "GET /api/hello",
        200,
        r#"{"message":"Hello, world!","letters":5,"upper":"WORLD"}"#,
    );
    expect_exact(
        a,
        "GET /api/hello?name=slim",
        200,
        r#"{"message":"Hello, slim!","letters":4,"upper":"SLIM"}"#,
    );
    expect(a, "GET /missing", 404, &["This page could not be found."]);
    let chunk = answer(a, "GET chunk");
    assert_eq!(chunk.status, 200, "{chunk:?}");
    assert!(chunk.body.len() > 100, "{chunk:?}");
}

#[test]
fn nextjs_app_served_by_npm_start_next_start() {
    slims_and_serves_the_same("nextjs-start", 18202, next_requests, next_answers);
}

#[test]
fn nextjs_standalone_server_with_public_and_static_copied_in() {
    slims_and_serves_the_same("nextjs-standalone", 18203, next_requests, next_answers);
}
