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

// --- the other user -----------------------------------------------------------------------------

/// The uid of an unprivileged second user (nobody), when the tests can act as one: as root. Without
/// root the test skips or fails as `unavailable` says (CI runs as root, where it must not skip).
fn other_user() -> Option<u32> {
    if mailtoken::testing::private_files::my_uid() != 0 {
        unavailable("feature root", "only root can act as a second user");
        return None;
    }
    require("setpriv").then_some(65534)
}

/// `SHELL -c SCRIPT` as the user `uid`, with nothing of ours in its groups.
fn as_user(uid: u32, shell: &str, script: &str) -> std::process::Command {
    let mut command = std::process::Command::new("setpriv");
    command.args([
        &format!("--reuid={uid}"),
        &format!("--regid={uid}"),
        "--clear-groups",
        shell,
        "-c",
        script,
    ]);
    command
}

// --- item 12: the notify hook -------------------------------------------------------------------

/// A provider saying the login ended, with markup a desktop notification would render
/// (reconstructed).
fn ended_with_markup() -> FakeServer {
    FakeServer::answering(Reply::oauth_error(
        400,
        "invalid_grant",
        "<b>Sign in</b> again & <a href=\"https://evil.example/\">here</a> <img src=x>",
    ))
}

/// How the hook is put in place for one case, and whether it may run.
type Placing = fn(&Sandbox, &std::path::Path, &std::path::Path, Option<u32>);

#[test]
fn the_notify_hook_runs_only_when_it_is_the_users_own() {
    let other = other_user();
    let runs = |_: &Sandbox, hook: &std::path::Path, script: &std::path::Path, _| {
        std::os::unix::fs::symlink(script, hook).unwrap();
    };
    let cases: Vec<(&str, Placing, bool, bool)> = vec![
        (
            "the user's own script",
            |_, hook, script, _| {
                std::fs::copy(script, hook).unwrap();
                set_mode(hook, 0o700);
            },
            true,
            false,
        ),
        ("the user's link to the user's script", runs, true, false),
        (
            "a script others can change",
            |_, hook, script, _| {
                std::fs::copy(script, hook).unwrap();
                set_mode(hook, 0o757);
            },
            false,
            false,
        ),
        (
            "a script its group can change",
            |_, hook, script, _| {
                std::fs::copy(script, hook).unwrap();
                set_mode(hook, 0o770);
            },
            false,
            false,
        ),
        (
            "a directory others can change",
            |sandbox, hook, script, _| {
                std::fs::copy(script, hook).unwrap();
                set_mode(hook, 0o700);
                set_mode(&sandbox.config_home().join("mailtoken"), 0o777);
            },
            false,
            false,
        ),
        (
            // Issue #30, item 6: only the hook's own directory and its target's were judged;
            // swapping an ancestor ran another user's script.
            "a directory further up that others can change",
            |sandbox, hook, script, _| {
                std::fs::copy(script, hook).unwrap();
                set_mode(hook, 0o700);
                set_mode(&sandbox.config_home(), 0o777);
            },
            false,
            false,
        ),
        (
            "a directory further up that another user owns",
            |sandbox, hook, script, other| {
                std::fs::copy(script, hook).unwrap();
                set_mode(hook, 0o700);
                let other = other.unwrap();
                std::os::unix::fs::chown(sandbox.config_home(), Some(other), Some(other)).unwrap();
            },
            false,
            true,
        ),
        (
            "a link to another user's script",
            |sandbox, hook, _, other| {
                let shared = sandbox.path("shared");
                std::fs::create_dir(&shared).unwrap();
                set_mode(sandbox.dir.path(), 0o711);
                set_mode(&shared, 0o1777);
                let planted = shared.join("hook");
                let status = as_user(
                    other.unwrap(),
                    "sh",
                    &format!(
                        "printf '#!/bin/sh\\nenv > {}\\n' > {p} && chmod 755 {p}",
                        sandbox.path("hook-env").display(),
                        p = planted.display()
                    ),
                )
                .status()
                .unwrap();
                assert!(status.success());
                std::os::unix::fs::symlink(&planted, hook).unwrap();
            },
            false,
            true,
        ),
        (
            "another user's link to the user's script",
            |_, hook, script, other| {
                std::os::unix::fs::symlink(script, hook).unwrap();
                let other = other.unwrap();
                std::os::unix::fs::lchown(hook, Some(other), Some(other)).unwrap();
            },
            false,
            true,
        ),
    ];
    let cases = cases
        .into_iter()
        .filter(|(_, _, _, needs_other)| !needs_other || other.is_some())
        .map(|(name, place, runs, _)| (name, (place, runs)));
    each_case(cases, |(place, may_run)| {
        let sandbox = Sandbox::new();
        let server = ended_with_markup();
        let mut token = sandbox.token(&server.token_endpoint(), minutes_from_now(-1));
        token.email = "<b>you</b>&co@example.com".into();
        let path = sandbox.save("account", &token);
        let script = sandbox.path("hook-script");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nenv > '{0}.tmp' && mv '{0}.tmp' '{0}'\n",
                sandbox.path("hook-env").display()
            ),
        )
        .unwrap();
        set_mode(&script, 0o700);
        let hook = sandbox.config_home().join("mailtoken/notify");
        place(&sandbox, &hook, &script, other);

        // --verbose says "ran the notify hook" for every hook mailtoken starts, before it exits:
        // what the finished run does not say, it did not start.
        let run = sandbox.run(&["--verbose", path.to_str().unwrap()]);

        run.expect(77, "");
        let record = sandbox.path("hook-env");
        if !may_run {
            run.never_says("ran the notify hook");
            run.says("so it was not run");
            return;
        }
        run.says("ran the notify hook");
        assert!(
            eventually(|| record.exists()),
            "the hook did not run: {}",
            run.stderr
        );
        let env = std::fs::read_to_string(&record).unwrap();
        let reason = env
            .lines()
            .find(|l| l.starts_with("MAILTOKEN_REASON="))
            .unwrap();
        assert!(reason.contains("Sign in"), "{reason}");
        assert!(!reason.contains(['<', '>', '&']), "markup in {reason}");
        let email = env
            .lines()
            .find(|l| l.starts_with("MAILTOKEN_EMAIL="))
            .unwrap();
        assert_eq!(email, "MAILTOKEN_EMAIL=‹b›you‹/b›＆co@example.com");
    });
}

// --- item 14: the loopback listener --------------------------------------------------------------

/// Another user holding `count` idle connections to `port` on 127.0.0.1 until killed: the child
/// has said "ready" once they are all open.
fn idle_connections(uid: u32, port: &str, count: usize) -> std::process::Child {
    let script = format!(
        "for i in $(seq {count}); do exec {{fd}}<>/dev/tcp/127.0.0.1/{port} || exit 1; done; \
         echo ready; exec sleep 60"
    );
    // bash, for its /dev/tcp.
    let mut child = as_user(uid, "bash", &script)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut ready,
    )
    .unwrap();
    assert_eq!(ready.trim(), "ready", "the other user could not connect");
    child
}

#[test]
fn another_users_idle_connections_cannot_keep_the_browser_out() {
    let Some(other) = other_user() else { return };
    if !require("bash") {
        return;
    }
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let browser = FakeBrowser::new(&sandbox);
    let path = sandbox.path("account");
    let args = provider.sign_in(
        &path,
        "localhostauthcode",
        &PERSON,
        &["--auth-timeout", "30"],
    );
    let running = Running::start(&sandbox, &args, Some(&browser.script));
    let url = browser.opened_url();
    let redirect_uri = query_of(&url)["redirect_uri"].clone();
    let port = redirect_uri
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap();

    // The browser's own speculative connections, opened first and idle: the other user's
    // connections, though newer, never take their places.
    let address = format!("127.0.0.1:{port}");
    let speculative: Vec<std::net::TcpStream> = (0..4)
        .map(|_| std::net::TcpStream::connect(&address).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // Far more than the listener serves at once (32), left idle.
    let mut holder = idle_connections(other, port, 100);
    std::thread::sleep(Duration::from_millis(200));
    for mut connection in &speculative {
        connection
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut byte = [0u8; 1];
        let read = connection.read(&mut byte);
        assert!(
            matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "one of the user's own connections was closed for the other user's: {read:?}"
        );
    }
    let location = get_url(&url, ipv4()).body;
    let page = get_url(&location, ipv4());
    let _ = holder.kill();
    let _ = holder.wait();

    assert_eq!(page.status, 200, "{}", page.body);
    running.finish().expect(0, "access-from-code\n");
}

/// What another user gets for `GET target` sent to 127.0.0.1:`port`: everything it read back.
fn as_other_user_get(uid: u32, port: &str, target: &str) -> String {
    let script = format!(
        "exec 3<>/dev/tcp/127.0.0.1/{port} || exit 1; \
         printf 'GET {target} HTTP/1.1\\r\\nHost: 127.0.0.1:{port}\\r\\n\\r\\n' >&3; \
         timeout 10 cat <&3; exit 0"
    );
    // Closed unread, the connection may end in a reset: what counts is that nothing came back.
    let output = as_user(uid, "bash", &script).output().unwrap();
    assert!(
        output.status.success(),
        "the other user could not connect: {output:?}"
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Issue #30, item 1: another user who learnt the sign-in URL (state and PKCE challenge) could
/// deliver a redirect of their own to the listener before the browser: their code completed the
/// sign-in with their account, their `error=access_denied` ended it (77).
#[test]
fn another_users_redirect_gets_nothing_and_the_browser_still_signs_in() {
    let Some(other) = other_user() else { return };
    if !require("bash") {
        return;
    }
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let browser = FakeBrowser::new(&sandbox);
    let path = sandbox.path("account");
    let args = provider.sign_in(
        &path,
        "localhostauthcode",
        &PERSON,
        &["--auth-timeout", "30"],
    );
    let mut running = Running::start(&sandbox, &args, Some(&browser.script));
    let start = browser.started_with();
    // The browser's command line, which every user may read, holds nothing of the sign-in.
    for secret_part in ["state=", "code_challenge", "client_id"] {
        assert!(!start.contains(secret_part), "{start}");
    }
    let port = start
        .split_once("127.0.0.1:")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(port, _)| port.to_string())
        .unwrap_or_else(|| panic!("no port in {start}"));
    let start_target = &start[start.find("/mailtoken-sign-in/").unwrap()..];
    // The other user, who read the start address, asks for the page first: nothing.
    assert_eq!(as_other_user_get(other, &port, start_target), "");
    // The user's browser is still sent on; the other user, knowing the state, answers for it.
    let url = browser.opened_url();
    let state = query_of(&url)["state"].clone();
    for answer in [
        format!("/?error=access_denied&state={state}"),
        format!("/?code=the-other-users-code&state={state}"),
    ] {
        assert_eq!(as_other_user_get(other, &port, &answer), "", "{answer}");
    }
    running.wait_for_stderr("refused a connection to the sign-in listener from another user");
    // The real redirect completes the sign-in, with the user's code.
    let location = get_url(&url, ipv4()).body;
    assert_eq!(get_url(&location, ipv4()).status, 200);
    running.finish().expect(0, "access-from-code\n");
}

/// The page that starts the sign-in sends the browser on once; asked again, it warns.
#[test]
fn the_start_page_sends_the_browser_on_once() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let browser = FakeBrowser::new(&sandbox);
    let path = sandbox.path("account");
    let args = provider.sign_in(
        &path,
        "localhostauthcode",
        &PERSON,
        &["--auth-timeout", "20"],
    );
    let mut running = Running::start(&sandbox, &args, Some(&browser.script));
    let url = browser.opened_url();
    assert!(url.contains("state="), "{url}");
    let again = get_url(&browser.started_with(), ipv4());
    assert_eq!(again.status, 410, "{again:?}");
    assert!(
        !again.head.to_ascii_lowercase().contains("location"),
        "{again:?}"
    );
    running.wait_for_stderr("asked for a second time");
    let location = get_url(&url, ipv4()).body;
    assert_eq!(get_url(&location, ipv4()).status, 200);
    running.finish().expect(0, "access-from-code\n");
}

// --- item 15: MAILTOKEN_CLIENT_SECRET ------------------------------------------------------------

/// The prompts change the terminal in-process (termios), so no program is started for it that
/// could see the client secret: a `stty` first in PATH, which would record its environment, is
/// never run, while the terminal does change.
#[test]
fn the_terminal_is_changed_without_a_program_that_could_see_the_secret() {
    if !require("script") {
        return;
    }
    let sandbox = Sandbox::new();
    let bin = sandbox.path("bin");
    std::fs::create_dir(&bin).unwrap();
    let stty = bin.join("stty");
    std::fs::write(
        &stty,
        format!(
            "#!/bin/sh\nenv >> '{}'\n",
            sandbox.path("stty-env").display()
        ),
    )
    .unwrap();
    set_mode(&stty, 0o700);
    // A sign-in waiting at its paste prompt, the secret exported, ended once the prompt has
    // changed the terminal.
    let script = signal_once_the_terminal_changed(
        &format!(
            "PATH='{}':$PATH MAILTOKEN_CLIENT_SECRET=exported-s3cret-value \"$MAILTOKEN\" account \
             --authorize --authflow authcode --provider google --email you@example.com \
             --client-id id < /dev/tty > /dev/null 2> err",
            bin.display()
        ),
        "TERM",
    );
    run_in_terminal(sandbox.terminal(&script));
    assert_ne!(
        sandbox.read("before"),
        sandbox.read("during"),
        "the paste prompt never changed the terminal: {}",
        sandbox.read("err")
    );
    assert_eq!(
        sandbox.read("before"),
        sandbox.read("after"),
        "not restored"
    );
    assert!(
        !sandbox.path("stty-env").exists(),
        "a program was run to change the terminal: {}",
        sandbox.read("stty-env")
    );
}

/// How often `text` contains `words`.
fn count(text: &str, words: &str) -> usize {
    text.matches(words).count()
}

#[test]
fn an_exported_client_secret_goes_only_where_a_secret_belongs_and_says_so() {
    let sandbox = Sandbox::new();
    let exported = [("MAILTOKEN_CLIENT_SECRET", "exported-secret-1")];

    // A public client signed in before: the exported secret is not for it.
    let provider = FakeProvider::start();
    let public = sandbox.path("public");
    let args = provider.sign_in(&public, "devicecode", &PERSON, &["--auth-timeout", "20"]);
    sandbox.run(&args).expect_code(0);
    let again = [
        public.to_str().unwrap(),
        "--authorize",
        "--authflow",
        "devicecode",
    ];
    let run = sandbox.run_with(&again, &exported);
    run.expect_code(0);
    run.says("is a public client");
    run.never_says("using the client secret");
    let sent = provider.requests_to("/token").last().unwrap().form.clone();
    assert!(!sent.contains_key("client_secret"), "{sent:?}");
    assert_eq!(sandbox.read_token(&public).client_secret, None);

    // A confidential one: the exported secret replaces the stored one, and the run says for
    // which account, once.
    let service = FakeProvider::for_service();
    let robot = sandbox.path("robot");
    sandbox
        .run(&service.sign_in(&robot, "clientcredentials", &SERVICE, &[]))
        .expect_code(0);
    service.with(|s| s.client_secret = Some("exported-secret-1".into()));
    let again = [robot.to_str().unwrap(), "--authorize"];
    let run = sandbox.run_with(&again, &exported);
    run.expect_code(0);
    let said = format!(
        "using the client secret from MAILTOKEN_CLIENT_SECRET for {}",
        robot.display()
    );
    assert_eq!(count(&run.stderr, &said), 1, "{}", run.stderr);
    let sent = service.requests_to("/token").last().unwrap().form.clone();
    assert_eq!(sent["client_secret"], "exported-secret-1");
    let stored = sandbox.read_token(&robot).client_secret.unwrap();
    assert_eq!(stored.expose(), "exported-secret-1");

    // Given with a flag, a secret makes the public client confidential.
    provider.with(|s| s.client_secret = Some("given-secret-2".into()));
    let secret_file = sandbox.path("secret");
    std::fs::write(&secret_file, "given-secret-2\n").unwrap();
    let given = [
        public.to_str().unwrap(),
        "--authorize",
        "--authflow",
        "devicecode",
        "--client-secret-file",
        secret_file.to_str().unwrap(),
    ];
    sandbox.run_with(&given, &exported).expect_code(0);
    let stored = sandbox.read_token(&public).client_secret.unwrap();
    assert_eq!(stored.expose(), "given-secret-2");
}
