//! `http-get`: the raw response on stdout, curl's exit codes on failure.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

const RESPONSE: &[u8] =
    b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nX-Odd: a\tb\r\n\r\nhello\nworld\x00\xff";

/// Serves one connection with `RESPONSE` and returns the request it got.
fn serve_once(listener: TcpListener) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 1024];
        while !req.ends_with(b"\r\n\r\n") {
            let n = conn.read(&mut buf).unwrap();
            assert!(n > 0, "client closed early");
            req.extend_from_slice(&buf[..n]);
        }
        conn.write_all(RESPONSE).unwrap();
        req
    })
}

#[test]
fn copies_the_raw_response() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = serve_once(listener);
    let out = Command::new(BIN)
        .args(["http-get", "--port", &port.to_string(), "/health?x=1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(out.stdout, RESPONSE);
    assert_eq!(out.stderr, b"");
    let req = server.join().unwrap();
    assert_eq!(
        String::from_utf8(req).unwrap(),
        "GET /health?x=1 HTTP/1.0\r\nHost: localhost\r\nUser-Agent: slimify-verify\r\nConnection: close\r\n\r\n"
    );
}

#[test]
fn closed_port_exits_7() {
    // A port that was just free: bind, note it, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(BIN)
        .args(["http-get", "--port", &port.to_string(), "/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("slimify-recorder: cannot connect to 127.0.0.1:"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn silent_server_times_out_with_28() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts (the kernel does, from the backlog) but never answers.
    let start = Instant::now();
    let out = Command::new(BIN)
        .args([
            "http-get",
            "--port",
            &port.to_string(),
            "--timeout",
            "0.5",
            "/",
        ])
        .output()
        .unwrap();
    drop(listener);
    assert_eq!(out.status.code(), Some(28), "{out:?}");
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("timed out"));
}
