//! One account's token file: load (read, check, decrypt, parse), save (encrypt, read back,
//! atomic write; in `write`) and lock, with every failure turned into an error that says what to
//! run next. This is where the refresh token is written; `refresh` decides when.
//!
//! `account` is one account and the reading of its file, `write` the writing; `contents` is the
//! schema inside the encryption, `parse` reads either it or `mutt_oauth2`'s older one,
//! `overrides` the flags that replace stored values, `remembered` what is known about the login
//! beside the file, and `recovery` keeps a token set the file could not take.

mod account;
mod contents;
mod mutt_oauth2;
mod overrides;
mod parse;
pub(crate) mod recovery;
pub(crate) mod remembered;
mod write;

pub(crate) use account::{Account, Loaded};
pub use contents::{FORMAT_VERSION, Flow, SignedIn, TokenFile};
pub(crate) use overrides::Overrides;
pub use parse::Schema;
pub(crate) use write::Room;
