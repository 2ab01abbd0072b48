"""Wire-compatibility check of awsso-sim against the real AWS SDK for Python.

Starts the simulator binary and drives it with botocore's own `sso-oidc` and `sso` clients, so
the routes, JSON field names, epoch units and (above all) the error shapes are proven to parse
the way a real SDK parses the real service.

Binary: $AWSSO_SIM_BIN, default <target>/debug/awsso-sim (build with
`cargo build -p awsso-sim`). Run: `.venv/bin/pytest tests/python -q`.
"""

import base64
import hashlib
import http.client
import json
import os
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from awsso_harness import SIM_BIN
SCOPE = "sso:account:access"
START_URL = "https://d-1234567890.awsapps.com/start"
ACCOUNTS = 45
ROLES = 3

# Every test starts from these knobs; interval 0 keeps device logins instant unless a test
# is about slow_down.
BASELINE = {
    "accounts": ACCOUNTS,
    "roles_per_account": ROLES,
    "latency_ms": 0,
    "rate_limit": None,
    "error_every": None,
    "token_ttl": 28800,
    "refresh_tokens": True,
    "credentials_ttl": 3600,
    "device_code_ttl": 600,
    "interval": 0,
    "approve_after_polls": 1,
    "device_outcome": "approve",
    "hostile_names": False,
    "page_size": 20,
}


def launch(*args, stderr=subprocess.DEVNULL):
    """Starts the simulator and returns (process, url) once it printed its URL line."""
    if not os.path.exists(SIM_BIN):
        pytest.fail(f"simulator binary not found at {SIM_BIN}; run `cargo build -p awsso-sim`")
    proc = subprocess.Popen(
        [SIM_BIN, "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    line = proc.stdout.readline().strip()
    assert line.startswith("AWSSO_SIM_URL=http://127.0.0.1:"), line
    return proc, line.split("=", 1)[1]


def stop(proc, sig=signal.SIGTERM):
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


@pytest.fixture(scope="module")
def sim_url(tmp_path_factory):
    log = tmp_path_factory.mktemp("sim") / "stderr.log"
    with open(log, "w") as err:
        proc, url = launch("--accounts", str(ACCOUNTS), "--roles", str(ROLES), stderr=err)
        yield url
        assert stop(proc) == 0
        proc.stdout.close()
    assert "CreateToken" in log.read_text()


def admin(url, path, body=None, method="POST"):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"null")


@pytest.fixture(autouse=True)
def baseline(sim_url):
    admin(sim_url, "/_sim/config", BASELINE)
    admin(sim_url, "/_sim/reset-counts")


def oidc_client(url, **config):
    return boto3.client(
        "sso-oidc",
        region_name="us-east-1",
        endpoint_url=url,
        config=Config(signature_version=UNSIGNED, **config),
    )


def sso_client(url, **config):
    return boto3.client(
        "sso",
        region_name="us-east-1",
        endpoint_url=url,
        config=Config(signature_version=UNSIGNED, **config),
    )


def register(oidc, **extra):
    return oidc.register_client(
        clientName="awsso-wire-test", clientType="public", scopes=[SCOPE], **extra
    )


def poll(oidc, reg, device_code):
    return oidc.create_token(
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        grantType="urn:ietf:params:oauth:grant-type:device_code",
        deviceCode=device_code,
    )


def device_login(oidc, reg):
    dev = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL
    )
    for _ in range(10):
        try:
            return poll(oidc, reg, dev["deviceCode"])
        except oidc.exceptions.AuthorizationPendingException:
            pass
    pytest.fail("device code never approved")


def login(url):
    oidc = oidc_client(url)
    reg = register(oidc)
    return oidc, reg, device_login(oidc, reg)


def test_register_client_fields(sim_url):
    reg = register(oidc_client(sim_url))
    assert reg["clientId"] and reg["clientSecret"]
    now = time.time()
    assert isinstance(reg["clientIdIssuedAt"], int)
    assert abs(reg["clientIdIssuedAt"] - now) < 10  # epoch seconds
    assert reg["clientSecretExpiresAt"] - reg["clientIdIssuedAt"] == 90 * 24 * 3600


def test_device_flow_pending_slow_down_then_tokens(sim_url):
    admin(sim_url, "/_sim/config", {"interval": 1, "approve_after_polls": 0})
    oidc = oidc_client(sim_url)
    reg = register(oidc)
    dev = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL
    )
    assert dev["interval"] == 1
    assert dev["expiresIn"] == 600
    assert dev["verificationUri"] == sim_url + "/device"
    assert dev["verificationUriComplete"] == f"{sim_url}/device?user_code={dev['userCode']}"

    with pytest.raises(oidc.exceptions.AuthorizationPendingException) as exc:
        poll(oidc, reg, dev["deviceCode"])
    assert exc.value.response["Error"]["Code"] == "AuthorizationPendingException"
    assert exc.value.response["error"] == "authorization_pending"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    with pytest.raises(oidc.exceptions.SlowDownException):
        poll(oidc, reg, dev["deviceCode"])

    # The test "browser" approves by opening the verification link.
    with urllib.request.urlopen(dev["verificationUriComplete"], timeout=10) as page:
        assert "Request approved" in page.read().decode()

    time.sleep(1.1)
    tok = poll(oidc, reg, dev["deviceCode"])
    assert tok["tokenType"] == "Bearer"
    assert tok["expiresIn"] == 28800
    assert tok["accessToken"] and tok["refreshToken"] and tok["idToken"]

    with pytest.raises(oidc.exceptions.InvalidGrantException):
        poll(oidc, reg, dev["deviceCode"])
    counts = admin(sim_url, "/_sim/stats", method="GET")
    assert counts["CreateToken.device_code"] == 4


def test_refresh_token_grant_rotates(sim_url):
    oidc, reg, tok = login(sim_url)
    new = oidc.create_token(
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        grantType="refresh_token",
        refreshToken=tok["refreshToken"],
    )
    assert new["accessToken"] != tok["accessToken"]
    assert new["refreshToken"] != tok["refreshToken"]
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        oidc.create_token(
            clientId=reg["clientId"],
            clientSecret=reg["clientSecret"],
            grantType="refresh_token",
            refreshToken=tok["refreshToken"],
        )


def test_portal_calls_and_logout(sim_url):
    _, _, tok = login(sim_url)
    token = tok["accessToken"]
    sso = sso_client(sim_url)

    pages = sso.get_paginator("list_accounts").paginate(
        accessToken=token, PaginationConfig={"PageSize": 7}
    )
    accounts = [a for page in pages for a in page["accountList"]]
    assert len(accounts) == ACCOUNTS
    assert len({a["accountId"] for a in accounts}) == ACCOUNTS
    assert accounts[0] == {
        "accountId": "100000000001",
        "accountName": "prod-payments-0001",
        "emailAddress": "aws+100000000001@example.com",
    }
    assert admin(sim_url, "/_sim/stats", method="GET")["ListAccounts"] == 7  # ceil(45 / 7)

    roles = [
        r
        for page in sso.get_paginator("list_account_roles").paginate(
            accessToken=token, accountId="100000000002"
        )
        for r in page["roleList"]
    ]
    assert [r["roleName"] for r in roles] == ["AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess"]
    assert all(r["accountId"] == "100000000002" for r in roles)
    with pytest.raises(sso.exceptions.ResourceNotFoundException):
        sso.list_account_roles(accessToken=token, accountId="999999999999")

    before_ms = int(time.time() * 1000)
    creds = sso.get_role_credentials(
        accessToken=token, accountId="100000000002", roleName="ReadOnlyAccess"
    )["roleCredentials"]
    assert creds["accessKeyId"].startswith("ASIA") and len(creds["accessKeyId"]) == 20
    assert isinstance(creds["expiration"], int)
    assert abs(creds["expiration"] - (before_ms + 3600 * 1000)) < 10_000
    issued = admin(sim_url, "/_sim/credentials", method="GET")
    assert issued[-1]["access_key_id"] == creds["accessKeyId"]
    assert issued[-1]["expiration_ms"] == creds["expiration"]

    sso.logout(accessToken=token)
    with pytest.raises(sso.exceptions.UnauthorizedException) as exc:
        sso.list_accounts(accessToken=token)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401


def test_hostile_names_round_trip_through_botocore(sim_url):
    admin(sim_url, "/_sim/config", {"hostile_names": True, "accounts": 16})
    _, _, tok = login(sim_url)
    sso = sso_client(sim_url)
    pages = sso.get_paginator("list_accounts").paginate(accessToken=tok["accessToken"])
    names = [a["accountName"] for page in pages for a in page["accountList"]]
    assert len(names) == 16
    assert names[0] == "evil\n[profile pwned]\ncredential_process = /bin/sh -c id"
    assert "Ünïcødé 日本 🚀" in names
    assert "" in names
    assert names.count("Duplicate Name") == 2
    assert any("\x1b[31m" in n for n in names)


def test_throttling_surfaces_as_too_many_requests(sim_url):
    _, _, tok = login(sim_url)
    admin(sim_url, "/_sim/config", {"rate_limit": 1})
    sso = sso_client(sim_url, retries={"max_attempts": 1})
    with pytest.raises(sso.exceptions.TooManyRequestsException) as exc:
        for _ in range(5):
            sso.list_accounts(accessToken=tok["accessToken"])
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert admin(sim_url, "/_sim/stats", method="GET")["Throttled"] >= 1

    # OIDC does not model the shape, but botocore still reports its code from the header.
    oidc = oidc_client(sim_url, retries={"max_attempts": 1})
    with pytest.raises(ClientError) as exc:
        for _ in range(5):
            register(oidc)
    assert exc.value.response["Error"]["Code"] == "TooManyRequestsException"


def test_injected_errors_surface_as_internal_server_exception(sim_url):
    _, _, tok = login(sim_url)
    admin(sim_url, "/_sim/config", {"error_every": 1})
    sso = sso_client(sim_url, retries={"max_attempts": 1})
    with pytest.raises(ClientError) as exc:
        sso.list_accounts(accessToken=tok["accessToken"])
    assert exc.value.response["Error"]["Code"] == "InternalServerException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    oidc = oidc_client(sim_url, retries={"max_attempts": 1})
    with pytest.raises(oidc.exceptions.InternalServerException):
        register(oidc)


def test_expired_device_code(sim_url):
    oidc = oidc_client(sim_url)
    reg = register(oidc)

    admin(sim_url, "/_sim/config", {"device_outcome": "expire"})
    dev = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL
    )
    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        poll(oidc, reg, dev["deviceCode"])
    with pytest.raises(oidc.exceptions.ExpiredTokenException) as exc:
        poll(oidc, reg, dev["deviceCode"])
    assert exc.value.response["error"] == "expired_token"

    admin(
        sim_url,
        "/_sim/config",
        {"device_outcome": "approve", "approve_after_polls": 0, "device_code_ttl": 0.5},
    )
    dev = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL
    )
    time.sleep(0.6)
    with pytest.raises(oidc.exceptions.ExpiredTokenException):
        poll(oidc, reg, dev["deviceCode"])


def test_access_denied(sim_url):
    admin(sim_url, "/_sim/config", {"device_outcome": "deny"})
    oidc = oidc_client(sim_url)
    reg = register(oidc)
    dev = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL
    )
    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        poll(oidc, reg, dev["deviceCode"])
    with pytest.raises(oidc.exceptions.AccessDeniedException) as exc:
        poll(oidc, reg, dev["deviceCode"])
    assert exc.value.response["error"] == "access_denied"


def test_invalid_client_after_expiry(sim_url):
    oidc = oidc_client(sim_url)
    reg = register(oidc)
    admin(sim_url, "/_sim/expire-clients")
    with pytest.raises(oidc.exceptions.InvalidClientException) as exc:
        oidc.start_device_authorization(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL
        )
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    assert exc.value.response["error"] == "invalid_client"
    with pytest.raises(oidc.exceptions.InvalidClientException):
        poll(oidc, reg, "whatever")


def test_revocation(sim_url):
    oidc, reg, tok = login(sim_url)
    sso = sso_client(sim_url)
    sso.list_accounts(accessToken=tok["accessToken"])
    admin(sim_url, "/_sim/revoke")
    with pytest.raises(sso.exceptions.UnauthorizedException):
        sso.list_accounts(accessToken=tok["accessToken"])
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        oidc.create_token(
            clientId=reg["clientId"],
            clientSecret=reg["clientSecret"],
            grantType="refresh_token",
            refreshToken=tok["refreshToken"],
        )


def test_missing_required_input_is_invalid_request(sim_url):
    # botocore validates required members client-side, so go around it for this one.
    req = urllib.request.Request(
        sim_url + "/client/register", data=b'{"clientType":"public"}', method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=10)
    assert exc.value.code == 400
    assert exc.value.headers["x-amzn-ErrorType"].startswith("InvalidRequestException:")
    assert json.loads(exc.value.read())["error"] == "invalid_request"


def test_pkce_authorization_code_grant(sim_url):
    oidc = oidc_client(sim_url)
    reg = register(
        oidc,
        grantTypes=["authorization_code", "refresh_token"],
        redirectUris=["http://127.0.0.1/oauth/callback"],
        issuerUrl=START_URL,
    )
    verifier = secrets.token_urlsafe(48)[:64]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect = "http://127.0.0.1:49152/oauth/callback"

    def authorize(state):
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": reg["clientId"],
                "redirect_uri": redirect,
                "state": state,
                "code_challenge_method": "S256",
                "scopes": SCOPE,
                "code_challenge": challenge,
            }
        )
        parsed = urllib.parse.urlsplit(sim_url)
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        conn.request("GET", "/authorize?" + query)
        resp = conn.getresponse()
        assert resp.status == 302
        loc = urllib.parse.urlsplit(resp.getheader("Location"))
        conn.close()
        assert f"{loc.scheme}://{loc.netloc}{loc.path}" == redirect
        params = urllib.parse.parse_qs(loc.query)
        assert params["state"] == [state]
        return params["code"][0]

    code = authorize("s t&a=te")
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        oidc.create_token(
            clientId=reg["clientId"],
            clientSecret=reg["clientSecret"],
            grantType="authorization_code",
            code=code,
            redirectUri=redirect,
            codeVerifier="x" * 64,
        )
    code = authorize("state2")
    tok = oidc.create_token(
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        grantType="authorization_code",
        code=code,
        redirectUri=redirect,
        codeVerifier=verifier,
    )
    assert tok["accessToken"] and tok["refreshToken"]
    sso_client(sim_url).list_accounts(accessToken=tok["accessToken"])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_program_logs_requests_and_exits_cleanly(tmp_path, sig):
    log = tmp_path / "stderr.log"
    with open(log, "w") as err:
        proc, url = launch("--accounts", "2", stderr=err)
        register(oidc_client(url))
        assert stop(proc, sig) == 0
    assert "RegisterClient 200" in log.read_text()
    # Exactly one stdout line, and nothing after it.
    assert proc.stdout.read() == ""
    proc.stdout.close()
