//! Whether the Secret Service can store a secret right now, asked without storing one and without ever
//! causing a prompt: `--store auto` uses it to fall back to the kernel keyring where a Secret Service answers
//! but cannot store (gnome-keyring started by D-Bus activation with no login collection; a locked collection
//! whose unlock prompt has no display to appear on).
use dbus_secret_service::{EncryptionType, Error, SecretService};

/// What the probe found.
#[derive(Debug)]
pub enum Probe {
    /// A default collection exists and is unlocked (or locked, with a display for the unlock prompt).
    Usable,
    /// No Secret Service answers on the session bus.
    Absent(String),
    /// A Secret Service answers but cannot store now; the reason is for the person.
    CannotStore(String),
}

/// Asks the Secret Service for its default collection and whether it is locked: a few D-Bus round trips, on
/// a connection of its own (the keyring crate keeps its own).
pub fn probe() -> Probe {
    // Plain: nothing secret crosses this connection, and it saves the key exchange.
    let ss = match SecretService::connect(EncryptionType::Plain) {
        Ok(ss) => ss,
        Err(e) => return Probe::Absent(e.to_string()),
    };
    let collection = match ss.get_default_collection() {
        Ok(c) => c,
        Err(Error::NoResult) => {
            return Probe::CannotStore("no default collection".into());
        }
        Err(e) => return Probe::Absent(e.to_string()),
    };
    match collection.is_locked() {
        Ok(false) => Probe::Usable,
        Ok(true) if has_display() => Probe::Usable,
        Ok(true) => Probe::CannotStore(
            "the default collection is locked and there is no display for the unlock prompt".into(),
        ),
        Err(e) => Probe::Absent(e.to_string()),
    }
}

/// Whether an unlock prompt (gcr-prompter) has somewhere to appear.
fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}
