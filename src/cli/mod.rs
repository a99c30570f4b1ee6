//! The front: the command line as clap reads it, the validated settings of one run made from it,
//! and what goes to standard output.

pub(crate) mod args;
pub(crate) mod output;
pub(crate) mod settings;
pub(crate) mod values;
