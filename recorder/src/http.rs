//! `http-get`: the smallest HTTP/1.0 client that does the job, for a
//! container whose network is `none` and whose image may have no curl.
//!
//! It connects to 127.0.0.1 (then [::1] if that is refused: a server may
//! listen on IPv6 only), sends one GET, and copies the raw response (status
//! line, headers, body) to stdout until the server closes. No DNS, no TLS,
//! nothing that would need the image's libraries: the binary is static.
//!
//! Exit codes follow curl's, which the caller may already know: 0 done,
//! 7 cannot connect, 28 timed out (connecting, or waiting for data), 23
//! cannot write stdout, 56 other failure while receiving.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

use crate::sys::describe;

pub struct Request {
    pub port: u16,
    pub timeout: Duration,
    /// The request target, as given (bytes that cannot go on a request line
    /// raw are percent-encoded when it is sent).
    pub path: Vec<u8>,
}

const EXIT_CONNECT: i32 = 7;
const EXIT_WRITE: i32 = 23;
const EXIT_TIMEOUT: i32 = 28;
const EXIT_RECV: i32 = 56;

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock)
}

/// The request bytes for `path`.
pub fn request_bytes(path: &[u8]) -> Vec<u8> {
    let mut req = b"GET ".to_vec();
    if path.first() != Some(&b'/') && !path.starts_with(b"http") {
        req.push(b'/');
    }
    for &b in path {
        if b <= b' ' || b == 0x7f {
            req.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            req.push(b);
        }
    }
    req.extend_from_slice(
        b" HTTP/1.0\r\nHost: localhost\r\nUser-Agent: slimify-verify\r\nConnection: close\r\n\r\n",
    );
    req
}

pub fn get(r: &Request) -> i32 {
    // A closed stdout is an error to report (23), not a reason to die.
    // SAFETY: setting a disposition; this mode starts no other process.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, r.port));
    let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, r.port));
    let mut stream = match TcpStream::connect_timeout(&v4, r.timeout) {
        Ok(s) => s,
        Err(e4) if e4.kind() == ErrorKind::ConnectionRefused => {
            match TcpStream::connect_timeout(&v6, r.timeout) {
                Ok(s) => s,
                Err(e6) if is_timeout(&e6) => {
                    crate::error(&format!("timed out connecting to [::1]:{}", r.port));
                    return EXIT_TIMEOUT;
                }
                Err(_) => {
                    // Report the IPv4 error: [::1] was only a second chance
                    // (and fails with EADDRNOTAVAIL where IPv6 is off).
                    crate::error(&format!(
                        "cannot connect to 127.0.0.1:{}: {}",
                        r.port,
                        describe(&e4)
                    ));
                    return EXIT_CONNECT;
                }
            }
        }
        Err(e) if is_timeout(&e) => {
            crate::error(&format!("timed out connecting to 127.0.0.1:{}", r.port));
            return EXIT_TIMEOUT;
        }
        Err(e) => {
            crate::error(&format!(
                "cannot connect to 127.0.0.1:{}: {}",
                r.port,
                describe(&e)
            ));
            return EXIT_CONNECT;
        }
    };
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "server".into());
    if stream.set_read_timeout(Some(r.timeout)).is_err()
        || stream.set_write_timeout(Some(r.timeout)).is_err()
    {
        crate::error("cannot set socket timeouts");
        return EXIT_RECV;
    }
    if let Err(e) = stream.write_all(&request_bytes(&r.path)) {
        if is_timeout(&e) {
            crate::error(&format!("timed out sending to {peer}"));
            return EXIT_TIMEOUT;
        }
        crate::error(&format!("cannot send to {peer}: {}", describe(&e)));
        return EXIT_RECV;
    }
    let stdout = std::io::stdout();
    let mut stdout = stdout.lock();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if let Err(e) = stdout.write_all(&buf[..n]) {
                    crate::error(&format!("cannot write stdout: {}", describe(&e)));
                    return EXIT_WRITE;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if is_timeout(&e) => {
                let _ = stdout.flush();
                crate::error(&format!("timed out waiting for {peer}"));
                return EXIT_TIMEOUT;
            }
            // A reset after the server sent its response and closed is how
            // some servers end: keep what came, report it.
            Err(e) => {
                let _ = stdout.flush();
                crate::error(&format!("error receiving from {peer}: {}", describe(&e)));
                return EXIT_RECV;
            }
        }
    }
    if let Err(e) = stdout.flush() {
        crate::error(&format!("cannot write stdout: {}", describe(&e)));
        return EXIT_WRITE;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_line() {
        assert_eq!(
            request_bytes(b"/a b?x=1"),
            b"GET /a%20b?x=1 HTTP/1.0\r\nHost: localhost\r\nUser-Agent: slimify-verify\r\nConnection: close\r\n\r\n"
        );
        assert!(request_bytes(b"health").starts_with(b"GET /health HTTP/1.0\r\n"));
        assert!(request_bytes(b"/\r\nX: y").starts_with(b"GET /%0D%0AX:%20y HTTP/1.0\r\n"));
    }
}
