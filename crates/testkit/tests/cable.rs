//! The cable between a client and a server: bytes pass, stop passing both ways while it is
//! cut (the connection stays open and neither side is told), and what waited arrives once it
//! is mended.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use worktrace_testkit::proxy::Cable;

/// Reads exactly `n` bytes.
fn read_n(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    stream.read_exact(&mut buf).expect("read");
    buf
}

#[test]
fn a_cut_cable_holds_the_bytes_both_ways_until_it_is_mended() {
    let server = TcpListener::bind("127.0.0.1:0").expect("listen");
    let cable = Cable::start(server.local_addr().expect("addr")).expect("the cable");
    let mut client = TcpStream::connect(cable.addr()).expect("connect through the cable");
    let (mut far, _) = server.accept().expect("the cable connects on");

    client.write_all(b"ping").expect("send");
    assert_eq!(read_n(&mut far, 4), b"ping", "bytes pass while it is whole");
    far.write_all(b"pong").expect("answer");
    assert_eq!(read_n(&mut client, 4), b"pong");

    cable.cut();
    client
        .write_all(b"lost?")
        .expect("the client can still send");
    far.write_all(b"held").expect("the server can still send");
    far.set_nonblocking(true).expect("nonblocking");
    client.set_nonblocking(true).expect("nonblocking");
    // Whatever the wait, nothing may come through a cut cable; a short one shows it here.
    std::thread::sleep(Duration::from_millis(300));
    let mut buf = [0u8; 16];
    for (side, stream) in [("server", &mut far), ("client", &mut client)] {
        match stream.read(&mut buf) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            other => panic!("the {side} got something through a cut cable: {other:?}"),
        }
    }

    cable.mend();
    far.set_nonblocking(false).expect("blocking");
    client.set_nonblocking(false).expect("blocking");
    assert_eq!(
        read_n(&mut far, 5),
        b"lost?",
        "what waited arrives, in order"
    );
    assert_eq!(read_n(&mut client, 4), b"held");
}
