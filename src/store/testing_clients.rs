//! The Google OAuth clients whose app is in "Testing" status, remembered across accounts.
//!
//! Google ends every login of such an app seven days after consent ("A Google Cloud Platform
//! project with an OAuth consent screen configured for an external user type and a publishing
//! status of 'Testing' is issued a refresh token expiring in 7 days", Google's "Using OAuth 2.0
//! to Access Google APIs", refresh token expiration), and says nothing of it in its answers. The
//! status belongs to the client, not to one account: it is declared at a sign-in
//! (`--testing-app`) or learnt from an `invalid_grant` that comes about seven days after a
//! sign-in, and then known for every account of that client. The list is `.testing-clients` in
//! the accounts directory, one client id a line, like `.elsewhere`.

use std::path::Path;

use crate::base::log;
use crate::base::private_files;
use crate::base::refresh_lock;

const FILE_NAME: &str = ".testing-clients";

/// How long to wait for another process updating the list.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether `client_id` is known to be a Testing app's.
pub(crate) fn is_testing(client_id: &str) -> bool {
    let Ok(dir) = super::known_accounts::directory() else {
        return false;
    };
    listed(&dir).iter().any(|known| known == client_id)
}

/// Remembers `client_id` as a Testing app's; says so. Never fails: a list that cannot be written
/// costs a warning, not the login.
pub(crate) fn remember(client_id: &str) {
    let Ok(dir) = super::known_accounts::directory() else {
        return;
    };
    if client_id.is_empty()
        || client_id.contains(['\n', '\r'])
        || listed(&dir).iter().any(|c| c == client_id)
    {
        return;
    }
    let list = dir.join(FILE_NAME);
    let written = private_files::create_private_dir(&dir)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            refresh_lock::lock(&list, LOCK_WAIT).map_err(|_| "its lock is held".to_string())
        })
        .and_then(|_lock| {
            let mut clients = listed(&dir);
            clients.push(client_id.to_string());
            let text: String = clients.iter().map(|c| format!("{c}\n")).collect();
            private_files::write_atomic(&list, text.as_bytes()).map_err(|e| e.to_string())
        });
    match written {
        Ok(()) => log::say(format!(
            "mailtoken: remembered that the client {} belongs to a Google app in Testing status: \
             its logins end 7 days after each sign-in",
            log::sanitize(client_id)
        )),
        Err(why) => log::warn(format!("cannot update {}: {why}", list.display())),
    }
}

fn listed(dir: &Path) -> Vec<String> {
    private_files::read_kept(&dir.join(FILE_NAME))
        .map(|bytes| {
            String::from_utf8_lossy(&bytes)
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}
