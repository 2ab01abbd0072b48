"""botocore reads what `awsso sync` writes: the real awsso binary, the simulator binary, the real keyring.

After `awsso login` and `awsso sync` (subprocesses, in an isolated HOME / AWS config / keyring namespace),
botocore and boto3, pointed at the config with AWS_CONFIG_FILE, must see exactly the expected profiles (awsso's,
one per account x role, plus the user's own) with the values awsso meant: `credential_process` split by
botocore's own shell splitter into exactly `awsso creds --session S --account-id ID --role-name R`, `region`,
`color`; in native mode the `sso_*` keys and the sso-session they point at. The simulator serves its hostile
account names (newlines with a fake `[profile pwned]`, quotes, `#`, `;`, escapes), so this also proves that
none of them reaches botocore as a profile or a key. Credentials are not resolved here.

Binaries: $AWSSO_BIN / $AWSSO_SIM_BIN, default <target>/debug/awsso and awsso-sim, where <target> is
$AWSSO_TEST_TARGET_DIR or <repo>/target (build with `cargo build -p awsso -p awsso-sim`). The keyring is what
the environment provides (run under scripts/lib/with-secret-service.sh); $AWSSO_TEST_STORE, when set, is passed
on as AWSSO_STORE.
"""

import json
import os
import re

import boto3
import botocore.session
import pytest
from botocore.compat import compat_shell_split
from botocore.credentials import SSOProvider
from botocore.exceptions import ProfileNotFound

from awsso_harness import AWSSO_BIN, IsolatedUser, simulator

START_URL = "https://d-pysync0001.awsapps.com/start"
SESSION = "d-pysync0001"
REGION = "eu-west-1"
ACCOUNTS = 16
ROLES = ["AdministratorAccess", "ReadOnlyAccess"]
AWSSO_KEYS = {"region", "color", "granted_color", "aws_account_id", "role_name",
              "awsso_account_name", "awsso_display_name"}
CONTAINER_COLOURS = {"blue", "turquoise", "green", "yellow", "orange", "red", "pink", "purple"}
USER_CONFIG = """# the user's own lines
[default]
region = us-east-1
output = json

[profile mine]
region = ap-south-1
role_arn = arn:aws:iam::123456789012:role/Mine
source_profile = default
"""


@pytest.fixture
def sim_url():
    with simulator("--accounts", str(ACCOUNTS), "--roles", str(len(ROLES)), "--hostile-names",
                   "--interval", "1") as url:
        yield url


class User(IsolatedUser):
    """An isolated person: HOME, AWS config, awsso cache dir and keyring namespace."""

    def listed(self):
        """`awsso ls --json` as {profile name: row}."""
        rows = json.loads(self.run("ls", "--json").stdout)
        return {r["profile"]: r for r in rows}


@pytest.fixture
def user(tmp_path, sim_url, monkeypatch):
    u = User(tmp_path / "home", sim_url)
    u.config.write_text(USER_CONFIG)
    # Every hint key (`hints = full`): these tests check them all; the default level writes fewer.
    settings = u.home / ".config" / "awsso" / "config"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text("[defaults]\nhints = full\n")
    u.run("login", "--start-url", START_URL, "--region", REGION, "--no-browser")
    # botocore in this process reads the same files, and nothing of the developer's own.
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", u.env["AWS_CONFIG_FILE"])
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", u.env["AWS_SHARED_CREDENTIALS_FILE"])
    yield u
    u.run("logout", "--all", check=False)


def test_botocore_sees_exactly_the_synced_profiles(user):
    user.run("sync")
    listed = user.listed()
    assert len(listed) == ACCOUNTS * len(ROLES)
    awsso_exe = os.path.realpath(AWSSO_BIN)

    assert set(boto3.Session().available_profiles) == set(listed) | {"default", "mine"}
    full = botocore.session.Session().full_config
    assert set(full["profiles"]) == set(listed) | {"default", "mine"}
    assert "pwned" not in full["profiles"]
    with pytest.raises(ProfileNotFound):
        botocore.session.Session(profile="pwned").get_scoped_config()

    pairs = set()
    for name, row in listed.items():
        cfg = botocore.session.Session(profile=name).get_scoped_config()
        assert set(cfg) == AWSSO_KEYS | {"credential_process"}, name
        assert compat_shell_split(cfg["credential_process"]) == [
            awsso_exe, "creds", "--session", SESSION,
            "--account-id", row["account_id"], "--role-name", row["role_name"],
        ], name
        assert cfg["region"] == REGION
        assert re.fullmatch(r"[0-9a-f]{6}", cfg["color"]), cfg["color"]
        assert cfg["granted_color"] in CONTAINER_COLOURS
        assert cfg["aws_account_id"] == row["account_id"]
        assert cfg["role_name"] == row["role_name"]
        assert cfg["awsso_display_name"].endswith(f"({row['account_id']})") \
            or cfg["awsso_display_name"] == row["account_id"]
        pairs.add((row["account_id"], row["role_name"]))
    assert len(pairs) == ACCOUNTS * len(ROLES)

    # The account "data-lake-prod-0016" matches the built-in "prod" rule.
    prod = botocore.session.Session(profile="data-lake-prod-0016/AdministratorAccess").get_scoped_config()
    assert (prod["color"], prod["granted_color"]) == ("cc0000", "red")
    # The user's own profiles read as they wrote them.
    mine = botocore.session.Session(profile="mine").get_scoped_config()
    assert mine == {"region": "ap-south-1", "role_arn": "arn:aws:iam::123456789012:role/Mine",
                    "source_profile": "default"}
    assert botocore.session.Session().get_scoped_config()["region"] == "us-east-1"


def test_native_profiles_point_botocore_at_the_sso_session(user):
    user.run("sync", "--mode", "native")
    listed = user.listed()
    full = botocore.session.Session().full_config
    assert set(full["profiles"]) == set(listed) | {"default", "mine"}
    assert full["sso_sessions"][SESSION]["sso_start_url"] == START_URL
    assert full["sso_sessions"][SESSION]["sso_region"] == REGION
    for name, row in listed.items():
        cfg = botocore.session.Session(profile=name).get_scoped_config()
        assert "credential_process" not in cfg
        assert set(cfg) == AWSSO_KEYS | {"sso_session", "sso_account_id", "sso_role_name"}, name
        assert (cfg["sso_session"], cfg["sso_account_id"], cfg["sso_role_name"]) == \
            (SESSION, row["account_id"], row["role_name"])
        # botocore's SSO provider accepts the profile: every key it needs is there, the session resolves.
        provider = SSOProvider(load_config=lambda: full, client_creator=None, profile_name=name)
        sso = provider._load_sso_config()
        assert sso["sso_start_url"] == START_URL
        assert sso["sso_region"] == REGION
        assert (sso["sso_account_id"], sso["sso_role_name"]) == (row["account_id"], row["role_name"])


def test_a_second_sync_and_a_prune_keep_botocore_consistent(user):
    user.run("sync")
    before = user.config.read_bytes()
    assert "already up to date" in user.run("sync").stderr
    assert user.config.read_bytes() == before
    assert before.startswith(USER_CONFIG.encode())
    # The user's own lines are kept byte for byte whatever awsso does to its block.
    user.run("sync", "--mode", "native", "--prune", "--template", "{account_id}.{role_name}")
    assert user.config.read_text().startswith(USER_CONFIG)
    profiles = set(botocore.session.Session().full_config["profiles"])
    assert profiles == {f"{1000_0000_0000 + i}.{r}" for i in range(1, ACCOUNTS + 1) for r in ROLES} \
        | {"default", "mine"}
