//! Sources: where blobs come from (working trees, stdin, git history) with their provenance.

pub mod files;
pub mod git;
pub mod paths;
pub mod repos;
pub mod state;
pub mod stdin;
