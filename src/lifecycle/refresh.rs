//! The silent refresh: print the cached token while it has life left, otherwise refresh it once
//! for all the processes that ask at the same moment.
//!
//! Mail clients, msmtp, mbsync and cron often call at once. Providers that rotate refresh tokens
//! revoke the whole login when an old refresh token is sent again, so a refresh happens only
//! under the per-file lock, after re-reading the file, and is skipped when another process has
//! already refreshed.

use chrono::Utc;

use crate::base::error::{Error, ExitStatus, Result};
use crate::base::held_signals;
use crate::base::log;
use crate::base::refresh_lock;
use crate::lifecycle::account_state::State;
use crate::lifecycle::login_end;
use crate::oauth::grant::{self, GrantFailure, Granted};
use crate::oauth::http::Http;
use crate::oauth::provider_answer::{Endpoint, Situation};
use crate::store::tokenfile::{Account, Flow, Loaded, Overrides, Room, Schema, Stored, TokenFile};

/// How long to wait for another process's refresh while the cached token still works.
const BUSY_WAIT_WITH_VALID_TOKEN: std::time::Duration = std::time::Duration::from_secs(5);

/// Where the printed token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// From the file, still valid; nothing was sent anywhere.
    Cached,
    /// A refresh failed temporarily, and the cached token, not yet expired, was used.
    CachedAfterFailure,
    /// This process refreshed it.
    Refreshed,
    /// Another process refreshed it while this one waited for the lock.
    RefreshedElsewhere,
    /// This process refreshed it and could not write the file; the new tokens are in the
    /// recovery file.
    RefreshedUnsaved,
}

/// The account's token, ready to use.
pub(crate) struct Current {
    pub token: TokenFile,
    pub source: Source,
}

impl Current {
    /// The token as this call uses it: the stored one with the flags' client values on top.
    fn for_this_run(mut token: TokenFile, overrides: &Overrides, source: Source) -> Current {
        overrides.apply_to_client(&mut token);
        Current { token, source }
    }
}

/// Returns a valid access token, refreshing it if its life is nearly over, or always with
/// `force` (a server just rejected it). A forced refresh never falls back to the cached token.
///
/// The flags in `overrides` apply to this call alone: the token returned carries them, the file
/// never does (only `--authorize` changes an account). A refresh stores the new tokens and
/// nothing else.
///
/// The story of one call, in order: load and decide, lock, re-read, prove the write, grant, store.
pub(crate) fn current_token(
    account: &Account,
    overrides: &Overrides,
    force: bool,
) -> Result<Current> {
    current_token_from(account, account.load()?, overrides, force)
}

/// `current_token` for a file its caller has already loaded (`--check` reads each account once
/// to judge it, and refreshes from that reading).
pub(crate) fn current_token_from(
    account: &Account,
    loaded: Loaded,
    overrides: &Overrides,
    force: bool,
) -> Result<Current> {
    // Decide. The hot path ends here: no lock, no network, no subprocess. A login the provider
    // ended stays ended, whatever the cached access token says, until a sign-in.
    let state = State::decide(
        &loaded.token,
        account.remembered(&loaded).as_ref(),
        Utc::now(),
    );
    if let Some(error) = state.sign_in_error(account) {
        return Err(error);
    }
    if !force && state == State::Ok {
        return Ok(Current::for_this_run(
            loaded.token,
            overrides,
            Source::Cached,
        ));
    }

    // Lock. A still-valid token is worth more than a long wait: another process is refreshing,
    // and the mail client is waiting for us.
    let still_valid = !force && !loaded.token.is_expired(Utc::now());
    let wait = if still_valid {
        BUSY_WAIT_WITH_VALID_TOKEN
    } else {
        refresh_lock::LOCK_WAIT
    };
    // A lock that cannot be had at all (a read-only directory that has no lock file yet) stops
    // the refresh, not the token that still works.
    let _lock = match account.lock_waiting(wait) {
        Ok(lock) => lock,
        Err(error) if still_valid => {
            return Ok(cached_after_failure(
                loaded.token,
                overrides,
                error.message(),
            ));
        }
        Err(error) => return Err(error),
    };

    // Re-read under the lock: another process may have refreshed, found the login ended, or left
    // tokens it could not store. An unchanged file is not decrypted again.
    let first_access_token = loaded.token.access_token.clone();
    let loaded = account.reread(loaded)?;
    let file_size = loaded.file.size;
    let now = Utc::now();
    let remembered = account.remembered(&loaded);
    if let Some(error) =
        State::decide(&loaded.token, remembered.as_ref(), now).sign_in_error(account)
    {
        return Err(error);
    }
    let schema = loaded.schema;
    let mut stored = loaded.token;
    account.adopt_kept(&mut stored);
    if stored.access_token != first_access_token && !stored.is_expired(now) {
        log::verbose("another mailtoken process refreshed the token meanwhile");
        return Ok(Current::for_this_run(
            stored,
            overrides,
            Source::RefreshedElsewhere,
        ));
    }
    if !force && stored.is_fresh(now) {
        return Ok(Current::for_this_run(stored, overrides, Source::Cached));
    }
    let mut for_request = stored.clone();
    overrides.apply_to_client(&mut for_request);
    check_refreshable(account, &for_request)?;

    // Prove the write and take its room: never spend a (possibly rotating) refresh token unless
    // its result can be stored.
    let mut room = match account.prove_save(&stored, file_size) {
        Ok(room) => room,
        Err(error) if !force && !stored.is_expired(Utc::now()) => {
            let why = format!("{}; not refreshing", error.message());
            return Ok(cached_after_failure(stored, overrides, &why));
        }
        Err(error) => {
            return Err(error.context("not refreshing, because the result could not be stored"));
        }
    };

    // Grant. From the request until its answer is stored, every signal that would end the process
    // waits (`held_signals`): the provider may already have rotated the refresh token.
    let _held = held_signals::hold();
    let requested_at = Utc::now();
    let granted = match request_new_token(&for_request) {
        Ok(granted) => granted,
        Err(failure) => {
            let sent = Sent::from(&stored, &for_request);
            return refresh_failed(account, stored, overrides, failure, force, &mut room, sent);
        }
    };

    // Store. A failed write still prints the new token: the set is kept for the next call.
    stored.record(granted, requested_at);
    if schema == Schema::MuttOauth2 {
        log::verbose("converting the mutt_oauth2.py token file to mailtoken's format");
    }
    if account.store_refreshed(&mut stored, &mut room) == Stored::Kept {
        return Ok(Current::for_this_run(
            stored,
            overrides,
            Source::RefreshedUnsaved,
        ));
    }
    crate::store::known_accounts::remember(account.path());
    log::verbose(format!(
        "new access token valid until {}",
        log::local_time(stored.access_token_expiry)
    ));
    Ok(Current::for_this_run(stored, overrides, Source::Refreshed))
}

/// Where a refresh request went, for what its failure may say and record.
struct Sent {
    /// The host of the token endpoint the request went to (`--token-endpoint` replaces the
    /// stored one for one run): the one every message names.
    host: String,
    /// Whether it went with the stored client to the stored endpoint. An answer to a one-off
    /// `--token-endpoint` or `--client-id` says nothing about the stored login, so it is not
    /// recorded as its state.
    as_stored: bool,
}

impl Sent {
    fn from(stored: &TokenFile, for_request: &TokenFile) -> Sent {
        Sent {
            host: for_request.registration.token_host().to_string(),
            as_stored: for_request.registration.token_endpoint
                == stored.registration.token_endpoint
                && for_request.client_id == stored.client_id,
        }
    }
}

/// A refresh the provider refused or could not answer: the cached token while it still works and
/// the failure is temporary (unless forced), otherwise the classified error. What the provider
/// said is remembered: a login it ended stays ended (only a "sign in again" answer from the
/// provider itself, to the stored client at the stored endpoint, records that), and a temporary
/// failure says since when.
fn refresh_failed(
    account: &Account,
    mut token: TokenFile,
    overrides: &Overrides,
    failure: GrantFailure,
    force: bool,
    room: &mut Room,
    sent: Sent,
) -> Result<Current> {
    let failure = match failure {
        GrantFailure::Rotated {
            refresh_token,
            then,
        } => {
            account.store_rotated(&mut token, refresh_token, room);
            *then
        }
        failure => failure,
    };
    let command = account.authorize_command();
    let situation = Situation {
        what: match token.flow {
            Flow::Clientcredentials => "client credentials",
            _ => "refresh token",
        },
        host: &sent.host,
        provider: &token.registration.provider,
        authorize_command: &command,
        redirect_uri: None,
        login_exists: true,
    };
    // The refresh grant, or the client-credentials grant that stands in for it.
    let endpoint = match token.flow {
        Flow::Clientcredentials => Endpoint::Token,
        _ => Endpoint::Refresh,
    };
    let temporary = failure.is_temporary(endpoint);
    let provider_code = match &failure {
        GrantFailure::Refused(answer) => Some(answer.error.clone()),
        _ => None,
    };
    let error = failure.into_error(endpoint, &situation);
    match provider_code {
        _ if !sent.as_stored => {}
        Some(code) if error.status() == ExitStatus::Reauthorize => {
            account.record_ended(code.as_deref(), error.message());
            learn_testing_app(&token, code.as_deref());
        }
        _ if temporary => account.record_unreachable(error.message()),
        _ => {}
    }
    if !force && temporary && !token.is_expired(Utc::now()) {
        return Ok(cached_after_failure(token, overrides, error.message()));
    }
    Err(error)
}

/// A Google login that ends with `invalid_grant` about seven days after its sign-in is a Testing
/// app's (Google says nothing else of it): remembered for its client, so that every account of
/// that client foresees its end from then on (`login_end`).
fn learn_testing_app(token: &TokenFile, code: Option<&str>) {
    if token.registration.provider == "google"
        && code == Some("invalid_grant")
        && token
            .login_started
            .is_some_and(|started| login_end::looks_like_testing_expiry(started, Utc::now()))
    {
        crate::store::testing_clients::remember(&token.client_id);
    }
}

/// The cached token, still valid, when a refresh could not happen (`why`): said on stderr, since
/// the mail client only sees that it works.
fn cached_after_failure(token: TokenFile, overrides: &Overrides, why: &str) -> Current {
    log::warn(format!(
        "{why}; using the cached token, valid for {} s more",
        (token.access_token_expiry - Utc::now()).num_seconds()
    ));
    Current::for_this_run(token, overrides, Source::CachedAfterFailure)
}

/// Refuses early, with the command that fixes it, when no refresh can possibly work.
fn check_refreshable(account: &Account, token: &TokenFile) -> Result<()> {
    crate::oauth::provider::check_endpoint("token endpoint", &token.registration.token_endpoint)?;
    if token.client_id.is_empty() {
        return Err(Error::config(format!(
            "{} records no OAuth2 client id",
            account.path().display()
        ))
        .hint(format!(
            "pass --client-id ID (and --client-secret-file FILE if the client has one) with \
                 every call, or record them with '{} --client-id ID'",
            account.authorize_command()
        )));
    }
    if token.flow != Flow::Clientcredentials && token.refresh_token.is_none() {
        return Err(Error::reauthorize(format!(
            "{} has no refresh token, so the access token cannot be renewed",
            account.path().display()
        ))
        .hint(format!(
            "run '{}' to sign in again",
            account.authorize_command()
        )));
    }
    Ok(())
}

/// Asks the token endpoint for a new access token: the refresh_token grant, or for accounts
/// without a user, the client_credentials grant again.
fn request_new_token(token: &TokenFile) -> std::result::Result<Granted, GrantFailure> {
    let http = Http::new();
    let secret = token.client_secret.as_ref();
    match (&token.flow, &token.refresh_token) {
        (Flow::Clientcredentials, _) => grant::without_user(
            &http,
            &token.registration,
            &token.client_id,
            secret,
            token.credential.as_ref(),
            &token.email,
        ),
        (_, Some(refresh_token)) => grant::refresh(
            &http,
            &token.registration,
            &token.client_id,
            secret,
            refresh_token,
        ),
        // check_refreshable turns this case into a clearer error before any request.
        (_, None) => Err(GrantFailure::Malformed("no refresh token is stored".into())),
    }
}
