"""Issue 8 item 10: a hand-written `[sso-session -x]` and a role name starting with `-` served by the portal
make profiles that botocore can use. `awsso sync` writes them as `--session=-x` / `--role-name=-Admin` in
`credential_process` (a bare `--session -x` is read by clap as another option, and the profile failed);
botocore splits the line with its own shell splitter, runs it, and gets the simulator's credentials.

The real awsso and awsso-sim binaries, the real keyring (see awsso_harness.py).
"""
import json
import os
import urllib.request

import boto3
import pytest
from botocore.compat import compat_shell_split

from awsso_harness import IsolatedUser, simulator

START_URL = "https://d-pydash0001.awsapps.com/start"
REGION = "eu-west-1"
ROLE = "-Admin"


def post_config(url, patch):
    req = urllib.request.Request(url + "/_sim/config", data=json.dumps(patch).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def issued(url):
    with urllib.request.urlopen(url + "/_sim/credentials", timeout=10) as resp:
        return json.loads(resp.read())


@pytest.fixture
def user(tmp_path, monkeypatch):
    with simulator("--accounts", "1") as url:
        post_config(url, {"hostile": {"role_names": [ROLE]}})
        u = IsolatedUser(tmp_path / "home", url)
        for k in list(os.environ):
            if k.startswith("AWS_") or (k.startswith("AWSSO_") and not k.startswith("AWSSO_TEST_")):
                monkeypatch.delenv(k)
        for k, v in u.env.items():
            monkeypatch.setenv(k, v)
        u.config.write_text(
            f"[sso-session -x]\nsso_start_url = {START_URL}\nsso_region = {REGION}\n"
            "sso_registration_scopes = sso:account:access\n"
        )
        u.run("login", "--session=-x", "--no-browser")
        yield u
        u.run("logout", "--all", check=False)


def test_botocore_uses_a_profile_of_a_dash_session_and_a_dash_role(user):
    user.run("sync", "--session=-x")
    text = user.config.read_text()
    [line] = [l.split(" = ", 1)[1] for l in text.splitlines() if l.startswith("credential_process = ")]
    words = compat_shell_split(line)
    assert words[1:] == ["creds", "--session=-x", "--account-id", "100000000001", "--role-name=-Admin"], line
    [profile] = [l[len("[profile "):-1] for l in text.splitlines() if l.startswith("[profile ")]

    creds = boto3.Session(profile_name=profile).get_credentials().get_frozen_credentials()
    served = issued(user.sim_url)
    assert [c["role_name"] for c in served] == [ROLE]
    assert creds.access_key == served[0]["access_key_id"]
    assert creds.secret_key == served[0]["secret_access_key"]
    assert creds.token == served[0]["session_token"]
