//! Real answers of Google, Microsoft and Yahoo, replayed by a fake provider at the place they
//! were given (token endpoint during a refresh, a client-credentials renewal or a code exchange;
//! the device authorization endpoint; the device poll; the browser's redirect). AOL runs on
//! Yahoo's platform, but the corpus holds no answer captured from AOL.
//!
//! Each answer in `tests/corpus/provider_answers.rs` is copied from a public source named beside
//! it; what a source did not show is said there (RECONSTRUCTED: the body; INFERRED: the status
//! or the grant type). For each one the run must end with the expected exit status, a hint naming the fix, the
//! provider's own words (code, AADSTS number, trace id) on stderr, nothing on stdout, no secret
//! anywhere, and the token file byte for byte as it was.

use crate::support::*;
use chrono::Utc;
use mailtoken::testing::tokenfile::Flow;

/// Where a recorded answer was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Refresh,
    CodeExchange,
    ClientCredentials,
    DeviceAuthorization,
    DevicePoll,
    Redirect,
}

/// One recorded answer and what mailtoken must make of it.
struct Answer {
    name: &'static str,
    provider: &'static str,
    endpoint: Endpoint,
    http_status: u16,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    /// Rebuilt from a source that did not show the body verbatim (the corpus says how).
    reconstructed: bool,
    /// What the entry supplies that its source did not show, the HTTP status or the grant type
    /// (the place it is replayed at), or "" (the corpus says on what grounds, after INFERRED:).
    /// The body is still verbatim: not reconstructed.
    inferred: &'static str,
    expect_exit: i32,
    expect_hint: &'static str,
    expect_message: &'static [&'static str],
}

const ANSWERS: &[Answer] = &include!("../corpus/provider_answers.rs");

/// The fake provider's reply for the recorded answer.
fn recorded_reply(answer: &Answer) -> Reply {
    let content_type = answer
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| *value)
        // An answer recorded without a body and without a Content-Type had none (glewlwyd's).
        .unwrap_or(if answer.body.is_empty() {
            ""
        } else {
            "application/json"
        });
    let mut reply = Reply::raw(answer.http_status, content_type, answer.body);
    for (name, value) in answer.headers {
        if !name.eq_ignore_ascii_case("content-type") {
            reply = reply.with_header(name, value);
        }
    }
    reply
}

/// A device authorization that succeeds, so the poll gets to the recorded answer.
fn device_granted() -> Reply {
    Reply::json(
        200,
        serde_json::json!({
            "device_code": "device-code-1",
            "user_code": "WDJB-MJHT",
            "verification_uri": "https://example.com/device",
            "expires_in": 600,
            "interval": 1,
        }),
    )
}

/// Replays one answer and returns the run.
fn replay(answer: &'static Answer) -> (Run, Vec<u8>, Vec<u8>) {
    let sandbox = Sandbox::new();
    let endpoint = answer.endpoint;
    let polls = std::sync::atomic::AtomicUsize::new(0);
    let server = FakeServer::start(move |request| match (endpoint, request.path.as_str()) {
        (Endpoint::DevicePoll, "/device") => device_granted(),
        (Endpoint::DevicePoll, "/token")
            if polls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 0 =>
        {
            Reply::token("access-after-pending", Some("refresh-2"), 3600)
        }
        _ => recorded_reply(answer),
    });

    let mut registration = test_registration(&server.token_endpoint());
    registration.provider = answer.provider.into();
    registration.scope = "mail offline_access".into();
    let mut token = token_file(registration, sandbox.age_spec(), Utc::now());
    if endpoint == Endpoint::ClientCredentials {
        token.flow = Flow::Clientcredentials;
        token.refresh_token = None;
    }
    let path = sandbox.path("account");
    sandbox.write_token(&path, &token);
    let before = std::fs::read(&path).unwrap();

    let flow = match endpoint {
        Endpoint::Refresh | Endpoint::ClientCredentials => None,
        Endpoint::CodeExchange | Endpoint::Redirect => Some("authcode"),
        Endpoint::DeviceAuthorization | Endpoint::DevicePoll => Some("devicecode"),
    };
    let run = match flow {
        None => sandbox.run(&[path.to_str().unwrap()]),
        Some(flow) => {
            let mut args = strings(&[
                path.to_str().unwrap(),
                "--authorize",
                "--authflow",
                flow,
                "--auth-timeout",
                "20",
            ]);
            for (flag, place) in [
                ("--authorize-endpoint", "/authorize"),
                ("--token-endpoint", "/token"),
                ("--devicecode-endpoint", "/device"),
            ] {
                args.push(flag.into());
                args.push(format!("{}{place}", server.url));
            }
            let mut running = Running::start(&sandbox, &args, None);
            if flow == "authcode" {
                let url = running.wait_for_stderr("/authorize?").trim().to_string();
                let line = match endpoint {
                    Endpoint::Redirect => {
                        let state = &query_of(&url)["state"];
                        format!("http://127.0.0.1/?{}", answer.body.replace("STATE", state))
                    }
                    _ => "recorded-code".to_string(),
                };
                running.wait_for_stderr("paste it here");
                running.type_in(&format!("{line}\n"));
            }
            running.finish()
        }
    };
    let after = std::fs::read(&path).unwrap();
    (run, before, after)
}

#[test]
fn the_corpus_is_large_and_covers_every_provider_and_place() {
    assert!(ANSWERS.len() >= 40, "{} answers", ANSWERS.len());
    for provider in ["google", "microsoft", "yahoo"] {
        assert!(
            ANSWERS.iter().filter(|a| a.provider == provider).count() >= 4,
            "{provider}"
        );
    }
    for endpoint in [
        Endpoint::Refresh,
        Endpoint::CodeExchange,
        Endpoint::ClientCredentials,
        Endpoint::DeviceAuthorization,
        Endpoint::DevicePoll,
        Endpoint::Redirect,
    ] {
        assert!(
            ANSWERS.iter().any(|a| a.endpoint == endpoint),
            "{endpoint:?}"
        );
    }
    let mut names: Vec<_> = ANSWERS.iter().map(|a| a.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), ANSWERS.len(), "names are unique");
}

#[test]
fn every_recorded_answer_gets_its_exit_status_hint_and_words() {
    // Two at a time: the runs wait on sockets and device-poll intervals, not on the processor.
    let failures: Vec<String> = std::thread::scope(|scope| {
        let halves = ANSWERS.split_at(ANSWERS.len() / 2);
        let workers = [halves.0, halves.1].map(|answers| {
            scope.spawn(move || answers.iter().filter_map(check).collect::<Vec<_>>())
        });
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// Replays one answer; `None` when everything holds, else what did not.
fn check(answer: &'static Answer) -> Option<String> {
    let (run, before, after) = replay(answer);
    let mut wrong = Vec::new();
    if run.code != answer.expect_exit {
        wrong.push(format!("exit {} (want {})", run.code, answer.expect_exit));
    }
    if answer.expect_exit == 0 {
        if run.stdout != "access-after-pending\n" {
            wrong.push(format!("stdout {:?}", run.stdout));
        }
    } else {
        if !run.stdout.is_empty() {
            wrong.push(format!("stdout {:?}", run.stdout));
        }
        if before != after {
            wrong.push("the token file changed".into());
        }
        let hint = run.stderr.split("hint: ").nth(1).unwrap_or("");
        if !hint.contains(answer.expect_hint) {
            wrong.push(format!("the hint does not name {:?}", answer.expect_hint));
        }
    }
    for words in answer.expect_message {
        if !run.stderr.contains(words) {
            wrong.push(format!("stderr lacks {words:?}"));
        }
    }
    for secret in SECRETS {
        if run.stderr.contains(secret) {
            wrong.push(format!("stderr shows the secret {secret:?}"));
        }
    }
    if run.stderr.chars().any(|c| c.is_control() && c != '\n') {
        wrong.push("stderr has control characters".into());
    }
    if wrong.is_empty() {
        return None;
    }
    // A rebuilt body, or a status or grant type the source did not show, may be what is wrong:
    // the reader should know before trusting the answer.
    let mut doubts = Vec::new();
    if answer.reconstructed {
        doubts.push("reconstructed".to_string());
    }
    if !answer.inferred.is_empty() {
        doubts.push(format!("{} inferred", answer.inferred));
    }
    let doubts = if doubts.is_empty() {
        String::new()
    } else {
        format!(" ({})", doubts.join("; "))
    };
    Some(format!(
        "{}{doubts}: {}\n{}",
        answer.name,
        wrong.join("; "),
        run.stderr
    ))
}

/// Each entry's comment and its fields agree on what the source did not show: RECONSTRUCTED
/// exactly where `reconstructed`, INFERRED: exactly where `inferred` names something, naming
/// each part it names.
#[test]
fn every_entry_says_what_its_source_did_not_show() {
    let corpus = std::fs::read_to_string(repository("tests/corpus/provider_answers.rs"))
        .expect("tests/corpus/provider_answers.rs");
    // Each entry: the comment lines before `Answer {`, then its fields, up to the next comment.
    let entries: Vec<&str> = corpus.split("\n// Source: ").skip(1).collect();
    assert_eq!(
        entries.len(),
        ANSWERS.len(),
        "an entry without its Source comment"
    );
    for (entry, answer) in entries.iter().zip(ANSWERS) {
        let (comment, fields) = entry.split_once("\nAnswer {").expect("an entry");
        assert!(
            fields.contains(&format!("name: \"{}\"", answer.name)),
            "the entries are not in the corpus's order at {}",
            answer.name
        );
        assert_eq!(
            comment.contains("RECONSTRUCTED"),
            answer.reconstructed,
            "{}: RECONSTRUCTED in its comment, and `reconstructed`",
            answer.name
        );
        assert_eq!(
            comment.contains("INFERRED:"),
            !answer.inferred.is_empty(),
            "{}: INFERRED: in its comment, and `inferred`",
            answer.name
        );
        // A comment that says the source left something out names what was supplied.
        for words in ["not shown", "not stated", "not given", "not in the excerpt"] {
            assert!(
                !comment.contains(words)
                    || comment.contains("INFERRED:")
                    || comment.contains("RECONSTRUCTED"),
                "{}: its source is {words:?}, but the entry says nothing is INFERRED: or \
                 RECONSTRUCTED",
                answer.name
            );
        }
        for part in answer.inferred.split(", ").filter(|part| !part.is_empty()) {
            assert!(
                ["status", "grant type"].contains(&part),
                "{}: inferred {part:?}",
                answer.name
            );
            let said = comment.split("INFERRED:").nth(1).unwrap_or_default();
            let words = if part == "status" {
                "HTTP status"
            } else {
                part
            };
            assert!(
                said.contains(words),
                "{}: INFERRED: does not say {words}",
                answer.name
            );
        }
    }
}

/// docs/providers.md lists every row of the classification table.
#[test]
fn the_providers_page_lists_every_rule() {
    use mailtoken::testing::provider_answer::{Key, RULES};
    let page = std::fs::read_to_string(repository("docs/providers.md")).expect("docs/providers.md");
    for rule in RULES {
        let named = match rule.key {
            Key::Aadsts(number) => format!("AADSTS{number}"),
            Key::Code(code) | Key::CodeAt(code, _) => format!("`{code}`"),
            Key::CodeSaying(code, _) => format!("`{code}`"),
        };
        assert!(page.contains(&named), "docs/providers.md lacks {named}");
    }
}
