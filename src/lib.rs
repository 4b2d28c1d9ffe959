//! allstacks-cd: report CI/CD jobs to the Allstacks Custom CD webhook.
//!
//! Data flows one way: settings + environment → detected context → validated job → delivery
//! → outcome. `main.rs` only calls [`run`].

pub mod ci;
pub mod env;
pub mod git;
pub mod timefmt;
