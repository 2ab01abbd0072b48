"""What the Python tests share: where the binaries are, a simulator process, and a user with an isolated
HOME, AWS config, cache dir and keyring namespace that drives the real `awsso` binary."""
import contextlib
import os
import pathlib
import subprocess
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
TARGET = pathlib.Path(os.environ.get("AWSSO_TEST_TARGET_DIR") or REPO / "target")
AWSSO_BIN = os.environ.get("AWSSO_BIN") or str(TARGET / "debug" / "awsso")
SIM_BIN = os.environ.get("AWSSO_SIM_BIN") or str(TARGET / "debug" / "awsso-sim")


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

    def run(self, *args, exe=AWSSO_BIN, check=True):
        r = subprocess.run(
            [exe, *args], env=self.env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120
        )
        if check:
            assert r.returncode == 0, f"awsso {' '.join(map(str, args))}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        return r
