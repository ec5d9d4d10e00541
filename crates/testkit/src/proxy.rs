//! TCP proxies on loopback between a client and a server. [`RecordingProxy`] keeps everything
//! the client sends and the server answers, byte for byte, for a test to search (what crossed
//! the wire, not what either side says it sent). [`Cable`] keeps nothing but can be cut and
//! mended, as a network that fails between the two does.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

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

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RecordingProxy {
    pub fn start(target: SocketAddr) -> std::io::Result<RecordingProxy> {
        let wire = Arc::new(Mutex::new(Wire::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let addr = listen(target, Some(wire.clone()), Arc::default(), stop.clone())?;
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
        stop(self.addr, &self.stop);
    }
}

/// Listens on `127.0.0.1:<free port>` and forwards each connection to `target`, keeping
/// nothing; [`Cable::cut`] stops every byte both ways, as a network that fails between the
/// two does: connections stay open and their data waits (neither side is told), and a new
/// connection gets no answer. [`Cable::mend`] lets it all through again. Stops accepting when
/// dropped.
#[derive(Debug)]
pub struct Cable {
    addr: SocketAddr,
    gate: Arc<Gate>,
    stop: Arc<AtomicBool>,
}

impl Cable {
    pub fn start(target: SocketAddr) -> std::io::Result<Cable> {
        let gate = Arc::new(Gate::default());
        let stop = Arc::new(AtomicBool::new(false));
        let addr = listen(target, None, gate.clone(), stop.clone())?;
        Ok(Cable { addr, gate, stop })
    }

    /// The address to give the client instead of the server's.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Nothing passes until [`Cable::mend`].
    pub fn cut(&self) {
        *lock(&self.gate.cut) = true;
    }

    /// Everything that waited passes, and what follows.
    pub fn mend(&self) {
        *lock(&self.gate.cut) = false;
        self.gate.mended.notify_all();
    }
}

impl Drop for Cable {
    fn drop(&mut self) {
        self.mend();
        stop(self.addr, &self.stop);
    }
}

/// Whether bytes may pass.
#[derive(Debug, Default)]
struct Gate {
    cut: Mutex<bool>,
    mended: Condvar,
}

impl Gate {
    /// Returns once nothing is cut.
    fn wait(&self) {
        let mut cut = lock(&self.cut);
        while *cut {
            cut = self
                .mended
                .wait(cut)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

/// Accepts on a free loopback port and relays each connection to `target` from a thread of its
/// own; the address it listens on.
fn listen(
    target: SocketAddr,
    wire: Option<Arc<Mutex<Wire>>>,
    gate: Arc<Gate>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::Builder::new()
        .name("proxy".into())
        .spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                gate.wait();
                let Ok(server) = TcpStream::connect(target) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                relay(client, server, wire.clone(), gate.clone());
            }
        })?;
    Ok(addr)
}

/// Stops the accept loop at `addr`.
fn stop(addr: SocketAddr, flag: &AtomicBool) {
    flag.store(true, Ordering::SeqCst);
    // Wakes the accept loop so it sees the flag.
    let _ = TcpStream::connect(addr);
}

/// Copies both ways on two threads, keeping what passed when there is a `wire`, holding it
/// while the gate is cut.
fn relay(client: TcpStream, server: TcpStream, wire: Option<Arc<Mutex<Wire>>>, gate: Arc<Gate>) {
    let pump = |mut from: TcpStream,
                mut to: TcpStream,
                upstream: bool,
                wire: Option<Arc<Mutex<Wire>>>,
                gate: Arc<Gate>| {
        move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if let Some(wire) = &wire {
                            let mut w = lock(wire);
                            let side = if upstream {
                                &mut w.sent
                            } else {
                                &mut w.answered
                            };
                            side.extend_from_slice(&buf[..n]);
                        }
                        gate.wait();
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = to.shutdown(Shutdown::Write);
        }
    };
    // Each piece goes on at once, as between the two ends themselves: with Nagle's algorithm
    // a small write waits for the other side's delayed acknowledgement (40 ms on Linux), which
    // would slow every pipelined exchange through the proxy.
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("proxy-up".into())
        .spawn(pump(client, server, true, wire.clone(), gate.clone()));
    let _ = std::thread::Builder::new()
        .name("proxy-down".into())
        .spawn(pump(s2, c2, false, wire, gate));
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
