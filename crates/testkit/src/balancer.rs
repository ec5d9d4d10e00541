//! A real load balancer for tests: HAProxy from Debian, in the foreground, balancing HTTP
//! requests round robin over the given server nodes on loopback. Each answer names the node
//! that gave it in an `X-Served-By` header (`node1`, `node2`, … in the order given), so a test
//! can show that a session made on one node was used on another. A node whose port stops
//! answering is left out until it answers again. Stopped on drop.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The header HAProxy adds to every answer: the name of the node that gave it.
pub const SERVED_BY: &str = "x-served-by";

/// A running HAProxy.
#[derive(Debug)]
pub struct Balancer {
    child: Child,
    _dir: tempfile::TempDir,
    pub addr: SocketAddr,
}

impl Balancer {
    /// Starts HAProxy on a free loopback port in front of `nodes` and waits until it accepts
    /// connections; an error with its output when it does not within a minute.
    pub fn start(nodes: &[SocketAddr]) -> Result<Balancer, String> {
        if nodes.is_empty() {
            return Err("a load balancer needs at least one node".into());
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port for the load balancer: {e}"))?
            .port();
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut config = format!(
            "global\n  maxconn 4096\n\
             defaults\n  mode http\n  timeout connect 5s\n  timeout client 120s\n  \
             timeout server 120s\n\
             frontend front\n  bind 127.0.0.1:{port}\n  default_backend nodes\n\
             backend nodes\n  balance roundrobin\n  \
             http-response set-header X-Served-By %[srv_name]\n  \
             retries 3\n  option redispatch 1\n"
        );
        // Each node's port is checked every second: one that stops answering is left out
        // until it is back, and a request that could not reach it goes to another.
        for (i, node) in nodes.iter().enumerate() {
            config.push_str(&format!(
                "  server node{} {node} check inter 1s fall 1 rise 1\n",
                i + 1
            ));
        }
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).map_err(|e| format!("{}: {e}", path.display()))?;
        let log = dir.path().join("haproxy.log");
        let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let err_file = log_file.try_clone().map_err(|e| e.to_string())?;
        let mut child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(err_file)
            .spawn()
            .map_err(|e| {
                format!("cannot start haproxy ({e}); install it with `apt-get install -y haproxy`")
            })?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(Balancer {
                    child,
                    _dir: dir,
                    addr,
                });
            }
            let exited = child.try_wait().map_err(|e| e.to_string())?;
            if exited.is_some() || Instant::now() >= until {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "haproxy did not accept connections on {addr} ({}); its output:\n{}",
                    exited.map_or("still starting after 60 s".into(), |s| s.to_string()),
                    std::fs::read_to_string(&log).unwrap_or_default()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The balancer's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
