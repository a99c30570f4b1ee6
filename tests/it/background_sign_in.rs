//! Issue 35, item 3: when a call without a terminal finds that a login has ended, a sign-in waits
//! in the background and the notify hook carries its link; opening it finishes the sign-in with
//! no terminal, and the waiting process ends, done or timed out, leaving nothing behind.

use std::path::{Path, PathBuf};

use mailtoken::testing::tokenfile::Flow;

use crate::lifecycle::{hooks_started, lines_of_hooks};
use crate::support::*;

/// Time enough for a test to open the link (the sandbox's default is 3 s).
const WAIT_LONG: &[(&str, &str)] = &[("MAILTOKEN_TEST_SIGN_IN_WAIT", "60")];

/// What the provider said when the login ended (Google's words, as in tests/it/refresh.rs).
fn login_ended() -> Reply {
    Reply::oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
}

/// An account of `flow` at `provider` whose access token has expired and whose login the
/// provider has ended.
fn ended_account(sandbox: &Sandbox, provider: &FakeProvider, flow: Flow) -> PathBuf {
    let url = provider.url();
    let mut token = sandbox.token(&format!("{url}/token"), minutes_from_now(-60));
    token.flow = flow;
    token.client_secret = None;
    token.registration.authorize_endpoint = Some(format!("{url}/authorize"));
    token.registration.devicecode_endpoint = Some(format!("{url}/device"));
    token.registration.scope = "mail offline_access".into();
    provider.with(|state| state.token_override = Some(login_ended()));
    sandbox.save("account", &token)
}

/// A hook that records the event, the link, the user code and the link's time, then its pid.
fn install_link_hook(sandbox: &Sandbox) -> PathBuf {
    let hook = sandbox.config_home().join("mailtoken/notify");
    let record = sandbox.path("notified");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nprintf '%s|%s|%s|%s|pid=%s\\n' \"$MAILTOKEN_EVENT\" \
             \"$MAILTOKEN_SIGN_IN_URL\" \"$MAILTOKEN_USER_CODE\" \"$MAILTOKEN_SIGN_IN_UNTIL\" \
             \"$$\" >> '{}'\n",
            record.display()
        ),
    )
    .unwrap();
    set_mode(&hook, 0o755);
    record
}

/// The fields of the one line the hooks `pids` wrote.
fn hook_fields(record: &Path, pids: &[String]) -> Vec<String> {
    let lines = lines_of_hooks(record, pids);
    let line = lines
        .iter()
        .find(|line| {
            pids.iter()
                .any(|pid| line.ends_with(&format!("|pid={pid}")))
        })
        .unwrap();
    line.split('|').map(str::to_string).collect()
}

/// The pid of the sign-in a `--verbose` failing call left waiting in the background.
fn background_pid(run: &Run) -> u32 {
    let line = run
        .stderr
        .lines()
        .find(|line| line.contains("a sign-in waits in the background (pid "))
        .unwrap_or_else(|| panic!("no sign-in was started in the background: {}", run.stderr));
    line.split("(pid ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|pid| pid.parse().ok())
        .unwrap()
}

/// Whether the process `pid` has ended (gone, or a zombie nobody has reaped yet).
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

/// The records of waiting sign-ins in the sandbox's state directory.
fn link_records(sandbox: &Sandbox) -> Vec<String> {
    let state = sandbox.home().join(".local/state/mailtoken");
    std::fs::read_dir(state)
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with("sign-in-"))
                .collect()
        })
        .unwrap_or_default()
}

/// Makes every notification stamp an hour and more old, as if the hour had passed.
fn an_hour_passes(sandbox: &Sandbox) {
    let state = sandbox.home().join(".local/state/mailtoken");
    for entry in std::fs::read_dir(state).unwrap() {
        let path = entry.unwrap().path();
        if !path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("notified-")
        {
            continue;
        }
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3700);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
}

/// The mail client's call for the account `account` whose login has ended, with `extra`
/// arguments and `env`: it fails as before (77, nothing on stdout) and leaves a sign-in waiting in
/// the background. That process's pid, and the fields of the line the hook wrote.
fn call_starting_a_sign_in(
    sandbox: &Sandbox,
    record: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (u32, Vec<String>) {
    let run = sandbox.run_with(&[&["--verbose", "account"], extra].concat(), env);
    run.expect(77, "");
    (
        background_pid(&run),
        hook_fields(record, &hooks_started(&run)),
    )
}

/// Opens a loopback sign-in's link as a browser does: the listener's page sends it to the
/// provider, whose page sends it back with a code. The listener's last page.
fn open_link(link: &str) -> HttpAnswer {
    let start = get_url(link, ipv4());
    assert_eq!(start.status, 302, "{start:?}");
    let provider_page = get_url(&location_of(&start.head), ipv4());
    assert_eq!(provider_page.status, 200, "{}", provider_page.body);
    get_url(&provider_page.body, ipv4())
}

#[test]
fn the_hooks_link_finishes_a_loopback_sign_in_with_no_terminal() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let record = install_link_hook(&sandbox);
    let account = ended_account(&sandbox, &provider, Flow::Localhostauthcode);

    // The mail client's call fails as before (77, nothing on stdout), and a sign-in now waits.
    let (pid, fields) = call_starting_a_sign_in(&sandbox, &record, &[], WAIT_LONG);
    assert_eq!(fields[0], "ended");
    let link = fields[1].clone();
    assert!(
        link.starts_with("http://127.0.0.1:") && link.contains("/mailtoken-sign-in/"),
        "{link}"
    );
    assert_eq!(fields[2], "", "no user code for a loopback sign-in");
    assert!(fields[3].ends_with('Z'), "the link's time: {}", fields[3]);
    assert_eq!(link_records(&sandbox).len(), 1);

    // --status names the link too.
    sandbox.run(&["--status", "account"]).prints(&format!(
        "sign-in link:   {link} (a sign-in waits in the background until"
    ));

    // An hour on the hook runs again: the same link, and no second sign-in.
    an_hour_passes(&sandbox);
    let again = sandbox.run_with(&["--verbose", "account"], WAIT_LONG);
    again.expect(77, "");
    again.says("a sign-in already waits in the background");
    again.never_says("a sign-in waits in the background (pid");
    assert_eq!(hook_fields(&record, &hooks_started(&again))[1], link);

    // The person opens the link: the listener sends the browser to the provider, which sends it
    // back with a code; the sign-in ends there.
    provider.with(|state| state.token_override = None);
    assert_eq!(open_link(&link).status, 200);

    assert!(eventually(|| ended(pid)), "the sign-in process lives on");
    assert!(link_records(&sandbox).is_empty(), "the link was kept");
    let saved = sandbox.read_token(&account);
    assert_eq!(saved.access_token.expose(), "access-from-code");
    assert_eq!(saved.email, "user@example.com", "the account stays itself");
    // The mail client's next call succeeds, from the cache.
    sandbox.run(&["account"]).expect(0, "access-from-code\n");
    // Nothing listens any more.
    let (address, _, _) = split_url(&link, ipv4());
    assert!(std::net::TcpStream::connect(address).is_err());
}

/// Nobody reads the background process's messages: how it failed after the link was opened is
/// kept for `--status` and `--json` until a sign-in succeeds.
#[test]
fn a_background_sign_in_that_fails_is_shown_by_status_until_one_succeeds() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let record = install_link_hook(&sandbox);
    let account = ended_account(&sandbox, &provider, Flow::Localhostauthcode);
    let (pid, fields) = call_starting_a_sign_in(&sandbox, &record, &[], WAIT_LONG);
    let link = fields[1].clone();

    // The provider refuses the client at the code's exchange (django-oauth-toolkit#242: "I get a
    // 401 UNAUTHORIZED {\"error\": \"invalid_client\"}").
    provider.with(|state| {
        state.token_override = Some(Reply::json(
            401,
            serde_json::json!({"error": "invalid_client"}),
        ))
    });
    // The browser is answered once the exchange has ended, with how it ended.
    let page = open_link(&link);
    assert!(
        page.body.contains("<h1>Sign-in failed</h1>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("mailtoken --status"), "{}", page.body);
    assert!(eventually(|| ended(pid)), "the sign-in process lives on");

    let status = sandbox.run(&["--status", "account"]);
    let line = status
        .stdout
        .lines()
        .find(|line| line.starts_with("sign-in failed: "))
        .unwrap_or_else(|| panic!("{}", status.stdout))
        .to_string();
    assert!(line.contains(" in the background: "), "{line}");
    assert!(line.contains("invalid_client"), "{line}");
    let json = sandbox.run(&["--status", "--json", "account"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(
        json["background_sign_in_failed"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z')),
        "{json}"
    );
    assert!(
        json["background_sign_in_failure"]
            .as_str()
            .is_some_and(|why| why.contains("invalid_client")),
        "{json}"
    );

    // The next hour's sign-in succeeds, and the failure is forgotten.
    provider.with(|state| state.token_override = Some(login_ended()));
    an_hour_passes(&sandbox);
    let (pid, fields) = call_starting_a_sign_in(&sandbox, &record, &[], WAIT_LONG);
    let link = fields[1].clone();
    provider.with(|state| state.token_override = None);
    let page = open_link(&link);
    assert!(page.body.contains("<h1>Signed in</h1>"), "{}", page.body);
    assert!(eventually(|| ended(pid)), "the sign-in process lives on");
    assert_eq!(
        sandbox.read_token(&account).access_token.expose(),
        "access-from-code"
    );
    sandbox
        .run(&["--status", "account"])
        .never_prints("sign-in failed");
    let json = sandbox.run(&["--status", "--json", "account"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(json["background_sign_in_failure"].is_null(), "{json}");
}

#[test]
fn an_unopened_link_ends_with_its_time_and_leaves_nothing_behind() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let record = install_link_hook(&sandbox);
    let account = ended_account(&sandbox, &provider, Flow::Localhostauthcode);
    let before = Snapshot::of(&account);

    let (pid, fields) = call_starting_a_sign_in(
        &sandbox,
        &record,
        &[],
        &[("MAILTOKEN_TEST_SIGN_IN_WAIT", "1")],
    );
    let link = fields[1].clone();
    assert!(eventually(|| ended(pid)), "the sign-in outlived its time");
    assert!(link_records(&sandbox).is_empty(), "the link was kept");
    let (address, _, _) = split_url(&link, ipv4());
    assert!(std::net::TcpStream::connect(address).is_err());
    before.unchanged();
    // Nothing waits: --status names no link, and the next hour's hook starts a new sign-in.
    let status = sandbox.run(&["--status", "account"]);
    status.never_prints("sign-in link");
    // Nobody opened the link: nothing failed that another try would meet again.
    status.never_prints("sign-in failed");
    an_hour_passes(&sandbox);
    let later = sandbox.run_with(
        &["--verbose", "account"],
        &[("MAILTOKEN_TEST_SIGN_IN_WAIT", "1")],
    );
    let second = background_pid(&later);
    assert_ne!(second, pid);
    assert!(eventually(|| ended(second)));
}

#[test]
fn a_device_flow_account_gets_the_verification_address_and_the_code() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|state| {
        state.device_interval = Some(1);
        state.device_always_pending = true;
    });
    let record = install_link_hook(&sandbox);
    let account = ended_account(&sandbox, &provider, Flow::Devicecode);

    let (pid, fields) = call_starting_a_sign_in(&sandbox, &record, &[], WAIT_LONG);
    assert_eq!(
        fields[1],
        format!("{}/activate?user_code={USER_CODE}", provider.url())
    );
    assert_eq!(fields[2], USER_CODE);
    sandbox
        .run(&["--status", "account"])
        .prints(&format!("with the code {USER_CODE}"));

    // The person enters the code: the next poll gets the tokens.
    provider.with(|state| {
        state.token_override = None;
        state.device_always_pending = false;
    });
    assert!(eventually(|| ended(pid)), "the sign-in process lives on");
    assert_eq!(
        sandbox.read_token(&account).access_token.expose(),
        "access-from-device"
    );
    sandbox.run(&["account"]).expect(0, "access-from-device\n");
}

#[test]
fn a_sign_in_at_a_terminal_replaces_the_one_waiting_in_the_background() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    install_link_hook(&sandbox);
    let account = ended_account(&sandbox, &provider, Flow::Localhostauthcode);
    let run = sandbox.run_with(&["--verbose", "account"], WAIT_LONG);
    let pid = background_pid(&run);
    provider.with(|state| state.token_override = None);

    let browser = FakeBrowser::new(&sandbox);
    let args = strings(&[
        account.to_str().unwrap(),
        "--authorize",
        "--auth-timeout",
        "20",
    ]);
    let mut running = Running::start(&sandbox, &args, Some(&browser.script));
    running.wait_for_stderr("stopped the sign-in that waited in the background");
    assert!(eventually(|| ended(pid)), "the background sign-in lives on");
    let url = browser.opened_url();
    let provider_page = get_url(&url, ipv4());
    assert_eq!(get_url(&provider_page.body, ipv4()).status, 200);
    running.finish().expect(0, "access-from-code\n");
    assert!(link_records(&sandbox).is_empty());
}

#[test]
fn an_account_whose_flow_needs_a_terminal_gets_the_command_alone() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let record = install_link_hook(&sandbox);
    ended_account(&sandbox, &provider, Flow::Authcode);
    let run = sandbox.run(&["--verbose", "account"]);
    run.expect(77, "");
    run.never_says("in the background");
    let fields = hook_fields(&record, &hooks_started(&run));
    assert_eq!(fields[..3], ["ended", "", ""]);
}

#[test]
fn a_person_at_a_terminal_gets_no_sign_in_in_the_background() {
    if !require("script") {
        return;
    }
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    install_link_hook(&sandbox);
    ended_account(&sandbox, &provider, Flow::Localhostauthcode);
    let output = sandbox
        .terminal("\"$MAILTOKEN\" --verbose --check account; exit $?")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(77), "{screen}");
    assert!(!screen.contains("in the background"), "{screen}");
    assert!(link_records(&sandbox).is_empty());
}

#[test]
fn the_background_sign_in_reads_and_writes_the_file_with_the_callers_pipes() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let record = install_link_hook(&sandbox);
    let account = ended_account(&sandbox, &provider, Flow::Localhostauthcode);
    // The same account, stored through a pipe (here the identity, `cat`) that only the mail
    // client's command line names.
    let mut token = sandbox.read_token(&account);
    token.encryption = mailtoken::testing::encryption::EncryptionSpec::Pipe {
        encrypt: "cat".into(),
    };
    write_private(&account, token.to_json());
    let pipes = ["--decryption-pipe", "cat", "--encryption-pipe", "cat"];
    let (pid, fields) = call_starting_a_sign_in(&sandbox, &record, &pipes, WAIT_LONG);
    let link = fields[1].clone();
    provider.with(|state| state.token_override = None);
    assert_eq!(open_link(&link).status, 200);
    assert!(eventually(|| ended(pid)));
    sandbox
        .run(&[&["account"], &pipes[..]].concat())
        .expect(0, "access-from-code\n");
}

/// contrib/notify run with a fake `notify-send` (offering actions when `actions`, and clicking
/// "Sign in" when `click`) and a fake `xdg-open`: what each was given, one argument a line.
fn contrib_notify(
    link: Option<&str>,
    code: Option<&str>,
    actions: bool,
    click: bool,
) -> (String, String) {
    let sandbox = Sandbox::new();
    let bin = sandbox.path("bin");
    std::fs::create_dir(&bin).unwrap();
    let record = |name: &str| sandbox.path(name).display().to_string();
    let fake_notify = format!(
        "#!/bin/sh\nif [ \"$1\" = --help ]; then {}; exit 0; fi\nprintf '%s\\n' \"$@\" > '{}'\n{}\n",
        if actions {
            "echo '  -A, --action=[NAME=]Text...'"
        } else {
            "echo '  -u, --urgency=LEVEL'"
        },
        record("notify-send.args"),
        if click { "echo sign-in" } else { ":" },
    );
    std::fs::write(bin.join("notify-send"), fake_notify).unwrap();
    std::fs::write(
        bin.join("xdg-open"),
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n",
            record("xdg-open.args")
        ),
    )
    .unwrap();
    set_mode(&bin.join("notify-send"), 0o755);
    set_mode(&bin.join("xdg-open"), 0o755);
    let mut command = std::process::Command::new(repository("contrib/notify"));
    command
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("MAILTOKEN_EVENT", "ended")
        .env("MAILTOKEN_ACCOUNT", "work")
        .env("MAILTOKEN_EMAIL", "user@example.com")
        .env("MAILTOKEN_REASON", "the login has ended")
        .env("MAILTOKEN_AUTHORIZE_COMMAND", "mailtoken --authorize work")
        .env("MAILTOKEN_SIGN_IN_UNTIL", "2099-01-01T00:00:00Z");
    if let Some(link) = link {
        command.env("MAILTOKEN_SIGN_IN_URL", link);
    }
    if let Some(code) = code {
        command.env("MAILTOKEN_USER_CODE", code);
    }
    let status = command.status().unwrap();
    assert!(status.success(), "contrib/notify failed: {status}");
    (
        sandbox.read("notify-send.args"),
        sandbox.read("xdg-open.args"),
    )
}

#[test]
fn contrib_notify_shows_the_link_as_a_button_where_the_desktop_offers_one() {
    let link = "http://127.0.0.1:4321/mailtoken-sign-in/00ff";
    // A button, clicked: the browser opens the link.
    let (shown, opened) = contrib_notify(Some(link), None, true, true);
    assert!(shown.contains("--action=sign-in=Sign in"), "{shown}");
    assert!(shown.contains("--wait"), "{shown}");
    assert!(
        shown.contains("Mail: sign in again to user@example.com"),
        "{shown}"
    );
    assert_eq!(opened, format!("{link}\n"));
    // Not clicked (closed, or the time ran out): nothing opens.
    let (_, opened) = contrib_notify(Some(link), None, true, false);
    assert_eq!(opened, "");
    // A notify-send without actions: the link and the code are in the text.
    let (shown, opened) = contrib_notify(Some(link), Some("WDJB-MJHT"), false, false);
    assert!(!shown.contains("--action"), "{shown}");
    assert!(
        shown.contains(&format!("Open {link} and enter the code WDJB-MJHT by ")),
        "{shown}"
    );
    assert_eq!(opened, "");
    // No link: the command to run, as before.
    let (shown, _) = contrib_notify(None, None, true, false);
    assert!(!shown.contains("--action"), "{shown}");
    assert!(shown.contains("Run: mailtoken --authorize work"), "{shown}");
}
