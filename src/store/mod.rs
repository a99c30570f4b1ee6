//! One account on disk: its token file, the encryption around it, and the registry of every
//! account wherever its file lives.

pub(crate) mod encryption;
pub(crate) mod known_accounts;
pub(crate) mod testing_clients;
pub(crate) mod tokenfile;
