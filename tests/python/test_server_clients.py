"""Real clients consuming the container-credentials endpoint of `awsso exec --server`: botocore/boto3's
container provider, the AWS CLI v2 (Debian `awscli`, /usr/bin/aws), and the AWS SDK for JavaScript v3
(fromContainerMetadata, fromHttp, the default Node chain; npm packages in tests/js). Each runs as the
command awsso launches, with only what awsso put in its environment, and must resolve exactly the
credentials the simulator issued.

One test keeps a boto3 client running across a role-credential expiry: the simulator issues credentials
that live 910 s, so botocore (which refreshes when less than 15 minutes remain) asks again after ~10 s; it
must get new keys without a restart, with one GetRoleCredentials call per refresh.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys
import urllib.request

import pytest

from awsso_harness import AWSSO_BIN, REPO, IsolatedUser, simulator

START_URL = "https://d-pyserver01.awsapps.com/start"
SESSION = "d-pyserver01"
REGION = "eu-west-1"
ROLE = "ReadOnlyAccess"
ACCOUNT = "100000000002"
AWS_V2 = "/usr/bin/aws"
JS_DIR = REPO / "tests" / "js"


def admin(url, path):
    with urllib.request.urlopen(url + path, timeout=10) as resp:
        return json.loads(resp.read())


class User(IsolatedUser):
    def login(self):
        return self.run("login", "--start-url", START_URL, "--region", REGION, "--no-browser")

    def add_profile(self, name, account):
        with open(self.config, "a") as f:
            f.write(
                f"\n[profile {name}]\nsso_session = {SESSION}\nsso_account_id = {account}\n"
                f"sso_role_name = {ROLE}\nregion = us-east-2\n"
            )

    def issued(self):
        return admin(self.sim_url, "/_sim/credentials")

    def count(self, op):
        return admin(self.sim_url, "/_sim/stats").get(op, 0)

    def exec_server(self, *cmd, timeout=120):
        r = subprocess.run(
            [self.exe, "exec", "--server", "--profile", "p", "--", *cmd],
            env=self.env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
        )
        assert r.returncode == 0, f"exit {r.returncode}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}"
        return r.stdout


def make_user(tmp_path, url):
    u = User(tmp_path / "home", url)
    u.exe = AWSSO_BIN
    u.login()
    u.add_profile("p", ACCOUNT)
    # What the command sees must come from awsso alone: no default profile, no keys, no region file.
    (tmp_path / "home" / ".aws" / "credentials").write_text("")
    return u


@pytest.fixture
def user(tmp_path):
    with simulator("--accounts", "2") as url:
        u = make_user(tmp_path, url)
        yield u
        u.run("logout", "--all", check=False)


def only_issued(user):
    issued = user.issued()
    assert len(issued) == 1, issued
    return issued[0]


BOTO3_ONCE = """
import json, boto3
c = boto3.Session().get_credentials()
f = c.get_frozen_credentials()
print(json.dumps({"method": c.method, "key": f.access_key, "secret": f.secret_key, "token": f.token,
                  "account": f.account_id}))
"""


def test_boto3_resolves_the_role_through_the_container_provider(user):
    got = json.loads(user.exec_server(sys.executable, "-c", BOTO3_ONCE))
    want = only_issued(user)
    assert got == {
        "method": "container-role",
        "key": want["access_key_id"],
        "secret": want["secret_access_key"],
        "token": want["session_token"],
        "account": ACCOUNT,
    }


def test_aws_cli_v2_exports_the_served_credentials(user):
    if not os.path.exists(AWS_V2):
        pytest.fail(f"{AWS_V2} missing: apt-get install awscli (the AWS CLI v2)")
    version = subprocess.run([AWS_V2, "--version"], capture_output=True, text=True).stdout
    assert version.startswith("aws-cli/2."), version
    out = user.exec_server(AWS_V2, "configure", "export-credentials", "--format", "process")
    got = json.loads(out)
    want = only_issued(user)
    assert got["AccessKeyId"] == want["access_key_id"]
    assert got["SecretAccessKey"] == want["secret_access_key"]
    assert got["SessionToken"] == want["session_token"]


def test_js_sdk_v3_providers_resolve_the_served_credentials(user):
    node = shutil.which("node")
    if node is None or not (JS_DIR / "node_modules" / "@aws-sdk" / "credential-providers").is_dir():
        pytest.fail("the JS SDK is missing: install node and run `npm ci` in tests/js")
    out = user.exec_server(node, str(JS_DIR / "server" / "container-creds.mjs"))
    got = json.loads(out)
    want = only_issued(user)
    for provider in ("fromContainerMetadata", "fromHttp", "fromNodeProviderChain"):
        c = got[provider]
        assert "error" not in c, (provider, c)
        assert c["accessKeyId"] == want["access_key_id"], provider
        assert c["secretAccessKey"] == want["secret_access_key"], provider
        assert c["sessionToken"] == want["session_token"], provider
        expires = datetime.datetime.fromtimestamp(want["expiration_ms"] // 1000, datetime.timezone.utc)
        assert c["expiration"].startswith(expires.strftime("%Y-%m-%dT%H:%M:%S")), provider


BOTO3_LONG_RUNNING = """
import json, sys, time, boto3
creds = boto3.Session().get_credentials()
seen, calls, start = [], 0, time.monotonic()
while time.monotonic() - start < 60:
    key = creds.get_frozen_credentials().access_key
    calls += 1
    if not seen or seen[-1] != key:
        seen.append(key)
        print(f"t={time.monotonic() - start:.1f}s {key}", file=sys.stderr)
    if len(seen) == 2:
        break
    time.sleep(0.2)
print(json.dumps({"seen": seen, "calls": calls}))
"""


def test_a_long_running_boto3_client_gets_new_keys_across_an_expiry(tmp_path):
    with simulator("--accounts", "2", "--credentials-ttl", "910") as url:
        u = make_user(tmp_path, url)
        try:
            got = json.loads(u.exec_server(sys.executable, "-c", BOTO3_LONG_RUNNING))
            issued = [c["access_key_id"] for c in u.issued()]
            assert got["seen"] == issued, (got, issued)
            assert len(issued) == 2, "the client never saw the credentials change"
            assert got["calls"] > 10, got
            assert u.count("GetRoleCredentials") == 2, "one upstream call per refresh"
        finally:
            u.run("logout", "--all", check=False)
