//! A real OCI registry on loopback for tests that push and pull over the
//! network: Debian's `docker-registry` (CNCF distribution 2.8), one private
//! process per [`Registry`], on a free port of 127.0.0.1, storing into its own
//! temporary directory. A real server rather than a mock, so that the HTTP,
//! TLS and auth behaviour the tests see is the one real registries have.
//!
//! The package's own systemd service (`:5000`, /etc/docker/registry) is not
//! used and need not run: tests must not depend on machine-wide state, and
//! concurrent tests (nextest runs each in its own process) need their own
//! ports and storage.
//!
//! Needs `docker-registry`, `apache2-utils` (htpasswd), `openssl` and `curl`:
//! scripts/setup.sh installs them.
#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::sh;

/// The registry binary of the Debian package (its CLI: `serve CONFIG`).
pub const REGISTRY_BIN: &str = "/usr/bin/docker-registry";
/// The user [`Registry::tls_with_auth`] accepts.
pub const USER: &str = "slim";
/// How long a registry may take to answer `GET /v2/` after starting.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Fresh ports to try: a port released by [`free_port`] can be taken by
/// someone else before the registry binds it.
const START_ATTEMPTS: u32 = 4;

/// A running registry; killed and its storage removed on drop.
pub struct Registry {
    /// `127.0.0.1:PORT`, as it goes into image references (`docker://HOST/repo:tag`).
    pub host: String,
    /// For TLS only: a directory holding just `ca.crt`, the PEM certificate of
    /// the test CA that signed the server's certificate. skopeo's `--cert-dir`
    /// takes every `*.crt` in it as a trusted CA (the CA key lives elsewhere).
    pub ca_dir: Option<PathBuf>,
    /// For auth only: the (user, password) the registry accepts.
    pub creds: Option<(String, String)>,
    child: Child,
    log: PathBuf,
    // Last, so it is removed after the child is gone (fields drop after `Drop::drop`).
    dir: tempfile::TempDir,
}

impl Registry {
    /// Plain HTTP, no auth: the simplest registry, for tests about content.
    pub fn plain() -> Registry {
        let dir = tempdir();
        start(dir, None)
    }

    /// HTTPS with a certificate for `127.0.0.1` (IP SAN) and `localhost`
    /// signed by a CA made for this registry only, and htpasswd basic auth
    /// for [`USER`] with a random password: what a private registry looks
    /// like, so clients must be given the CA and the credentials.
    pub fn tls_with_auth() -> Registry {
        let dir = tempdir();
        let tls = Tls {
            ca_dir: make_certs(dir.path()),
            password: random_hex(16),
        };
        // The registry only accepts bcrypt entries (-B); -n prints instead of
        // editing a file, -b takes the password from the command line.
        let line = sh(Command::new("htpasswd").args(["-Bbn", USER, &tls.password]));
        fs::write(
            dir.path().join("htpasswd"),
            line.trim_end().to_string() + "\n",
        )
        .unwrap();
        start(dir, Some(tls))
    }

    /// skopeo flags to reach this registry as the destination (`dest`) or the
    /// source of `skopeo copy`: CA directory and credentials for TLS, or no TLS
    /// verification for plain HTTP (skopeo then falls back to http://).
    pub fn skopeo_tls_args(&self, dest: bool) -> Vec<String> {
        self.skopeo_args(if dest { "--dest-" } else { "--src-" })
    }

    /// The same flags with any prefix: `"--"` for single-image commands
    /// (`skopeo inspect`, `skopeo delete`), `"--src-"` / `"--dest-"` for copy.
    pub fn skopeo_args(&self, prefix: &str) -> Vec<String> {
        let mut args = Vec::new();
        match &self.ca_dir {
            Some(dir) => {
                args.push(format!("{prefix}cert-dir"));
                args.push(dir.to_str().unwrap().to_string());
            }
            None => args.push(format!("{prefix}tls-verify=false")),
        }
        if let Some((user, password)) = &self.creds {
            args.push(format!("{prefix}creds"));
            args.push(format!("{user}:{password}"));
        }
        args
    }

    /// `docker://HOST/NAME`, for slimify and skopeo.
    pub fn reference(&self, name: &str) -> String {
        format!("docker://{}/{name}", self.host)
    }

    /// slimify's flags to reach this registry: its CA and credentials, or
    /// plain HTTP.
    pub fn slimify_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        match &self.ca_dir {
            Some(dir) => args.extend(["--cert-dir".to_string(), dir.display().to_string()]),
            None => args.extend(["--insecure-registry".to_string(), self.host.clone()]),
        }
        if let Some((user, password)) = &self.creds {
            args.extend(["--creds".to_string(), format!("{user}:{password}")]);
        }
        args
    }

    /// Push an engine image to `NAME` here (skopeo compresses layers with gzip).
    pub fn push_from_engine(&self, image: &str, name: &str) -> String {
        let reference = self.reference(name);
        sh(Command::new("skopeo")
            .args(["copy", "-q"])
            .args(self.skopeo_tls_args(true))
            .arg(format!("docker-daemon:{image}"))
            .arg(&reference));
        reference
    }

    /// Pull `NAME` from here into the engine as `tag`, to run it.
    pub fn pull_to_engine(&self, name: &str, tag: &str) {
        sh(Command::new("skopeo")
            .args(["copy", "-q"])
            .args(self.skopeo_tls_args(false))
            .arg(self.reference(name))
            .arg(format!("docker-daemon:{tag}")));
    }

    /// `skopeo inspect` of `NAME` here.
    pub fn inspect(&self, name: &str) -> serde_json::Value {
        let raw = sh(Command::new("skopeo")
            .arg("inspect")
            .args(self.skopeo_args("--"))
            .arg(self.reference(name)));
        serde_json::from_str(&raw).unwrap()
    }

    /// The file in which the registry stores blob `digest` (`sha256:HEX`),
    /// for tests that damage what it serves.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// The last lines of the registry's log, to put into assertion messages.
    pub fn log_tail(&self) -> String {
        tail(&self.log, 40)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // `dir` (storage, config, keys, log) is removed when the field drops.
    }
}

struct Tls {
    ca_dir: PathBuf,
    password: String,
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("slimify-registry-")
        .tempdir()
        .expect("temp dir for the registry")
}

/// Start a registry over `dir`, retrying on a fresh port when it exits early
/// (most likely the port was taken meanwhile).
fn start(dir: tempfile::TempDir, tls: Option<Tls>) -> Registry {
    assert!(
        Path::new(REGISTRY_BIN).exists(),
        "{REGISTRY_BIN} missing: run `bash scripts/setup.sh` (installs docker-registry)"
    );
    let ca = tls.as_ref().map(|t| t.ca_dir.join("ca.crt"));
    let config = dir.path().join("config.yml");
    let mut attempt = 0;
    loop {
        attempt += 1;
        let host = format!("127.0.0.1:{}", free_port());
        fs::write(&config, config_yml(dir.path(), &host, tls.is_some())).unwrap();
        let log = dir.path().join(format!("registry-{attempt}.log"));
        let mut child = spawn(&config, &log);
        match wait_ready(&mut child, &host, ca.as_deref()) {
            Ready::Yes => {
                return Registry {
                    host,
                    ca_dir: tls.as_ref().map(|t| t.ca_dir.clone()),
                    creds: tls.map(|t| (USER.to_string(), t.password)),
                    child,
                    log,
                    dir,
                }
            }
            Ready::Exited(status) if attempt < START_ATTEMPTS => {
                eprintln!("registry on {host} exited ({status}), retrying on another port");
            }
            Ready::Exited(status) => panic!(
                "{REGISTRY_BIN} exited ({status}) {START_ATTEMPTS} times before answering; log:\n{}",
                tail(&log, 40)
            ),
            Ready::TimedOut => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{REGISTRY_BIN} on {host} did not answer GET /v2/ within {READY_TIMEOUT:?}; log:\n{}",
                    tail(&log, 40)
                );
            }
        }
    }
}

/// `docker-registry serve CONFIG`, output into `log`.
fn spawn(config: &Path, log: &Path) -> Child {
    let out = fs::File::create(log).unwrap();
    let mut cmd = Command::new("setpriv");
    // --pdeathsig: the registry dies with the test even when the test is
    // killed (nextest timeout, SIGKILL) and `Drop` never runs. It fires when
    // the starting *thread* ends, so keep a Registry within one test rather
    // than sharing one in a static.
    cmd.args(["--pdeathsig", "KILL", "--", REGISTRY_BIN, "serve"])
        .arg(config)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    // REGISTRY_* variables override the config file: keep the caller's out.
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("REGISTRY_") {
            cmd.env_remove(k);
        }
    }
    cmd.spawn().expect("spawn setpriv docker-registry")
}

enum Ready {
    Yes,
    Exited(std::process::ExitStatus),
    TimedOut,
}

/// Poll `GET /v2/` until it answers as a ready registry does: 200 without
/// auth, 401 with auth (the TLS registry always has auth). Over TLS the probe
/// is curl with the test CA, which also checks the certificate is good for
/// the IP address clients use.
fn wait_ready(child: &mut Child, host: &str, ca: Option<&Path>) -> Ready {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("wait for registry") {
            return Ready::Exited(status);
        }
        let ready = match ca {
            None => http_status(host) == Some(200),
            Some(ca) => curl_status(host, ca) == Some(401),
        };
        if ready {
            return Ready::Yes;
        }
        if Instant::now() >= deadline {
            return Ready::TimedOut;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Status of a plain HTTP/1.0 `GET /v2/` (the server closes after answering),
/// or None while nothing listens or answers.
fn http_status(host: &str) -> Option<u16> {
    let addr: SocketAddr = host.parse().unwrap();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(format!("GET /v2/ HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
        .ok()?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).ok()?;
    // "HTTP/1.0 200 OK\r\n..."
    let line = String::from_utf8_lossy(&resp);
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Status of `GET https://HOST/v2/` trusting only `ca`, or None when curl
/// gets no answer (not listening yet, TLS failure).
fn curl_status(host: &str, ca: &Path) -> Option<u16> {
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "2",
        ])
        .arg("--cacert")
        .arg(ca)
        .arg(format!("https://{host}/v2/"))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("run curl (scripts/setup.sh installs it)");
    match String::from_utf8_lossy(&out.stdout).trim().parse() {
        Ok(0) | Err(_) => None,
        Ok(code) => Some(code),
    }
}

/// A port free right now on 127.0.0.1, from the kernel (bind to port 0).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

/// The registry configuration: storage in `dir`, listening on `host` only,
/// deletes enabled (tests may clean up or test deletion); with `tls`, the
/// server certificate from [`make_certs`] and the htpasswd file.
fn config_yml(dir: &Path, host: &str, tls: bool) -> String {
    // JSON strings are valid YAML double-quoted scalars: safe for any path.
    let q = |p: PathBuf| serde_json::to_string(p.to_str().unwrap()).unwrap();
    let mut y = format!(
        "version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: {host}
  # Set, so the registry does not warn about generating one.
  secret: {secret}
",
        root = q(dir.join("data")),
        secret = random_hex(16),
    );
    if tls {
        y += &format!(
            "  tls:
    certificate: {crt}
    key: {key}
auth:
  htpasswd:
    realm: slimify-test
    path: {htpasswd}
",
            crt = q(dir.join("pki/server.crt")),
            key = q(dir.join("pki/server.key")),
            htpasswd = q(dir.join("htpasswd")),
        );
    }
    y
}

/// Make a fresh CA and a server certificate it signs, for 127.0.0.1 and
/// localhost, in `dir`/pki; returns `dir`/ca holding only the CA's `ca.crt`.
/// EC P-256 keys: quick to generate and accepted by Go's TLS (registry,
/// skopeo) and curl alike. Go ignores the CN, hence the subjectAltName.
fn make_certs(dir: &Path) -> PathBuf {
    let pki = dir.join("pki");
    let ca_dir = dir.join("ca");
    fs::create_dir_all(&pki).unwrap();
    fs::create_dir_all(&ca_dir).unwrap();
    let ca_crt = ca_dir.join("ca.crt");
    let newkey = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-noenc",
    ];
    sh(Command::new("openssl")
        .args(["req", "-x509", "-days", "7", "-subj", "/CN=slimify test CA"])
        .args(newkey)
        .args(["-addext", "basicConstraints=critical,CA:true"])
        .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        .arg("-keyout")
        .arg(pki.join("ca.key"))
        .arg("-out")
        .arg(&ca_crt));
    sh(Command::new("openssl")
        .args(["req", "-subj", "/CN=127.0.0.1"])
        .args(newkey)
        .arg("-keyout")
        .arg(pki.join("server.key"))
        .arg("-out")
        .arg(pki.join("server.csr")));
    fs::write(
        pki.join("server.ext"),
        "basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
",
    )
    .unwrap();
    sh(Command::new("openssl")
        .args(["x509", "-req", "-days", "7", "-set_serial"])
        .arg(format!("0x{}", random_hex(8)))
        .arg("-in")
        .arg(pki.join("server.csr"))
        .arg("-CA")
        .arg(&ca_crt)
        .arg("-CAkey")
        .arg(pki.join("ca.key"))
        .arg("-extfile")
        .arg(pki.join("server.ext"))
        .arg("-out")
        .arg(pki.join("server.crt")));
    ca_dir
}

/// `n` random bytes as hex, from the kernel.
fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("read /dev/urandom");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The last `n` lines of a log file.
fn tail(path: &Path, n: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_else(|e| format!("(no log: {e})"));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
