//! The words of one account that every chapter shares: [`Account`] (the token file a name or path
//! stands for, and how it is encrypted) and [`Loaded`] (its contents as read). Its methods are the
//! story's (`mod.rs`).

use std::path::PathBuf;

use zeroize::Zeroizing;

use super::contents::TokenFile;
use super::parse::Schema;
use crate::base::private_files::FileId;
use crate::store::encryption::Crypto;

/// A token file and the means to open it.
pub(crate) struct Account {
    pub(super) path: PathBuf,
    /// TOKENFILE as the user typed it, for commands we suggest.
    pub(super) given: String,
    pub(super) crypto: Crypto,
    /// `--min-valid` for this call, put on every token read (and so never stored).
    pub(super) min_valid: Option<u32>,
}

/// A token file's contents as read from disk.
pub(crate) struct Loaded {
    pub token: TokenFile,
    pub schema: Schema,
    /// Which version of the file this is.
    pub file: FileId,
    /// The decrypted text, kept (not copied) so that a rewrite of the same version needs no
    /// second decryption (`reread`).
    pub(super) plaintext: Zeroizing<Vec<u8>>,
}
