//! Every account and role a person can use in a session: enumeration against the portal (concurrent,
//! rate-aware, all-or-nothing) and the on-disk cache that lets completion and lookups skip the network.
use serde::{Deserialize, Serialize};

/// One account the person is assigned to, with the roles (permission sets) they can use in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// 12 digits.
    pub id: String,
    /// As the portal returns it: untrusted text (may hold newlines, brackets, quotes, escapes).
    pub name: String,
    pub email: Option<String>,
    /// Sorted, deduplicated.
    pub roles: Vec<String>,
}

/// The complete listing of one session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    pub session: String,
    pub start_url: String,
    pub region: String,
    /// Unix seconds.
    pub fetched_at: i64,
    /// Sorted by account id.
    pub accounts: Vec<Account>,
}
