"""botocore against awsso, end to end: the real awsso binary, the simulator binary, the real keyring.

1. A profile written by `awsso sync` resolves in boto3 to exactly the credentials the simulator issued:
   botocore splits the `credential_process` line with shlex (here with a space in the awsso path) and runs
   `awsso creds`, which must print the credential_process JSON and nothing else.
2. The opt-in AWS CLI token cache (`awsso login --export-cli-cache`) lets botocore's own SSO provider
   resolve a native `sso_session` profile against the simulator; `awsso logout` takes it away again.

Binaries: $AWSSO_BIN / $AWSSO_SIM_BIN, default <target>/debug/awsso and awsso-sim, where <target> is
$AWSSO_TEST_TARGET_DIR or <repo>/target (build with `cargo build -p awsso -p awsso-sim`). The keyring is
whatever the environment provides (scripts/test.sh runs pytest under with-secret-service.sh, inside
`keyctl session -`); $AWSSO_TEST_STORE, when set, is passed on as AWSSO_STORE.
"""

import configparser
import hashlib
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import urllib.request

import boto3
import pytest

from awsso_harness import AWSSO_BIN, IsolatedUser, simulator

START_URL = "https://d-pytest0001.awsapps.com/start"
SESSION = "d-pytest0001"
REGION = "eu-west-1"
ACCOUNT = "100000000002"
ROLE = "ReadOnlyAccess"


@pytest.fixture
def sim():
    with simulator("--accounts", "3") as url:
        yield url


def admin(url, path):
    with urllib.request.urlopen(url + path, timeout=10) as resp:
        return json.loads(resp.read())


class User(IsolatedUser):
    """An isolated person: HOME, AWS config, awsso cache dir and keyring namespace. botocore in this
    process sees the same environment (and passes it on to the `awsso creds` it runs)."""
    def __init__(self, home, sim_url, monkeypatch):
        super().__init__(home, sim_url)
        for k in list(os.environ):
            if k.startswith("AWS_") or (k.startswith("AWSSO_") and not k.startswith("AWSSO_TEST_")):
                monkeypatch.delenv(k)
        for k, v in self.env.items():
            monkeypatch.setenv(k, v)

    def login(self, *extra):
        return self.run("login", "--start-url", START_URL, "--region", REGION, "--no-browser", *extra)

    def issued(self):
        return admin(self.sim_url, "/_sim/credentials")

    def count(self, op):
        return admin(self.sim_url, "/_sim/stats").get(op, 0)


@pytest.fixture
def user(tmp_path, sim, monkeypatch):
    u = User(tmp_path / "home", sim, monkeypatch)
    yield u
    u.run("logout", "--all", check=False)


def frozen(profile):
    creds = boto3.Session(profile_name=profile).get_credentials()
    assert creds is not None, f"botocore found no credentials for {profile}"
    return creds, creds.get_frozen_credentials()


RESOLVE = """
import json, sys, boto3
try:
    c = boto3.Session(profile_name=sys.argv[1]).get_credentials().get_frozen_credentials()
except Exception as e:
    print(json.dumps({"error": type(e).__name__, "message": str(e)}))
else:
    print(json.dumps({"access_key": c.access_key, "secret_key": c.secret_key, "token": c.token}))
"""


def resolve_in_new_process(user, profile):
    """A fresh SDK process: botocore fixes its token cache directory (~/.aws/sso/cache) from HOME at import
    time, so a native profile of this user must be resolved in a process started with the user's HOME."""
    r = subprocess.run(
        [sys.executable, "-c", RESOLVE, profile], env=user.env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_botocore_runs_awsso_creds_from_a_synced_profile(user, tmp_path):
    # A space in the path makes the credential_process line need quoting, which botocore undoes with shlex.
    tools = tmp_path / "my tools"
    tools.mkdir()
    exe = tools / "awsso"
    try:
        os.link(AWSSO_BIN, exe)
    except OSError:
        shutil.copy2(AWSSO_BIN, exe)
    user.login()
    user.run("sync", exe=str(exe))

    config = configparser.RawConfigParser()
    config.read(user.config)
    wanted = f"--account-id {ACCOUNT} --role-name {ROLE}"
    names = [
        s.removeprefix("profile ")
        for s in config.sections()
        if config.get(s, "credential_process", fallback="").endswith(wanted)
    ]
    assert len(names) == 1, config.sections()
    line = config.get(f"profile {names[0]}", "credential_process")
    assert shlex.split(line)[0] == str(exe), line

    assert user.count("GetRoleCredentials") == 0
    creds, got = frozen(names[0])
    issued = user.issued()
    assert len(issued) == 1
    want = issued[-1]
    assert (want["account_id"], want["role_name"]) == (ACCOUNT, ROLE)
    assert (got.access_key, got.secret_key, got.token) == (
        want["access_key_id"],
        want["secret_access_key"],
        want["session_token"],
    )
    # botocore parsed the Expiration: refreshable credentials expiring when the simulator said.
    assert int(creds._expiry_time.timestamp()) == want["expiration_ms"] // 1000

    # A second SDK process (a new botocore session) is served from awsso's cache.
    _, again = frozen(names[0])
    assert again == got
    assert user.count("GetRoleCredentials") == 1


def test_botocore_native_profile_uses_the_exported_token_cache(user):
    cache_file = user.home / ".aws" / "sso" / "cache" / (hashlib.sha1(SESSION.encode()).hexdigest() + ".json")
    user.login()
    assert not cache_file.exists(), "the plaintext copy was written without opting in"
    r = user.login("--export-cli-cache")
    assert "plaintext" in r.stderr, r.stderr
    assert stat.S_IMODE(cache_file.stat().st_mode) == 0o600
    token = json.loads(cache_file.read_text())
    assert token["startUrl"] == START_URL and token["region"] == REGION
    assert "refreshToken" not in token and "clientSecret" not in token

    with open(user.config, "a") as f:
        f.write(
            f"\n[profile native]\nsso_session = {SESSION}\nsso_account_id = {ACCOUNT}\n"
            f"sso_role_name = {ROLE}\nregion = {REGION}\n"
        )
    got = resolve_in_new_process(user, "native")
    want = user.issued()[-1]
    assert got == {
        "access_key": want["access_key_id"],
        "secret_key": want["secret_access_key"],
        "token": want["session_token"],
    }
    assert user.count("GetRoleCredentials") == 1  # botocore's own call, with awsso's token

    user.run("logout")
    assert not cache_file.exists(), "logout left the plaintext token behind"
    assert resolve_in_new_process(user, "native")["error"] == "SSOTokenLoadError"


def test_botocore_legacy_profile_uses_the_token_awsso_exported(user):
    """Issue 9: a legacy profile (sso_start_url in the profile, with the `#/` pasted from the portal) works
    in botocore's own SSO provider after `awsso login --profile P --export-cli-cache`: awsso writes the
    file botocore looks for in that case, sha1 of the start URL as written."""
    start_url = "https://d-pylegacy01.awsapps.com/start#/"
    with open(user.config, "w") as f:
        f.write(
            f"[profile team-dev]\nsso_start_url = {start_url}\nsso_region = {REGION}\n"
            f"sso_account_id = {ACCOUNT}\nsso_role_name = {ROLE}\nregion = {REGION}\n"
        )
    user.run("login", "--profile", "team-dev", "--no-browser", "--export-cli-cache")
    cache_file = user.home / ".aws" / "sso" / "cache" / (hashlib.sha1(start_url.encode()).hexdigest() + ".json")
    assert stat.S_IMODE(cache_file.stat().st_mode) == 0o600

    got = resolve_in_new_process(user, "team-dev")
    want = user.issued()[-1]
    assert got == {
        "access_key": want["access_key_id"],
        "secret_key": want["secret_access_key"],
        "token": want["session_token"],
    }
    # awsso's own credential_process path agrees on the same profile.
    out = json.loads(user.run("creds", "--profile", "team-dev").stdout)
    assert out["AccessKeyId"] == user.issued()[-1]["access_key_id"]

    user.run("logout", "--all")
    assert not cache_file.exists()
    assert resolve_in_new_process(user, "team-dev")["error"] in ("SSOTokenLoadError", "UnauthorizedSSOTokenError")
