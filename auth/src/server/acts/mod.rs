//! The acts, each for the request's visitor (`visitor.rs`): login (the redirect and the
//! callback), logout (every kind), tokens for server code; and the claims a session keeps
//! fresh (`claims.rs`).
pub(crate) mod claims;
pub(crate) mod login;
pub(crate) mod logout;
pub(crate) mod step_up;
pub(crate) mod tokens;
pub(crate) mod visitor;
