//! An account's life after sign-in: where it stands, the silent refresh, and the commands that
//! list, report, check, notify, revoke, and change what is not the login (`set`).

pub(crate) mod account_state;
pub(crate) mod accounts;
pub(crate) mod background_sign_in;
pub(crate) mod check;
pub(crate) mod login_end;
pub(crate) mod notify;
pub(crate) mod refresh;
pub(crate) mod revoke;
pub(crate) mod set;
pub(crate) mod status;
