//! A private containerd (Debian's, the one docker.io runs on) for tests of
//! `containerd:` images: its own root, state and socket in a temporary
//! directory, killed on drop, so tests neither need nor touch the machine's.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::sh;

pub struct Containerd {
    /// The socket, for CONTAINERD_ADDRESS.
    pub address: String,
    child: Child,
    dir: tempfile::TempDir,
}

impl Containerd {
    pub fn start() -> Containerd {
        // Short paths: a unix socket path holds at most 107 bytes.
        let dir = tempfile::Builder::new()
            .prefix("ctd")
            .tempdir_in("/tmp")
            .unwrap();
        let p = |n: &str| dir.path().join(n).display().to_string();
        let config = format!(
            "version = 2\nroot = {:?}\nstate = {:?}\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = {:?}\n[ttrpc]\n  address = {:?}\n",
            p("root"),
            p("state"),
            p("sock"),
            p("sock.ttrpc")
        );
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("log")).unwrap();
        let child = Command::new("containerd")
            .args(["--config", &p("config.toml")])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start containerd (scripts/setup.sh installs docker.io, which brings it)");
        let address = p("sock");
        let started = Instant::now();
        loop {
            let ok = Command::new("ctr")
                .args(["--address", &address, "version"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "containerd did not start: {}",
                std::fs::read_to_string(dir.path().join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Containerd {
            address,
            child,
            dir,
        }
    }

    /// `ctr` against this containerd, in `namespace`.
    pub fn ctr(&self, namespace: &str, args: &[&str]) -> String {
        sh(Command::new("ctr")
            .args(["--address", &self.address, "--namespace", namespace])
            .args(args))
    }

    /// Environment that points slimify's `ctr` here.
    pub fn env(&self, namespace: &str) -> Vec<(String, String)> {
        vec![
            ("CONTAINERD_ADDRESS".into(), self.address.clone()),
            ("CONTAINERD_NAMESPACE".into(), namespace.into()),
        ]
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Snapshots may still be mounted by a containerd killed mid-unpack.
        let _ = Command::new("umount")
            .arg("-R")
            .arg(self.dir.path().join("state"))
            .stderr(Stdio::null())
            .status();
    }
}
