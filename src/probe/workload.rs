//! What a run of the image is asked to do: the flags `--probe` and `verify` share.

use std::time::Duration;

/// The container's network.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Network {
    /// `--network none`: the app sees loopback only; requests are sent from
    /// inside the container (by the recorder's HTTP client), so nothing
    /// reaches the app from outside and two runs can use the same port.
    #[default]
    None,
    /// `--network host`: for apps that must reach services on this machine.
    /// Runs that listen on the same port then take turns.
    Host,
}

impl Network {
    pub fn docker_name(self) -> &'static str {
        match self {
            Network::None => "none",
            Network::Host => "host",
        }
    }
}

/// How to exercise the image while it runs.
#[derive(Clone, Debug)]
pub struct Workload {
    /// `--http-get PATH`: requests sent once the app answers, in order.
    pub http_get: Vec<String>,
    /// `--port N`: where the app listens (default: the image's one exposed port).
    pub port: Option<u16>,
    /// `--exec CMD`: command lines run inside the running container, in order.
    pub exec: Vec<Vec<String>>,
    /// `--timeout`: how long a command may run, and a server may take to answer.
    pub timeout: Duration,
    /// `--settle`: how long a server keeps running after the last request
    /// (lazy loads, delayed errors) before it is stopped.
    pub settle: Duration,
    pub network: Network,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            http_get: Vec::new(),
            port: None,
            exec: Vec::new(),
            timeout: Duration::from_secs(60),
            settle: Duration::from_secs(1),
            network: Network::None,
        }
    }
}

impl Workload {
    /// Whether the image is run as a server (it keeps running while it is
    /// sent requests and commands) rather than as a command that ends.
    pub fn is_server(&self) -> bool {
        !self.http_get.is_empty() || !self.exec.is_empty() || self.port.is_some()
    }
}
