"""The AWS SDK for JavaScript v3 (@aws-sdk/credential-providers from npm, pinned by tests/js/package-lock.json,
installed by scripts/test.sh with `npm ci`) reads what awsso writes: the real awsso binary, the simulator
binary, the real keyring; node runs tests/js/resolve.mjs in the user's isolated HOME and AWS config.

1. Process profiles (`awsso sync`): `fromIni` and `fromProcess` run `awsso creds` and return exactly the
   credentials the simulator issued for the profile's account and role.
2. Native profiles (`awsso sync --mode native` + `awsso login --export-cli-cache`): `fromSSO` (and `fromIni`,
   which hands such a profile to the same code) reads the exported token (sso-session form,
   ~/.aws/sso/cache/sha1(session).json) and calls the simulator's portal itself (the SDK honours
   AWS_ENDPOINT_URL_SSO), returning the credentials the simulator issued to it.
3. With 4 minutes left on the exported token, the SDK refuses it (inside its 5-minute window it wants to
   refresh, and the export has no refresh token); once awsso has run again it must have re-exported a fresh
   token, so that fromSSO works again.
"""
import datetime

import pytest

from awsso_harness import JS_DIR, IsolatedUser, simulator

START_URL = "https://d-pyjssdk001.awsapps.com/start"
SESSION = "d-pyjssdk001"
REGION = "eu-west-1"
ACCOUNT = "100000000002"
ROLE = "ReadOnlyAccess"


@pytest.fixture(autouse=True)
def js_sdk_installed():
    if not (JS_DIR / "node_modules" / "@aws-sdk" / "credential-providers").is_dir():
        pytest.fail("tests/js/node_modules is missing: run ./scripts/test.sh (it runs `npm ci` in tests/js)")


@pytest.fixture
def user(tmp_path):
    with simulator("--accounts", "3", "--roles", "2") as url:
        u = IsolatedUser(tmp_path / "home", url)
        yield u
        u.run("logout", "--all", check=False)


def login(user, *extra):
    return user.run("login", "--start-url", START_URL, "--region", REGION, "--no-browser", *extra)


def keys(issued):
    return {"accessKeyId": issued["access_key_id"], "secretAccessKey": issued["secret_access_key"],
            "sessionToken": issued["session_token"]}


def resolved(got):
    assert "error" not in got, got
    return {k: got[k] for k in ("accessKeyId", "secretAccessKey", "sessionToken")}


@pytest.mark.parametrize("provider", ["fromIni", "fromProcess"])
def test_process_profile(user, provider):
    login(user)
    user.run("sync")
    profile = user.profile_for(ACCOUNT, ROLE)
    got = user.js(provider, profile)
    issued = user.issued()
    assert [(c["account_id"], c["role_name"]) for c in issued] == [(ACCOUNT, ROLE)]
    assert resolved(got) == keys(issued[0])
    # The SDK parsed credential_process's Expiration: the simulator's, to the second.
    expiry = datetime.datetime.fromisoformat(got["expiration"].replace("Z", "+00:00"))
    assert int(expiry.timestamp()) == issued[0]["expiration_ms"] // 1000, got["expiration"]


def native_profile(user):
    user.run("sync", "--mode", "native")
    profile = user.profile_for(ACCOUNT, ROLE)
    assert user.profiles()[profile]["sso_session"] == SESSION
    return profile


@pytest.mark.parametrize("provider", ["fromSSO", "fromIni"])
def test_native_profile_with_the_exported_token(user, provider):
    login(user, "--export-cli-cache")
    profile = native_profile(user)
    before = user.count("GetRoleCredentials")
    got = user.js(provider, profile)
    assert user.count("GetRoleCredentials") == before + 1  # the SDK's own call, with awsso's token
    assert resolved(got) == keys(user.issued()[-1])

    user.run("logout")
    assert "error" in user.js(provider, profile)


def four_minutes_left(user):
    """Log in while the simulator issues 4-minute tokens, then warm awsso's role-credential cache."""
    user.sim_config(token_ttl=240)
    login(user, "--export-cli-cache")
    profile = native_profile(user)
    user.run("creds", "--session", SESSION, "--account-id", ACCOUNT, "--role-name", ROLE)
    return profile


def test_from_sso_refuses_an_exported_token_with_4_minutes_left(user):
    profile = four_minutes_left(user)
    got = user.js("fromSSO", profile)
    assert got.get("error"), got
    assert "Cannot refresh" in got["message"], got


def test_from_sso_works_again_once_awsso_has_run(user):
    profile = four_minutes_left(user)
    user.sim_config(token_ttl=3600)
    # A warm `awsso creds` (served from awsso's cache): awsso ran, so the exported token must be fresh.
    user.run("creds", "--session", SESSION, "--account-id", ACCOUNT, "--role-name", ROLE)
    got = user.js("fromSSO", profile)
    assert resolved(got) == keys(user.issued()[-1])
