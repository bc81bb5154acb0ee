//! Python web apps in the shapes of a Docker lesson's examples (fixtures/
//! flask-user, fastapi-venv, django-gunicorn: naive fat single-stage images
//! with compilers and pip left in). Each is slimmed by tracing alone, then the
//! fat and the slim image serve the same requests one after the other on the
//! same loopback port: every route must answer with the same status and body,
//! the runtime config must be the same, and the slim image must be small.
//! The fat answers are checked first, so two failures never compare equal.

mod util;

use util::serve::{answer, assert_same_exchanges, expect, Exchange, Server};
use util::*;

/// One request of a route table.
struct Req {
    method: &'static str,
    path: &'static str,
    body: Option<(&'static str, &'static str)>,
}

const fn get(path: &'static str) -> Req {
    Req {
        method: "GET",
        path,
        body: None,
    }
}

const fn post(path: &'static str, content_type: &'static str, body: &'static str) -> Req {
    Req {
        method: "POST",
        path,
        body: Some((content_type, body)),
    }
}

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// Start `image` (its own entrypoint and command, host network), send every
/// request in order, and return the exchanges and the container's logs.
fn serve_all(
    image: &str,
    port: u16,
    reqs: &[Req],
    normalise: fn(&str) -> String,
) -> (Vec<Exchange>, String) {
    let server = Server::start(image, port, &[], &[]);
    let mut out = Vec::new();
    for r in reqs {
        let mut resp = server.request(r.method, r.path, r.body);
        resp.body = normalise(&resp.body);
        out.push((format!("{} {}", r.method, r.path), resp));
    }
    let logs = server.logs();
    (out, logs)
}

fn as_is(body: &str) -> String {
    body.to_string()
}

/// The body of `"METHOD path"` parsed as JSON, after checking its status.
fn json(exchanges: &[Exchange], what: &str, status: u16) -> serde_json::Value {
    let r = answer(exchanges, what);
    assert_eq!(r.status, status, "{what}: {r:?}");
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{what}: {e}: {}", r.body))
}

/// The most a slim image of these apps may take (as the engine counts, 1 MB = 10^6 bytes).
const MAX_SLIM: u64 = 150_000_000;

/// Print both sizes (right after slimming, so a failing run shows them too);
/// returns the slim size, checked against [`MAX_SLIM`] at the end of a test.
fn sizes(name: &str, fat: &str, slim: &str) -> u64 {
    let (f, s) = (image_size(fat), image_size(slim));
    eprintln!(
        "{name}: fat {:.1} MB, slim {:.1} MB ({:.1}x smaller)",
        f as f64 / 1e6,
        s as f64 / 1e6,
        f as f64 / s as f64
    );
    s
}

fn assert_small(name: &str, slim_size: u64) {
    assert!(
        slim_size <= MAX_SLIM,
        "{name}: slim image is {:.1} MB",
        slim_size as f64 / 1e6
    );
}

const FLASK: &[Req] = &[
    get("/"),
    get("/api/items"),
    get("/api/items/2"),
    get("/api/items/9"),
    post(
        "/api/echo",
        JSON,
        r#"{"name": "slim", "n": [1, 2, 3], "ok": true, "nested": {"a": null}}"#,
    ),
    post("/api/echo", JSON, "not json"),
    get("/page?who=docker%20lesson"),
    get("/no/such/page"),
];

#[test]
fn flask_installed_with_pip_user_serves_the_same_under_gunicorn() {
    let name = "flask-user";
    let fat = fixture(name);
    let (slim, _report) = slim(&fat, name, &[]);
    let slim_size = sizes(name, &fat, &slim.0);

    let (fat_ex, _) = serve_all(&fat, 18301, FLASK, as_is);
    expect(&fat_ex, "GET /", 200, &["Hello from flask-user!"]);
    let items = json(&fat_ex, "GET /api/items", 200);
    assert_eq!(items["count"], 3, "{items}");
    assert_eq!(items["total"], 10.75, "{items}");
    assert_eq!(items["items"][2]["name"], "cheese & crackers", "{items}");
    assert_eq!(json(&fat_ex, "GET /api/items/2", 200)["name"], "bread");
    expect(&fat_ex, "GET /api/items/9", 404, &["<h1>Not Found</h1>"]);
    let echo = &fat_ex[4];
    assert_eq!(echo.1.status, 200, "{echo:?}");
    let echo: serde_json::Value = serde_json::from_str(&echo.1.body).unwrap();
    assert_eq!(
        echo["received"]["n"],
        serde_json::json!([1, 2, 3]),
        "{echo}"
    );
    assert_eq!(
        echo["keys"],
        serde_json::json!(["n", "name", "nested", "ok"])
    );
    let bad = &fat_ex[5];
    assert_eq!(bad.1.status, 400, "{bad:?}");
    assert!(bad.1.body.contains("expected a JSON object"), "{bad:?}");
    // The template extends base.html, escapes the title, sorts and formats.
    expect(
        &fat_ex,
        "GET /page?who=docker%20lesson",
        200,
        &[
            "<title>Shop &lt;list&gt; - flask-user</title>",
            "Hello, Docker Lesson!",
            "<li id=\"item-3\">1. cheese &amp; crackers: 7.00 [deli, &lt;snack&gt;]</li>",
            "<li id=\"item-1\">3. apple: 1.25 [fruit, red]</li>",
            "rendered by Jinja 3 items",
        ],
    );
    expect(&fat_ex, "GET /no/such/page", 404, &["<h1>Not Found</h1>"]);

    let (slim_ex, slim_logs) = serve_all(&slim.0, 18301, FLASK, as_is);
    assert_same_exchanges(name, &fat_ex, &slim_ex, &slim_logs);
    assert_eq!(runtime_config(&slim.0), runtime_config(&fat));
    assert_small(name, slim_size);
}

const FASTAPI: &[Req] = &[
    get("/"),
    get("/items/3"),
    get("/items/42"),
    get("/items/abc"),
    post("/echo", JSON, r#"{"message": "hi", "count": 3}"#),
    post("/echo", JSON, r#"{"message": "", "count": 9}"#),
    post("/echo", JSON, "not json"),
    get("/openapi.json"),
    get("/no/such/page"),
];

#[test]
fn fastapi_in_a_venv_serves_the_same_under_uvicorn_with_uvloop_and_httptools() {
    let name = "fastapi-venv";
    let fat = fixture(name);
    let (slim, _report) = slim(&fat, name, &[]);
    let slim_size = sizes(name, &fat, &slim.0);

    let (fat_ex, _) = serve_all(&fat, 18302, FASTAPI, as_is);
    // uvicorn's "auto" loop and parser picked uvloop and httptools: a slim
    // image that lost them would fall back to asyncio and h11 silently, and
    // this answer would differ.
    let root = json(&fat_ex, "GET /", 200);
    assert_eq!(
        root,
        serde_json::json!({"app": "fastapi-venv", "items": 3,
            "server": {"loop": "uvloop.Loop", "http": "httptools"}})
    );
    let item = json(&fat_ex, "GET /items/3", 200);
    assert_eq!(
        item,
        serde_json::json!({"id": 3, "name": "cheese", "price": 7.0, "tags": ["deli", "aged"]})
    );
    assert_eq!(
        json(&fat_ex, "GET /items/42", 404),
        serde_json::json!({"detail": "item 42 not found"})
    );
    let bad_id = json(&fat_ex, "GET /items/abc", 422);
    assert_eq!(bad_id["detail"][0]["type"], "int_parsing", "{bad_id}");
    let (echo, bad_body, not_json) = (&fat_ex[4].1, &fat_ex[5].1, &fat_ex[6].1);
    assert_eq!(echo.status, 200, "{echo:?}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&echo.body).unwrap(),
        serde_json::json!({"message": "hi", "count": 3, "repeated": "hi hi hi", "length": 8})
    );
    assert_eq!(bad_body.status, 422, "{bad_body:?}");
    let errors: serde_json::Value = serde_json::from_str(&bad_body.body).unwrap();
    let types: Vec<&str> = errors["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["string_too_short", "less_than_equal"], "{errors}");
    assert_eq!(not_json.status, 422, "{not_json:?}");
    assert!(not_json.body.contains("json_invalid"), "{not_json:?}");
    let openapi = json(&fat_ex, "GET /openapi.json", 200);
    assert_eq!(openapi["info"]["title"], "fastapi-venv");
    assert!(
        openapi["components"]["schemas"]["EchoIn"].is_object(),
        "{openapi}"
    );
    assert_eq!(
        json(&fat_ex, "GET /no/such/page", 404),
        serde_json::json!({"detail": "Not Found"})
    );

    let (slim_ex, slim_logs) = serve_all(&slim.0, 18302, FASTAPI, as_is);
    assert_same_exchanges(name, &fat_ex, &slim_ex, &slim_logs);
    assert_eq!(runtime_config(&slim.0), runtime_config(&fat));
    assert_small(name, slim_size);
}

const DJANGO: &[Req] = &[
    get("/"),
    get("/api/questions/"),
    get("/api/questions/3/"),
    get("/api/questions/99/"),
    post("/api/questions/1/vote/", FORM, "choice=2"),
    post("/api/questions/1/vote/", FORM, "choice=99"),
    get("/api/questions/1/"),
    get("/admin/login/"),
    get("/admin/"),
    get("/no/such/page/"),
];

/// The admin login form carries a fresh CSRF token on every request.
fn without_csrf_token(body: &str) -> String {
    const MARK: &str = "name=\"csrfmiddlewaretoken\" value=\"";
    let mut out = String::new();
    let mut rest = body;
    while let Some(i) = rest.find(MARK) {
        let (head, tail) = rest.split_at(i + MARK.len());
        out.push_str(head);
        out.push_str("CSRF-TOKEN");
        rest = &tail[tail.find('"').unwrap_or(tail.len())..];
    }
    out.push_str(rest);
    out
}

#[test]
fn django_project_with_sqlite_templates_and_admin_serves_the_same_under_gunicorn() {
    let name = "django-gunicorn";
    let fat = fixture(name);
    let (slim, _report) = slim(&fat, name, &[]);
    let slim_size = sizes(name, &fat, &slim.0);

    let (fat_ex, _) = serve_all(&fat, 18303, DJANGO, without_csrf_token);
    // The seeded rows through the app's template and its template tags.
    expect(
        &fat_ex,
        "GET /",
        200,
        &[
            "<title>Polls (3)</title>",
            "<h2>3. Best container base &lt;image&gt;?</h2>",
            "Published Monday, 15 January 2024 09:30 &middot; 91 votes",
            "<li>PYTHON: 42 (46.2%) <span class=\"bar\">#########...........</span></li>",
            "<li>SCRATCH: 5 (20.0%) <span class=\"bar\">####................</span></li>",
        ],
    );
    let all = json(&fat_ex, "GET /api/questions/", 200);
    assert_eq!(all["count"], 3, "{all}");
    assert_eq!(all["questions"][1]["total_votes"], 28, "{all}");
    let q3 = json(&fat_ex, "GET /api/questions/3/", 200);
    assert_eq!(q3["pub_date"], "2024-06-30T23:59:00+00:00", "{q3}");
    assert_eq!(q3["choices"][2]["text"], "scratch", "{q3}");
    expect(
        &fat_ex,
        "GET /api/questions/99/",
        404,
        &["<h1>Not Found</h1>"],
    );
    // A vote is written to the database by the unprivileged user.
    let voted = &fat_ex[4].1;
    assert_eq!(voted.status, 200, "{voted:?}");
    let voted: serde_json::Value = serde_json::from_str(&voted.body).unwrap();
    assert_eq!(voted["choices"][1]["votes"], 38, "{voted}");
    assert_eq!(fat_ex[5].1.status, 400, "{:?}", fat_ex[5]);
    assert_eq!(
        json(&fat_ex, "GET /api/questions/1/", 200)["total_votes"],
        92
    );
    expect(
        &fat_ex,
        "GET /admin/login/",
        200,
        &[
            "<title>Log in | Django site admin</title>",
            "name=\"csrfmiddlewaretoken\" value=\"CSRF-TOKEN\"",
            "<input type=\"submit\" value=\"Log in\">",
        ],
    );
    expect(&fat_ex, "GET /admin/", 302, &[]);
    expect(&fat_ex, "GET /no/such/page/", 404, &["<h1>Not Found</h1>"]);

    let (slim_ex, slim_logs) = serve_all(&slim.0, 18303, DJANGO, without_csrf_token);
    assert_same_exchanges(name, &fat_ex, &slim_ex, &slim_logs);
    assert_eq!(runtime_config(&slim.0), runtime_config(&fat));
    assert_small(name, slim_size);
}
