//! One account's token file: load (read, check, decrypt, parse), save (encrypt, read back,
//! atomic write; in `write`) and lock, with every failure turned into an error that says what to
//! run next. This is where the refresh token is written; `refresh` decides when.
//!
//! `contents` is the schema inside the encryption, `mutt_oauth2` the older schema it still reads,
//! `overrides` the flags that replace stored values, and `recovery` keeps a token set the file
//! could not take.

mod account;
mod contents;
mod mutt_oauth2;
mod overrides;
mod parse;
pub(crate) mod recovery;
pub(crate) mod remembered;
mod write;

pub(crate) use account::{Account, Loaded};
pub use contents::{FORMAT_VERSION, Flow, TokenFile};
pub(crate) use overrides::Overrides;
pub use parse::Schema;
pub(crate) use write::Room;
