//! Server images on the host network: start one, wait until it answers,
//! send it requests, read its health status, remove it. Fat and slim images
//! of a fixture listen on the same loopback port, so a test runs them one
//! after the other; a per-port lock keeps concurrent tests (nextest runs
//! them in parallel processes) off each other's port.

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::docker;

/// A running container on the host network, removed on drop.
pub struct Server {
    pub id: String,
    pub port: u16,
    _lock: File,
}

/// An HTTP response: status code and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

impl Server {
    /// `docker run -d --network host [docker_args] IMAGE [cmd]`, then wait up
    /// to 60 s for a TCP connection on 127.0.0.1:`port`.
    pub fn start(image: &str, port: u16, docker_args: &[&str], cmd: &[&str]) -> Server {
        let lock_path = format!("/tmp/slimify-test-port-{port}.lock");
        let lock = File::create(&lock_path).unwrap();
        lock.lock().unwrap();
        let mut args = vec!["run", "-d", "--network", "host"];
        args.extend_from_slice(docker_args);
        args.push(image);
        args.extend_from_slice(cmd);
        let id = docker(&args).trim().to_string();
        let s = Server {
            id,
            port,
            _lock: lock,
        };
        s.wait_for_port(Duration::from_secs(60));
        s
    }

    fn wait_for_port(&self, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if !self.running() {
                panic!(
                    "container exited before listening on {}:\n{}",
                    self.port,
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "nothing listened on 127.0.0.1:{} within {limit:?}:\n{}",
            self.port,
            self.logs()
        );
    }

    pub fn running(&self) -> bool {
        Command::new("docker")
            .args(["inspect", "-f", "{{.State.Running}}", &self.id])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "true")
    }

    /// stdout and stderr of the container so far.
    pub fn logs(&self) -> String {
        let out = Command::new("docker")
            .args(["logs", &self.id])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }

    /// `GET path`, retried for a few seconds while the server is starting up.
    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, None)
    }

    /// `POST path` with a body of `content_type`.
    pub fn post(&self, path: &str, content_type: &str, body: &str) -> Response {
        self.request("POST", path, Some((content_type, body)))
    }

    /// One HTTP/1.0 request; connection errors are retried for 20 s (a
    /// server may accept before it serves).
    pub fn request(&self, method: &str, path: &str, body: Option<(&str, &str)>) -> Response {
        let start = Instant::now();
        loop {
            match http(self.port, method, path, body) {
                Ok(r) => return r,
                Err(e) if start.elapsed() < Duration::from_secs(20) => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(e) => panic!(
                    "{method} {path} on port {}: {e}\n{}",
                    self.port,
                    self.logs()
                ),
            }
        }
    }

    /// The HEALTHCHECK status once it is no longer `starting` (waits up to
    /// `limit`): `healthy`, `unhealthy`, or `none` without a healthcheck.
    pub fn health(&self, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            let s = docker(&[
                "inspect",
                "-f",
                "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}",
                &self.id,
            ])
            .trim()
            .to_string();
            if s != "starting" || start.elapsed() > limit {
                return s;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// `docker exec` in the running container; returns stdout+stderr and the exit code.
    pub fn exec(&self, cmd: &[&str]) -> (String, i32) {
        let out = Command::new("docker")
            .arg("exec")
            .arg(&self.id)
            .args(cmd)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
            out.status.code().unwrap_or(-1),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", &self.id])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A raw HTTP/1.0 exchange on loopback (no client crate, no curl in the loop).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<(&str, &str)>,
) -> std::io::Result<Response> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req =
        format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if let Some((ct, b)) = body {
        req += &format!("Content-Type: {ct}\r\nContent-Length: {}\r\n", b.len());
    }
    req += "\r\n";
    if let Some((_, b)) = body {
        req += b;
    }
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no HTTP header in {text:?}")))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line in {head:?}")))?;
    Ok(Response {
        status,
        body: body.to_string(),
    })
}

/// What one request got: `"METHOD path"` (a POST may name its body too),
/// then the status and body.
pub type Exchange = (String, Response);

/// The response to `"METHOD path"`.
pub fn answer<'a>(exchanges: &'a [Exchange], what: &str) -> &'a Response {
    &exchanges
        .iter()
        .find(|(w, _)| w == what)
        .unwrap_or_else(|| panic!("no request {what}"))
        .1
}

/// Require a status and some fragments of the body.
pub fn expect(exchanges: &[Exchange], what: &str, status: u16, fragments: &[&str]) {
    let r = answer(exchanges, what);
    assert_eq!(r.status, status, "{what}: {r:?}");
    for f in fragments {
        assert!(r.body.contains(f), "{what}: no {f:?} in\n{}", r.body);
    }
}

/// Fat and slim answered every request alike; on a difference, show the
/// first differing exchange and the slim container's logs.
pub fn assert_same_exchanges(name: &str, fat: &[Exchange], slim: &[Exchange], slim_logs: &str) {
    for (f, s) in fat.iter().zip(slim) {
        assert!(
            f == s,
            "{name}: `{}` differs\nfat:  {:?}\nslim: {:?}\nslim container logs:\n{slim_logs}",
            f.0,
            f.1,
            s.1
        );
    }
    assert_eq!(fat.len(), slim.len());
}
