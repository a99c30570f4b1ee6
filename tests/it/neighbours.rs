//! Issue #22, items 8, 12, 14 and 15: what the environment and the other users of the machine
//! can do. A proxy never sees a loopback request; the notify hook runs only when it is the user's
//! own; another user's idle connections cannot keep the browser's redirect out; the exported
//! client secret reaches no child and goes only where it belongs.

use std::io::Read;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::*;

// --- item 8: loopback is never proxied ----------------------------------------------------------

/// A "proxy" on another loopback address that records the first line of every connection.
fn proxy_catcher() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.2:0").expect("127.0.0.2 is loopback on Linux");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut head = [0u8; 1024];
            let read = stream.read(&mut head).unwrap_or(0);
            let text = String::from_utf8_lossy(&head[..read]);
            let first = text.lines().next().unwrap_or("").to_string();
            record.lock().unwrap().push(first);
        }
    });
    (url, seen)
}

#[test]
fn a_loopback_endpoint_is_never_reached_through_a_proxy() {
    let server = FakeServer::answering(Reply::token("direct", None, 3600));
    let port = server.url.rsplit(':').next().unwrap().to_string();
    let variables = [
        "http_proxy",
        "HTTP_PROXY",
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
    ];
    let hosts = ["127.0.0.1", "localhost"];
    let cases = variables
        .iter()
        .flat_map(|variable| hosts.map(|host| (format!("{variable}, {host}"), (*variable, host))));
    each_case(cases, |(variable, host)| {
        let (proxy, seen) = proxy_catcher();
        let sandbox = Sandbox::new();
        let endpoint = format!("http://{host}:{port}/token");
        let path = sandbox.account(&endpoint, minutes_from_now(-1));

        let run = sandbox.run_with(&[&path], &[(variable, proxy.as_str())]);

        run.expect(0, "direct\n");
        let seen = seen.lock().unwrap();
        assert!(seen.is_empty(), "the proxy saw {seen:?}");
    });
}
