//! `--test`'s IMAP reader against servers that send what a login does not ask for: unsolicited
//! FETCH responses (with literals, RFC 3501 section 4.3), a literal too large to read, an
//! `[ALERT]`; and the login with SASL-IR (RFC 4959).

use mailtoken::testing::mailserver::Protocol;
use mailtoken::testing::sasl::SaslMethod;

use crate::support::base64::decode_text;
use crate::support::login_test::{Probe, expected_sasl};
use crate::support::mail::Session;
use crate::support::mail_scripts::{Behaviour, Said, serving, xoauth2_only};
use crate::support::{CACHED_TOKEN, each_case};

/// No line the server received carries a login.
#[track_caller]
fn no_login_attempted(probe: &Probe) {
    let lines = probe.server.lines();
    assert!(
        lines.iter().all(|line| !line.contains(" AUTHENTICATE")),
        "{lines:?}"
    );
}

/// Unsolicited FETCH responses (any server may send one, RFC 3501 section 7) are read past
/// whatever they hold, and the login goes on. The first two once crashed the IMAP parser mailtoken
/// used (imap-proto, found by fuzzing); they are reconstructed, not copied from a server:
/// - `INTERNALDATE NIL`, which RFC 3501 does not allow; the nearest public report is a Zarafa
///   7.2.4 server sending NIL where K-9 Mail expected a date (thunderbird-android issue #1819);
/// - lists nested 100,000 deep, which overflowed the login thread's stack through imap-proto's
///   recursive body parser (djc/imap-proto issue #90).
///
/// The third holds a literal (RFC 3501 section 4.3) whose octets look like a completion of the
/// login's: read as lines, they would pass for the server's NO to EXAMINE, or a reply out of step.
#[test]
fn unsolicited_fetch_responses_are_read_past_whatever_they_hold() {
    let cases = [
        (
            "INTERNALDATE NIL",
            "* 1 FETCH (INTERNALDATE NIL)\r\n".to_string(),
        ),
        (
            "nested lists",
            format!("* 1 FETCH (BODYSTRUCTURE {})\r\n", "(".repeat(100_000)),
        ),
        (
            "a literal",
            "* 1 FETCH (BODY[] {22}\r\na3 NO [ALERT] forged\r\n)\r\n".to_string(),
        ),
    ];
    each_case(cases, |fetch| {
        let probe = Probe::start(Protocol::Imap, true, move |s: &mut Session| {
            s.send("* OK fake IMAP ready");
            while let Some(line) = s.line() {
                let tag = line.split(' ').next().unwrap_or("*").to_string();
                if line.contains("CAPABILITY") {
                    s.send("* CAPABILITY IMAP4rev1 AUTH=XOAUTH2");
                } else if line.contains("AUTHENTICATE") {
                    s.send("+ ");
                    let _ = s.line();
                }
                s.send_raw(fetch.as_bytes());
                s.send(&format!("{tag} OK done"));
            }
        });

        let run = probe.test(&[]);

        run.expect(0, "");
        let line = probe.line("XOAUTH2", "ok");
        assert!(run.stderr.starts_with(&line), "{}", run.stderr);
        run.no_panic();
        let lines = probe.server.lines();
        assert!(
            lines.iter().any(|l| l.ends_with("EXAMINE INBOX")),
            "{lines:?}"
        );
        assert!(lines.last().unwrap().ends_with("LOGOUT"), "{lines:?}");
    });
}

/// A literal larger than anything a login reads is refused when it is announced: mailtoken
/// neither waits for its octets nor makes room for them.
#[test]
fn an_oversized_literal_is_refused_when_announced() {
    let probe = Probe::start(Protocol::Imap, true, |s: &mut Session| {
        s.send("* OK fake IMAP ready");
        while let Some(line) = s.line() {
            let tag = line.split(' ').next().unwrap_or("*").to_string();
            s.send("* 1 FETCH (BODY[] {4294967295}");
            s.stall();
            s.send(&format!("{tag} OK done"));
        }
    });

    let run = probe.test(&[]);

    run.expect(75, "");
    let line = probe.line("XOAUTH2", "bad reply");
    assert!(run.stderr.starts_with(&line), "{}", run.stderr);
    run.says(
        "the server announced a literal of 4294967295 bytes asking for the capabilities; a login \
         test reads at most 65536",
    );
    run.says("server said: * 1 FETCH (BODY[] {4294967295}");
    no_login_attempted(&probe);
}

/// An `[ALERT]` must reach the user (RFC 3501 section 7.1): one sent before a refusal is shown
/// under it, with the refusal. Reconstructed: Gmail sends this alert as its tagged NO to a password
/// login (`NO [ALERT] Please log in via your web browser: ...`, MailSystem.NET issue #17), here
/// untagged before the refusal of tests/corpus/mail_answers.md.
const ALERT: &str = "* NO [ALERT] Please log in via your web browser: \
                     https://support.google.com/mail/accounts/answer/78754 (Failure)";

#[test]
fn an_alert_before_a_refusal_is_shown() {
    let alerting = xoauth2_only(Protocol::Imap, |s, tag, said| match said {
        Said::Login => {
            s.send(ALERT);
            s.reply(
                &format!("{tag} NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)"),
                true,
            )
        }
        Said::Command(_) => s.reply(&format!("{tag} OK bye"), false),
    });
    let probe = Probe::start(Protocol::Imap, true, alerting);

    let run = probe.test(&[]);

    run.expect(69, "");
    run.says("server said: a2 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)");
    run.says(&format!("server alert: {ALERT}"));
}

/// A server offering SASL-IR (RFC 4959), as Gmail, Microsoft and Yahoo do
/// (tests/corpus/mail_answers.md), gets the initial response on the AUTHENTICATE line, one round
/// trip fewer; its failure challenge is still answered so that it can finish with its NO.
#[test]
fn imap_sends_the_initial_response_on_the_command_line_when_sasl_ir_is_offered() {
    let cases = [
        ("accepted", (CACHED_TOKEN, 0)),
        ("refused", ("another-token", 69)),
    ];
    each_case(cases, |(accepted, code)| {
        let mut behaviour = Behaviour::accepting(accepted);
        behaviour.sasl_ir = true;
        let probe = Probe::start(Protocol::Imap, true, serving(Protocol::Imap, behaviour));

        let run = probe.test(&[]);

        run.expect(code, "");
        let port = probe.server.port;
        let lines = probe.server.lines();
        let at = lines
            .iter()
            .position(|line| line.contains(" AUTHENTICATE "))
            .unwrap();
        let words: Vec<&str> = lines[at].split(' ').collect();
        assert_eq!(words[1..3], ["AUTHENTICATE", "XOAUTH2"], "{lines:?}");
        assert_eq!(
            decode_text(words[3]),
            expected_sasl(SaslMethod::Xoauth2, port, CACHED_TOKEN)
        );
        if code == 0 {
            assert!(lines[at + 1].ends_with(" EXAMINE INBOX"), "{lines:?}");
        } else {
            assert_eq!(lines[at + 1], "", "the challenge is answered: {lines:?}");
            run.says("challenge: status 401, schemes bearer, scope https://mail.google.com/");
            run.says("server said: a2 NO [AUTHENTICATIONFAILED] Authentication failed.");
        }
    });
}
