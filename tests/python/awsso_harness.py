"""What the Python tests share: where the binaries and the real clients are, a simulator process, a user
with an isolated HOME, AWS config, cache dir and keyring namespace that drives the real `awsso` binary (and
the AWS CLI or node in the same environment), and a loopback STS endpoint that records signed requests."""
import configparser
import contextlib
import hashlib
import hmac
import http.server
import json
import os
import pathlib
import shutil
import subprocess
import threading
import urllib.request
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
TARGET = pathlib.Path(os.environ.get("AWSSO_TEST_TARGET_DIR") or REPO / "target")
AWSSO_BIN = os.environ.get("AWSSO_BIN") or str(TARGET / "debug" / "awsso")
SIM_BIN = os.environ.get("AWSSO_SIM_BIN") or str(TARGET / "debug" / "awsso-sim")
# The real clients scripts/test.sh installs: the AWS CLI v2 is Debian's awscli (a pip `aws` v1 may come
# first on PATH), the JavaScript SDK v3 is tests/js/node_modules (npm ci), run by node.
AWS_CLI = os.environ.get("AWSSO_TEST_AWS_CLI") or "/usr/bin/aws"
NODE = shutil.which("node") or "node"
JS_DIR = REPO / "tests" / "js"


def sim_admin(url, path, body=None):
    """GET (or, with a JSON body, POST) one of the simulator's /_sim/ endpoints."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@contextlib.contextmanager
def simulator(*args):
    """Runs `awsso-sim --port 0 --quiet ARGS` and yields its URL."""
    for path in (AWSSO_BIN, SIM_BIN):
        if not os.path.exists(path):
            pytest.fail(f"{path} not found; run `cargo build -p awsso -p awsso-sim`")
    proc = subprocess.Popen(
        [SIM_BIN, "--port", "0", "--quiet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("AWSSO_SIM_URL=http://127.0.0.1:"), line
        yield line.split("=", 1)[1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


class IsolatedUser:
    """One person's machine: awsso runs with only this environment."""

    def __init__(self, home, sim_url):
        self.home = home
        self.sim_url = sim_url
        (home / ".aws").mkdir(parents=True)
        self.config = home / ".aws" / "config"
        self.env = {k: os.environ[k] for k in ("PATH", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "LANG")
                    if k in os.environ}
        self.env.update(
            HOME=str(home),
            AWS_CONFIG_FILE=str(self.config),
            AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
            AWSSO_CACHE_DIR=str(home / ".cache" / "awsso"),
            AWSSO_KEYRING_SERVICE=f"awsso-pytest-{os.getpid()}-{uuid.uuid4().hex[:8]}",
            AWS_ENDPOINT_URL_SSO=sim_url,
            AWS_ENDPOINT_URL_SSO_OIDC=sim_url,
        )
        if os.environ.get("AWSSO_TEST_STORE"):
            self.env["AWSSO_STORE"] = os.environ["AWSSO_TEST_STORE"]

    def run(self, *args, exe=AWSSO_BIN, check=True, env=None):
        r = subprocess.run(
            [exe, *args], env={**self.env, **(env or {})}, stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=120,
        )
        if check:
            name = "awsso" if exe == AWSSO_BIN else os.path.basename(exe)
            assert r.returncode == 0, f"{name} {' '.join(map(str, args))}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        return r

    def issued(self):
        """The role credentials the simulator has issued, oldest first."""
        return sim_admin(self.sim_url, "/_sim/credentials")

    def count(self, op):
        return sim_admin(self.sim_url, "/_sim/stats").get(op, 0)

    def sim_config(self, **patch):
        return sim_admin(self.sim_url, "/_sim/config", patch)

    def profiles(self):
        """{profile name: {key: value}} as an INI reader sees the AWS config."""
        config = configparser.RawConfigParser()
        config.read(self.config)
        return {s.removeprefix("profile "): dict(config[s]) for s in config.sections() if s.startswith("profile ")}

    def profile_for(self, account, role):
        """The one profile, process or native, that awsso wrote for this account and role."""
        names = [
            name for name, keys in self.profiles().items()
            if keys.get("credential_process", "").endswith(f"--account-id {account} --role-name {role}")
            or (keys.get("sso_account_id"), keys.get("sso_role_name")) == (account, role)
        ]
        assert len(names) == 1, (account, role, sorted(self.profiles()))
        return names[0]

    def aws(self, *args, check=True):
        """The AWS CLI v2, with this user's environment (no pager, no IMDS)."""
        return self.run(*args, exe=AWS_CLI, check=check,
                        env={"AWS_PAGER": "", "AWS_EC2_METADATA_DISABLED": "true"})

    def js(self, provider, profile):
        """One @aws-sdk/credential-providers provider run by node in this user's environment:
        {accessKeyId, secretAccessKey, sessionToken, expiration} or {error, message}."""
        r = self.run(str(JS_DIR / "resolve.mjs"), provider, profile, exe=NODE)
        return json.loads(r.stdout)


def sigv4_signature(secret_key, method, path, query, headers, body):
    """The AWS SigV4 signature of a recorded request, recomputed from its Authorization header's scope and
    signed-header list: equal to the header's Signature only if it was signed with `secret_key`."""
    auth = headers["authorization"]
    algorithm, rest = auth.split(" ", 1)
    assert algorithm == "AWS4-HMAC-SHA256", auth
    fields = dict(part.strip().split("=", 1) for part in rest.split(","))
    scope = fields["Credential"].split("/", 1)[1]
    signed = fields["SignedHeaders"].split(";")
    canonical = "\n".join([
        method, path, query,
        "".join(f"{h}:{' '.join(headers[h].split())}\n" for h in signed),
        fields["SignedHeaders"], hashlib.sha256(body).hexdigest(),
    ])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", headers["x-amz-date"], scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


@contextlib.contextmanager
def sts_recorder(account, arn):
    """A loopback STS endpoint: records every request (method, path, lower-cased headers, body) and
    answers each with a GetCallerIdentity result for `account` / `arn`. Yields (url, calls)."""
    calls = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            calls.append({"method": "POST", "path": self.path,
                          "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
            xml = (
                '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                f"<GetCallerIdentityResult><Arn>{arn}</Arn><UserId>AROAAWSSOTEST:awsso</UserId>"
                f"<Account>{account}</Account></GetCallerIdentityResult>"
                "<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId>"
                "</ResponseMetadata></GetCallerIdentityResponse>"
            ).encode()
            self.send_response(200)
            self.send_header("content-type", "text/xml")
            self.send_header("content-length", str(len(xml)))
            self.end_headers()
            self.wfile.write(xml)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", calls
    finally:
        server.shutdown()
        server.server_close()
