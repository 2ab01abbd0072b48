//! The PKCE callback listener under interference, end to end: the real binary, test browsers (Python) that
//! follow the simulator's authorize redirect back to awsso's loopback listener, and other local clients that
//! reach the listener first: forged or missing `state`, stray paths, idle connections. Only the browser that
//! got the URL can end the login.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::*;

/// `src/login/pkce.rs` CONNECTION_TIMEOUT: how long awsso gives one connection to send its request.
const PER_CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// An executable Python "browser" in the user's HOME that writes what it saw to `browser.json`.
fn browser(user: &User, body: &str) -> (PathBuf, PathBuf) {
    let out = user.home.path().join("browser.json");
    let path = user.home.path().join("test-browser");
    let prelude = format!(
        r#"#!/usr/bin/env python3
import json, socket, sys, threading, time, urllib.error, urllib.parse, urllib.request
OUT = {out:?}
url = sys.argv[1]
query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
callback = urllib.parse.urlsplit(query["redirect_uri"][0])
base = "http://%s:%d" % (callback.hostname, callback.port)
def get(target):
    try:
        return urllib.request.urlopen(base + target, timeout=20).status
    except urllib.error.HTTPError as e:
        return e.code
    except Exception as e:
        return repr(e)
def done(result):
    with open(OUT + ".tmp", "w") as f:
        json.dump(result, f)
    import os
    os.rename(OUT + ".tmp", OUT)
"#,
        out = out.display().to_string()
    );
    write_executable(&path, &format!("{prelude}{body}"));
    (path, out)
}

/// The browser runs in the background of awsso: wait for its report.
fn report(path: &Path) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(s) = std::fs::read_to_string(path) {
            return serde_json::from_str(&s).unwrap();
        }
        assert!(Instant::now() < deadline, "the test browser never reported");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn forged_or_missing_state_and_stray_requests_do_not_abort_the_login() {
    let user = User::new(quick());
    // Before the real answer: the real redirect with a forged state (what a page that guessed the port
    // and saw a code could send), a callback with no state at all, and a stray path. Then the real one.
    let (b, out) = browser(
        &user,
        r#"class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
try:
    urllib.request.build_opener(NoRedirect).open(url, timeout=20)
    location = None
except urllib.error.HTTPError as e:
    location = e.headers["Location"]
import re
real = urllib.parse.urlsplit(location)
target = real.path + "?" + real.query
forged = get(re.sub(r"state=[^&]*", "state=forged", target))
stateless = get(re.sub(r"&?state=[^&]*", "", target))
stray = get("/favicon.ico")
answer = get(target)
done({"forged": forged, "stateless": stateless, "stray": stray, "answer": answer})
"#,
    );
    let r = pkce_login(&user, &b, 30);
    r.ok()
        .stderr_has("Logged in to session d-test123")
        .stderr_has("Ignored a request to the sign-in listener");
    let seen = report(&out);
    assert_eq!(seen["forged"], 400, "{seen}");
    assert_eq!(seen["stateless"], 400, "{seen}");
    assert_eq!(seen["stray"], 404, "{seen}");
    assert_eq!(seen["answer"], 200, "{seen}");
    // The forged request carried the real code: it was not redeemed for it, only for the real answer.
    assert_eq!(user.sim.count("CreateToken.authorization_code"), 1);
    assert_eq!(user.status_json()[0]["state"], "valid");
}

#[test]
fn only_forged_answers_end_in_the_timeout_with_nothing_stored() {
    let user = User::new(quick());
    let (b, out) = browser(
        &user,
        r#"class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
try:
    urllib.request.build_opener(NoRedirect).open(url, timeout=20)
except urllib.error.HTTPError as e:
    location = urllib.parse.urlsplit(e.headers["Location"])
import re
done({"forged": get(re.sub(r"state=[^&]*", "state=forged", location.path + "?" + location.query))})
"#,
    );
    let r = pkce_login(&user, &b, 3);
    r.fails_with(1)
        .stderr_has("did not come back within 3 s")
        .stderr_has("hint:");
    assert_eq!(report(&out)["forged"], 400);
    assert_eq!(
        user.sim.count("CreateToken"),
        0,
        "the code was never redeemed"
    );
    assert_eq!(user.status_json()[0]["state"], "none");
}

#[test]
fn an_idle_connection_does_not_hold_up_the_real_callback() {
    let user = User::new(quick());
    // Opens a connection that never sends anything (as a browser's preconnect or a port scanner does),
    // watches in a thread when awsso closes it, then follows the real sign-in.
    let (b, out) = browser(
        &user,
        r#"idle = socket.create_connection((callback.hostname, callback.port))
time.sleep(0.2)
opened = time.monotonic()
closed = {}
def watch():
    idle.settimeout(60)
    try:
        idle.recv(1)
    except Exception:
        pass
    closed["at"] = time.monotonic()
threading.Thread(target=watch, daemon=True).start()
status = urllib.request.urlopen(url, timeout=30).status
answered = time.monotonic()
# awsso may drop the idle connection as it ends, right after answering: only a close well before the
# answer means the callback waited for it.
closed_first = "at" in closed and closed["at"] < answered - 0.25
done({"status": status, "answered_after": answered - opened, "idle_closed_first": closed_first})
"#,
    );
    let r = pkce_login(&user, &b, 60);
    r.ok().stderr_has("Logged in to session d-test123");
    let seen = report(&out);
    assert_eq!(seen["status"], 200, "{seen}");
    // Ordering: the callback was answered while the idle connection was still open, so it did not wait
    // for awsso to give up on that connection.
    assert_eq!(seen["idle_closed_first"], false, "{seen}");
    let after = seen["answered_after"].as_f64().unwrap();
    assert!(
        after < PER_CONNECTION_TIMEOUT.as_secs_f64() / 2.0,
        "the callback took {after:.1} s, against a per-connection timeout of {PER_CONNECTION_TIMEOUT:?}: {seen}"
    );
}
