"""Issue 11: the real clients read awsso's DEFAULT block (`hints = minimal`), the one every SDK process pays
for: per profile `credential_process`, `region`, `granted_color`, and the name hint as the comment line right
above the header, in place of the blank separator (no `aws_account_id`). The real awsso binary, the simulator
(with its hostile account names, which end up in the comments), the real keyring.

1. botocore, the AWS CLI v2 and the JS SDK v3 (`loadSharedConfigFiles` of @smithy/core, what every JS SDK
   client runs) parse the written config and see exactly awsso's profiles plus the user's, each awsso profile
   with exactly its three keys; resolving one profile gives that profile's account and role in its
   credential_process line, and its region.
2. The account id reaches the client without `aws_account_id` in the profile: `awsso creds` prints
   `AccountId`, which botocore's ProcessProvider (boto3's credentials, `account_id`) and the JS SDK's
   fromProcess / fromIni (`accountId`) take, for the profile's account.
"""
import json
import re
import subprocess

import boto3
import botocore.session
import pytest

from awsso_harness import JS_DIR, NODE, IsolatedUser, simulator

START_URL = "https://d-pyhints001.awsapps.com/start"
REGION = "eu-west-1"
ACCOUNTS = 6
ROLES = ["AdministratorAccess", "ReadOnlyAccess"]
DEFAULT_KEYS = ["credential_process", "region", "granted_color"]
USER_CONFIG = "# mine\n[default]\nregion = us-east-1\n\n[profile mine]\nregion = ap-south-1\n"
PAIR = re.compile(r"--account-id (\d{12}) --role-name (\S+)$")


@pytest.fixture
def user(tmp_path, monkeypatch):
    with simulator("--accounts", str(ACCOUNTS), "--roles", str(len(ROLES)), "--hostile-names") as url:
        u = IsolatedUser(tmp_path / "home", url)
        u.config.write_text(USER_CONFIG)
        u.run("login", "--start-url", START_URL, "--region", REGION, "--no-browser")
        u.run("sync")
        for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
            monkeypatch.delenv(var, raising=False)
        # botocore in this process reads this user's files, and runs `awsso creds` in this user's environment.
        for k, v in u.env.items():
            monkeypatch.setenv(k, v)
        yield u
        u.run("logout", "--all", check=False)


def awsso_profiles(user):
    """{profile: (account, role, name comment)} from the text awsso wrote: the comment line above each header."""
    lines = user.config.read_text().splitlines()
    out = {}
    for i, line in enumerate(lines):
        if line.startswith("[profile ") and line != "[profile mine]":
            name = line[len("[profile "):-1]
            process = next(l for l in lines[i + 1:] if l.startswith("credential_process = "))
            account, role = PAIR.search(process).groups()
            out[name] = (account, role, lines[i - 1])
    assert len(out) == ACCOUNTS * len(ROLES), sorted(out)
    return out


def test_the_default_block_names_each_profile_in_a_comment_and_has_no_account_key(user):
    text = user.config.read_text()
    block = text[text.index("# BEGIN awsso managed block"):text.index("# END awsso managed block")]
    assert "\n\n" not in block, block  # the comment takes the blank separator's place
    assert "aws_account_id" not in block and "awsso_display_name" not in block
    for name, (account, role, comment) in awsso_profiles(user).items():
        assert comment.startswith("# ") and comment.endswith(f"({account}) {role}"), (name, comment)
        assert comment.isprintable() and "awsso managed block" not in comment, comment


def test_botocore_resolves_each_profile_from_the_default_block(user):
    session = botocore.session.Session()
    profiles = session.full_config["profiles"]
    written = awsso_profiles(user)
    assert sorted(profiles) == sorted(["default", "mine", *written])
    for name, (account, role, _) in written.items():
        assert sorted(profiles[name]) == sorted(DEFAULT_KEYS), (name, profiles[name])
        scoped = botocore.session.Session(profile=name).get_scoped_config()
        assert PAIR.search(scoped["credential_process"]).groups() == (account, role)
        assert scoped["region"] == REGION


def test_the_aws_cli_resolves_each_profile_from_the_default_block(user):
    written = awsso_profiles(user)
    listed = user.aws("configure", "list-profiles").stdout.split()
    assert sorted(listed) == sorted(["default", "mine", *written])
    for name in list(written)[:3]:  # each `aws` start takes a second or more on a busy machine
        account, role, _ = written[name]
        process = user.aws("configure", "get", "credential_process", "--profile", name).stdout.strip()
        assert PAIR.search(process).groups() == (account, role)
        assert user.aws("configure", "get", "region", "--profile", name).stdout.strip() == REGION


def test_the_js_sdk_parses_the_default_block(user):
    script = (
        "require('@smithy/core/config').loadSharedConfigFiles()"
        ".then(c => console.log(JSON.stringify(c.configFile)))"
    )
    r = subprocess.run([NODE, "-e", script], cwd=JS_DIR, env=user.env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    parsed = {k: v for k, v in json.loads(r.stdout).items() if not k.startswith("sso-session.")}
    written = awsso_profiles(user)
    assert sorted(parsed) == sorted(["default", "mine", *written])
    for name, (account, role, _) in written.items():
        assert sorted(parsed[name]) == sorted(DEFAULT_KEYS), (name, parsed[name])
        assert PAIR.search(parsed[name]["credential_process"]).groups() == (account, role)
        assert parsed[name]["region"] == REGION


def test_boto3_gets_the_account_id_from_awsso_creds(user):
    written = awsso_profiles(user)
    name, (account, role, _) = sorted(written.items())[-1]
    creds = boto3.Session(profile_name=name).get_credentials().get_frozen_credentials()
    issued = user.issued()
    assert [(c["account_id"], c["role_name"]) for c in issued] == [(account, role)]
    assert (creds.access_key, creds.token) == (issued[0]["access_key_id"], issued[0]["session_token"])
    assert creds.account_id == account


@pytest.mark.parametrize("provider", ["fromIni", "fromProcess"])
def test_the_js_sdk_gets_the_account_id_from_awsso_creds(user, provider):
    written = awsso_profiles(user)
    name, (account, role, _) = sorted(written.items())[0]
    got = user.js(provider, name)
    assert "error" not in got, got
    issued = user.issued()
    assert [(c["account_id"], c["role_name"]) for c in issued] == [(account, role)]
    assert got["accessKeyId"] == issued[0]["access_key_id"]
    assert got["accountId"] == account, got
