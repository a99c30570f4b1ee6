//! The listener's own tests: binding, the answers, and connections that misbehave.

use super::*;
use std::io::Write;

fn get(addr: SocketAddr, raw: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(raw).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

#[test]
fn serves_both_loopback_addresses_on_one_port() {
    let listener = Listener::bind_with(None, None).unwrap();
    let port = listener.port();
    // Where the machine has an IPv6 loopback, both addresses must be there to be served; where
    // it has none, this test can show only 127.0.0.1 (a skip, which CI does not allow).
    let mut expected = vec![SocketAddr::from((Ipv4Addr::LOCALHOST, port))];
    if TcpListener::bind("[::1]:0").is_ok() {
        expected.push(SocketAddr::from((Ipv6Addr::LOCALHOST, port)));
    } else {
        crate::ci_skips::unavailable("feature ipv6", "this machine has no IPv6 loopback (::1)");
    }
    assert_eq!(listener.addresses(), expected.as_slice());
    for addr in listener.addresses().to_vec() {
        assert_eq!(addr.port(), port);
        let client =
            thread::spawn(move || get(addr, b"GET /?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        let incoming = listener
            .next(Instant::now() + Duration::from_secs(5))
            .unwrap();
        assert_eq!(
            (incoming.method.as_str(), incoming.target.as_str()),
            ("GET", "/?x=1")
        );
        incoming.respond(Answer::page(200, "<p>ok</p>"));
        let response = client.join().unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(response.ends_with("<p>ok</p>"));
    }
}

#[test]
fn at_the_cap_the_oldest_idle_connection_makes_room_for_a_request() {
    let listener = Listener::bind_with(None, None).unwrap();
    let addr = listener.addresses()[0];
    let mut idle: Vec<TcpStream> = (0..slots::MAX_CONNECTIONS)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    // Give the accept loop time to take them all.
    thread::sleep(Duration::from_millis(300));
    let client = thread::spawn(move || get(addr, b"GET /?state=s HTTP/1.1\r\n\r\n"));
    let incoming = listener
        .next(Instant::now() + Duration::from_secs(5))
        .expect("the request gets through a full house");
    assert_eq!(incoming.target, "/?state=s");
    incoming.respond(Answer::page(200, "<p>ok</p>"));
    assert!(client.join().unwrap().starts_with("HTTP/1.1 200"));
    // The oldest idle connection was closed for it, long before its idle deadline.
    let oldest = &mut idle[0];
    oldest
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let started = Instant::now();
    let mut byte = [0u8; 1];
    assert!(matches!(oldest.read(&mut byte), Ok(0) | Err(_)));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn oversized_and_malformed_requests_are_refused_without_reaching_the_caller() {
    let listener = Listener::bind_with(None, None).unwrap();
    let addr = listener.addresses()[0];
    let mut huge = b"GET /?".to_vec();
    huge.extend(std::iter::repeat_n(b'a', MAX_REQUEST + 10));
    huge.extend_from_slice(b" HTTP/1.1\r\n\r\n");
    let response = get(addr, &huge);
    assert!(response.starts_with("HTTP/1.1 431"), "{response:?}");
    assert!(get(addr, b"NONSENSE\r\n\r\n").starts_with("HTTP/1.1 400"));
    assert!(
        listener
            .next(Instant::now() + Duration::from_millis(200))
            .is_none()
    );
}

#[test]
fn an_idle_connection_does_not_hold_up_the_next_request() {
    let listener = Listener::bind_with(None, None).unwrap();
    let addr = listener.addresses()[0];
    // Like a browser's speculative connection: opened, never used.
    let _idle = TcpStream::connect(addr).unwrap();
    let client = thread::spawn(move || get(addr, b"GET / HTTP/1.1\r\n\r\n"));
    let incoming = listener
        .next(Instant::now() + IDLE_TIMEOUT / 2)
        .expect("the real request arrives while the idle one waits");
    incoming.respond(Answer::page(404, ""));
    assert!(client.join().unwrap().starts_with("HTTP/1.1 404"));
}

#[test]
fn a_taken_fixed_port_is_reported() {
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = taken.local_addr().unwrap().port();
    assert!(matches!(
        Listener::bind_with(Some(port), None),
        Err(BindError::InUse(_))
    ));
}

#[test]
fn the_deadline_ends_the_wait() {
    let listener = Listener::bind_with(None, None).unwrap();
    assert!(listener.next(Instant::now()).is_none());
}
