//! Print jobs on Linux, read from the local CUPS server with IPP Get-Jobs (the same request
//! `lpstat` sends), over its Unix socket or TCP port.
//!
//! Why IPP and not CUPS's job-history files: the files under /var/spool/cups are readable only
//! by root and their format is private to CUPS, while Get-Jobs is a documented protocol any
//! user may ask, works for remote and local queues alike, and returns the pages counted by
//! CUPS itself. Only job metadata is asked for, and only for the employee's own jobs
//! (`my-jobs`, asked as the user the agent runs as); the printed document is never read.

use std::io::{Read, Write};
use std::time::Duration;

use crate::error::{Error, Result};
pub use crate::print_queue::{JobState, Tracker};

/// Where the CUPS server listens: `unix:/run/cups/cups.sock` or `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Server {
    Unix(std::path::PathBuf),
    Tcp(String),
}

impl Server {
    /// `"unix:/path"` → Unix socket, anything else → TCP address.
    pub fn parse(text: &str) -> Server {
        match text.strip_prefix("unix:") {
            Some(path) => Server::Unix(path.into()),
            None => Server::Tcp(text.to_owned()),
        }
    }

    /// The system's CUPS: its socket when present, else localhost:631.
    pub fn system() -> Server {
        let sock = std::path::Path::new("/run/cups/cups.sock");
        if sock.exists() {
            Server::Unix(sock.into())
        } else {
            Server::Tcp("localhost:631".into())
        }
    }
}

const TIMEOUT: Duration = Duration::from_secs(5);

fn attr(out: &mut Vec<u8>, tag: u8, name: &str, value: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&(name.len() as u16).to_be_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
}

/// The name of the user this process runs as (CUPS shows a job's name only to its owner).
pub fn current_user() -> String {
    if let Some(user) = ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
    {
        return user;
    }
    let uid = rustix::process::getuid().as_raw();
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.get(2) == Some(&uid.to_string().as_str())).then(|| f[0].to_owned())
            })
        })
        .unwrap_or_else(|| uid.to_string())
}

/// The IPP Get-Jobs request for `user`'s jobs (completed ones too) with the attributes we
/// read. Asking as the job's owner is what makes CUPS show the document name.
pub fn get_jobs_request(request_id: u32, user: &str) -> Vec<u8> {
    let mut b = vec![2, 0, 0x00, 0x0A];
    b.extend_from_slice(&request_id.to_be_bytes());
    b.push(0x01);
    attr(&mut b, 0x47, "attributes-charset", b"utf-8");
    attr(&mut b, 0x48, "attributes-natural-language", b"en");
    attr(&mut b, 0x45, "printer-uri", b"ipp://localhost/");
    attr(&mut b, 0x42, "requesting-user-name", user.as_bytes());
    attr(&mut b, 0x44, "which-jobs", b"all");
    attr(&mut b, 0x22, "my-jobs", &[1]);
    let wanted = [
        "job-id",
        "job-name",
        "job-printer-uri",
        "job-originating-user-name",
        "job-k-octets",
        "job-impressions-completed",
        "job-media-sheets-completed",
        "job-state",
    ];
    for (i, name) in wanted.iter().enumerate() {
        attr(
            &mut b,
            0x44,
            if i == 0 { "requested-attributes" } else { "" },
            name.as_bytes(),
        );
    }
    b.push(0x03);
    b
}

/// Parses an IPP Get-Jobs response body into jobs; errors say what is malformed.
pub fn parse_jobs(body: &[u8]) -> Result<Vec<JobState>> {
    let bad = |what: &str| Error::Print(format!("the print server's answer is malformed ({what})"));
    if body.len() < 8 {
        return Err(bad("too short"));
    }
    let status = u16::from_be_bytes([body[2], body[3]]);
    // 0x0000-0x00FF are successful; 0x0406 "not found" means no jobs at all.
    if status == 0x0406 {
        return Ok(Vec::new());
    }
    if status > 0x00FF {
        return Err(Error::Print(format!(
            "the print server refused Get-Jobs (IPP status 0x{status:04x})"
        )));
    }
    let mut jobs = Vec::new();
    let mut current: Option<JobState> = None;
    let mut i = 8;
    let mut last_name = String::new();
    while i < body.len() {
        let tag = body[i];
        i += 1;
        if tag < 0x10 {
            if let Some(job) = current.take() {
                jobs.push(job);
            }
            if tag == 0x03 {
                break;
            }
            if tag == 0x02 {
                current = Some(JobState::default());
            }
            continue;
        }
        let take = |i: &mut usize, n: usize| -> Result<&[u8]> {
            let s = body
                .get(*i..*i + n)
                .ok_or_else(|| bad("truncated attribute"))?;
            *i += n;
            Ok(s)
        };
        let name_len =
            u16::from_be_bytes(take(&mut i, 2)?.try_into().map_err(|_| bad("length"))?) as usize;
        let name = String::from_utf8_lossy(take(&mut i, name_len)?).into_owned();
        let value_len =
            u16::from_be_bytes(take(&mut i, 2)?.try_into().map_err(|_| bad("length"))?) as usize;
        let value = take(&mut i, value_len)?;
        if !name.is_empty() {
            last_name = name;
        }
        let Some(job) = current.as_mut() else {
            continue;
        };
        let int = || -> Option<u32> { Some(u32::from_be_bytes(value.try_into().ok()?)) };
        let text = || String::from_utf8_lossy(value).into_owned();
        match last_name.as_str() {
            "job-id" => job.job.id = int().unwrap_or(0),
            "job-name" => job.job.document = text(),
            "job-printer-uri" => {
                job.job.printer = text().rsplit('/').next().unwrap_or_default().to_owned()
            }
            "job-originating-user-name" => job.job.user = Some(text()),
            "job-k-octets" => job.job.size_bytes = int().map(|k| u64::from(k) * 1024),
            "job-impressions-completed" | "job-media-sheets-completed" => {
                if let Some(n) = int().filter(|n| *n > 0) {
                    job.job.pages = Some(job.job.pages.unwrap_or(0).max(n));
                }
            }
            "job-state" => job.state = int().unwrap_or(0),
            _ => {}
        }
    }
    if let Some(job) = current.take() {
        jobs.push(job);
    }
    Ok(jobs)
}

/// Decodes an HTTP/1.x response: the body of a 200 answer (chunked or not).
fn http_body(response: &[u8]) -> Result<Vec<u8>> {
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| Error::Print("the print server's HTTP answer has no body".into()))?;
    let head = String::from_utf8_lossy(&response[..split]);
    let status_line = head.lines().next().unwrap_or_default();
    if status_line.split(' ').nth(1) != Some("200") {
        return Err(Error::Print(format!(
            "the print server answered {status_line:?}"
        )));
    }
    let body = &response[split + 4..];
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Ok(body.to_vec());
    }
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&rest[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| Error::Print("bad chunk in the print server's answer".into()))?;
        if size == 0 {
            break;
        }
        let chunk = rest
            .get(eol + 2..eol + 2 + size)
            .ok_or_else(|| Error::Print("truncated chunk in the print server's answer".into()))?;
        out.extend_from_slice(chunk);
        rest = rest.get(eol + 2 + size + 2..).unwrap_or_default();
    }
    Ok(out)
}

fn exchange<S: Read + Write>(mut stream: S, ipp: &[u8]) -> std::io::Result<Vec<u8>> {
    let head = format!(
        "POST / HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/ipp\r\nContent-Length: {}\r\n\r\n",
        ipp.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(ipp)?;
    stream.flush()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    Ok(response)
}

/// Asks the server for its jobs.
pub fn fetch_jobs(server: &Server) -> Result<Vec<JobState>> {
    let ipp = get_jobs_request(1, &current_user());
    let unreachable = |e: std::io::Error| {
        Error::Print(format!(
            "cannot reach the print server at {server:?} ({e}); is CUPS running?"
        ))
    };
    let response = match server {
        Server::Unix(path) => {
            let s = std::os::unix::net::UnixStream::connect(path).map_err(unreachable)?;
            s.set_read_timeout(Some(TIMEOUT)).map_err(unreachable)?;
            exchange(s, &ipp).map_err(unreachable)?
        }
        Server::Tcp(addr) => {
            use std::net::ToSocketAddrs;
            let addr = addr
                .to_socket_addrs()
                .map_err(unreachable)?
                .next()
                .ok_or_else(|| Error::Print(format!("{addr} names no address")))?;
            let s = std::net::TcpStream::connect_timeout(&addr, TIMEOUT).map_err(unreachable)?;
            s.set_read_timeout(Some(TIMEOUT)).map_err(unreachable)?;
            exchange(s, &ipp).map_err(unreachable)?
        }
    };
    parse_jobs(&http_body(&response)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(jobs: &[(u32, &str, u32, u32)]) -> Vec<u8> {
        let mut b = vec![2, 0, 0, 0, 0, 0, 0, 1, 0x01];
        attr(&mut b, 0x47, "attributes-charset", b"utf-8");
        for (id, name, pages, state) in jobs {
            b.push(0x02);
            attr(&mut b, 0x21, "job-id", &id.to_be_bytes());
            attr(&mut b, 0x42, "job-name", name.as_bytes());
            attr(
                &mut b,
                0x45,
                "job-printer-uri",
                b"ipp://localhost/printers/Office",
            );
            attr(
                &mut b,
                0x21,
                "job-media-sheets-completed",
                &pages.to_be_bytes(),
            );
            attr(&mut b, 0x23, "job-state", &state.to_be_bytes());
        }
        b.push(0x03);
        b
    }

    #[test]
    fn parses_jobs_and_reports_new_finished_ones_once() {
        let jobs = parse_jobs(&response(&[(7, "old.pdf", 1, 9)])).expect("valid answer");
        assert_eq!(jobs[0].job.printer, "Office", "printer name from its URI");
        let mut t = Tracker::default();
        assert!(
            t.update(jobs).is_empty(),
            "jobs from before the start are not reported"
        );
        let next = parse_jobs(&response(&[
            (7, "old.pdf", 1, 9),
            (8, "clients.xlsx", 0, 5),
        ]))
        .expect("valid");
        assert!(
            t.update(next).is_empty(),
            "job 8 is still printing: wait for its pages"
        );
        let done = parse_jobs(&response(&[(8, "clients.xlsx", 12, 9)])).expect("valid");
        let out = t.update(done.clone());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].document, "clients.xlsx");
        assert_eq!(out[0].pages, Some(12), "pages counted by CUPS");
        assert!(t.update(done).is_empty(), "reported once");
    }

    #[test]
    fn malformed_answers_are_errors_not_panics() {
        assert!(parse_jobs(b"\x02\x00").is_err(), "too short");
        let mut truncated = response(&[(1, "a", 1, 9)]);
        truncated.truncate(30);
        let _ = parse_jobs(&truncated); // must not panic, whatever it returns
        assert!(
            http_body(b"HTTP/1.1 403 Forbidden\r\n\r\n").is_err(),
            "refusal is an error"
        );
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        assert_eq!(http_body(chunked).expect("chunked body"), b"abc");
    }
}
