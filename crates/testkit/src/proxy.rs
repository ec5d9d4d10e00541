//! A recording TCP proxy on loopback: everything a client sends to a server and everything the
//! server answers passes through it and is kept, byte for byte, for a test to search (what
//! crossed the wire, not what either side says it sent).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// What crossed the proxy, per direction.
#[derive(Debug, Default)]
struct Wire {
    sent: Vec<u8>,
    answered: Vec<u8>,
}

/// Listens on `127.0.0.1:<free port>` and forwards each connection to `target`. Stops
/// accepting when dropped.
#[derive(Debug)]
pub struct RecordingProxy {
    addr: SocketAddr,
    wire: Arc<Mutex<Wire>>,
    stop: Arc<AtomicBool>,
}

fn lock(wire: &Mutex<Wire>) -> std::sync::MutexGuard<'_, Wire> {
    wire.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RecordingProxy {
    pub fn start(target: SocketAddr) -> std::io::Result<RecordingProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let wire = Arc::new(Mutex::new(Wire::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (w, s) = (wire.clone(), stop.clone());
        std::thread::Builder::new()
            .name("recording-proxy".into())
            .spawn(move || {
                for client in listener.incoming() {
                    if s.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(client) = client else { continue };
                    let Ok(server) = TcpStream::connect(target) else {
                        let _ = client.shutdown(Shutdown::Both);
                        continue;
                    };
                    relay(client, server, w.clone());
                }
            })?;
        Ok(RecordingProxy { addr, wire, stop })
    }

    /// `http://127.0.0.1:PORT`, the address to give clients instead of the server's.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every byte clients sent so far (requests, with their headers).
    pub fn sent(&self) -> Vec<u8> {
        lock(&self.wire).sent.clone()
    }

    /// Every byte the server answered so far.
    pub fn answered(&self) -> Vec<u8> {
        lock(&self.wire).answered.clone()
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Copies both ways on two threads, keeping what passed.
fn relay(client: TcpStream, server: TcpStream, wire: Arc<Mutex<Wire>>) {
    let pump = |mut from: TcpStream, mut to: TcpStream, upstream: bool, wire: Arc<Mutex<Wire>>| {
        move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        {
                            let mut w = lock(&wire);
                            let side = if upstream {
                                &mut w.sent
                            } else {
                                &mut w.answered
                            };
                            side.extend_from_slice(&buf[..n]);
                        }
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = to.shutdown(Shutdown::Write);
        }
    };
    let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("proxy-up".into())
        .spawn(pump(client, server, true, wire.clone()));
    let _ = std::thread::Builder::new()
        .name("proxy-down".into())
        .spawn(pump(s2, c2, false, wire));
}

/// How often `needle` occurs in `haystack`.
pub fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() {
        return 0;
    }
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_passes_both_ways_is_kept_and_delivered() {
        let server = TcpListener::bind("127.0.0.1:0").expect("bind");
        let target = server.local_addr().expect("addr");
        let echo = std::thread::spawn(move || {
            let (mut s, _) = server.accept().expect("accept");
            let mut got = [0u8; 5];
            s.read_exact(&mut got).expect("read");
            s.write_all(b"pong:").expect("write");
            s.write_all(&got).expect("write");
        });
        let proxy = RecordingProxy::start(target).expect("proxy");
        let mut c = TcpStream::connect(proxy.addr).expect("connect");
        c.write_all(b"ping!").expect("send");
        let mut answer = Vec::new();
        c.read_to_end(&mut answer).expect("answer");
        echo.join().expect("echo");
        assert_eq!(answer, b"pong:ping!");
        assert_eq!(proxy.sent(), b"ping!");
        assert_eq!(proxy.answered(), b"pong:ping!");
        assert_eq!(occurrences(b"abcabc", b"bc"), 2);
    }
}
