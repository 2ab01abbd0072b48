"""The AWS CLI v2 (Debian's awscli, 2.9.x) reads what awsso writes: the real awsso binary, the simulator
binary, the real keyring, and a loopback STS endpoint.

awscli 2.9 has no AWS_ENDPOINT_URL_SSO, so it cannot reach the simulator's portal itself: these are
process-mode profiles (`credential_process = awsso creds ...`), which is what `awsso sync` writes by default.
After `awsso login` + `awsso sync`:
1. `aws configure list-profiles` lists every profile awsso wrote, and the user's own;
2. `aws configure export-credentials --profile P` prints the very credentials the simulator issued for P's
   account and role;
3. `aws sts get-caller-identity --profile P --endpoint-url http://127.0.0.1:PORT` sends a request signed
   with them: the recorder checks the access key id and session token in the request, and recomputes the
   SigV4 signature with the simulator's secret key.
"""
import datetime
import json
import subprocess

import pytest

from awsso_harness import AWS_CLI, IsolatedUser, sigv4_signature, simulator, sts_recorder

START_URL = "https://d-pyawscli01.awsapps.com/start"
REGION = "eu-west-1"
ACCOUNT = "100000000002"
ROLE = "ReadOnlyAccess"
USER_CONFIG = "# mine\n[default]\nregion = us-east-1\n\n[profile mine]\nregion = ap-south-1\n"


@pytest.fixture
def user(tmp_path):
    with simulator("--accounts", "3", "--roles", "2") as url:
        u = IsolatedUser(tmp_path / "home", url)
        u.config.write_text(USER_CONFIG)
        u.run("login", "--start-url", START_URL, "--region", REGION, "--no-browser")
        u.run("sync")
        yield u
        u.run("logout", "--all", check=False)


def test_awscli_is_debians_v2():
    out = subprocess.run([AWS_CLI, "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("aws-cli/2."), out.stdout + out.stderr


def test_list_profiles_shows_every_awsso_profile(user):
    listed = user.aws("configure", "list-profiles").stdout.split()
    written = user.profiles()
    assert len(written) == 1 + 3 * 2, sorted(written)  # mine + 3 accounts x 2 roles
    assert sorted(listed) == sorted(["default", *written]), listed


def test_export_credentials_are_the_simulators(user):
    profile = user.profile_for(ACCOUNT, ROLE)
    assert user.issued() == []
    got = json.loads(user.aws("configure", "export-credentials", "--profile", profile).stdout)
    issued = user.issued()
    assert [(c["account_id"], c["role_name"]) for c in issued] == [(ACCOUNT, ROLE)]
    want = issued[0]
    assert got["Version"] == 1
    assert (got["AccessKeyId"], got["SecretAccessKey"], got["SessionToken"]) == (
        want["access_key_id"], want["secret_access_key"], want["session_token"])
    expiry = datetime.datetime.fromisoformat(got["Expiration"].replace("Z", "+00:00"))
    assert int(expiry.timestamp()) == want["expiration_ms"] // 1000, (got["Expiration"], want["expiration_ms"])


def test_signed_request_uses_the_simulators_keys(user):
    profile = user.profile_for(ACCOUNT, ROLE)
    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/awsso"
    with sts_recorder(ACCOUNT, arn) as (url, calls):
        r = user.aws("sts", "get-caller-identity", "--profile", profile, "--endpoint-url", url,
                     "--region", REGION, "--output", "json")
    assert json.loads(r.stdout)["Arn"] == arn  # the CLI parsed the recorder's answer
    assert len(calls) == 1, calls
    call = calls[0]
    want = user.issued()[-1]
    assert (want["account_id"], want["role_name"]) == (ACCOUNT, ROLE)
    auth = call["headers"]["authorization"]
    assert auth.startswith(f"AWS4-HMAC-SHA256 Credential={want['access_key_id']}/"), auth
    assert f"/{REGION}/sts/aws4_request" in auth, auth
    assert call["headers"]["x-amz-security-token"] == want["session_token"]
    assert b"Action=GetCallerIdentity" in call["body"], call["body"]
    path, _, query = call["path"].partition("?")
    signature = auth.rsplit("Signature=", 1)[1]
    assert sigv4_signature(want["secret_access_key"], "POST", path, query, call["headers"], call["body"]) == signature
    # ...and the check can fail: another secret key gives another signature.
    assert sigv4_signature("x" + want["secret_access_key"], "POST", path, query, call["headers"],
                           call["body"]) != signature


def test_logged_out_the_cli_shows_awssos_hint(user):
    profile = user.profile_for(ACCOUNT, ROLE)
    user.run("logout")
    r = user.aws("configure", "export-credentials", "--profile", profile, check=False)
    assert r.returncode != 0, r.stdout
    assert r.stdout == "", r.stdout
    assert "awsso login --session" in r.stderr, r.stderr  # awsso's own hint reaches the person
    assert user.issued() == []
