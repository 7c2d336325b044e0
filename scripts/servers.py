#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start moto's IAM server and the Atlas emulator on free 127.0.0.1 ports, for `make demo` and the integration tests.

Why one script: the demo and every end-to-end test need the same two servers wired the same way (the emulator judges
trust policies by reading IAM from moto), the same fake credentials, and a clean stop even when something fails.

    python scripts/servers.py --env-file servers.env [--propagation-delay 3] [--project NAME ...] [-- COMMAND ...]

With a COMMAND it runs it with the servers' variables in its environment, stops both servers and exits with the
command's status. Without one it serves until SIGTERM/SIGINT. Either way the env file (shell syntax, one
``NAME='value'`` per line) is written once both servers answer, so a caller can wait for it to appear.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import shlex
import signal
import subprocess
import sys
import threading
import urllib.request

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
EMULATOR = REPO_ROOT / "tests" / "emulator" / "atlas_emulator.py"
STARTUP_TIMEOUT = 60.0

# Fake AWS credentials and endpoint: every AWS call of the run goes to moto on 127.0.0.1, even one that forgets
# aws_endpoint_url (botocore honours AWS_ENDPOINT_URL), and nothing can reach a real account.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}
DEMO_API_KEY = ("demo-public-key", "demo-private-key")
DEMO_SERVICE_ACCOUNT = ("mdb_sa_id_demo", "mdb_sa_sk_demo")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Options before ``--``; everything after it is the command to run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", type=pathlib.Path, help="where to write the servers' variables")
    parser.add_argument("--propagation-delay", type=float, default=0.0,
                        help="seconds the emulator waits before it accepts a newly valid trust policy")
    parser.add_argument("--project", action="append", default=[], metavar="NAME",
                        help="create an Atlas project in the emulator; its id is written as ATLAS_PROJECT_ID_<n>")
    parser.add_argument("--aws-request-log", type=pathlib.Path, metavar="PATH",
                        help="record every request moto receives to PATH (JSON lines; moto's recorder), for tests "
                             "that prove a run wrote nothing to IAM")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...] to run with the servers up")
    args = parser.parse_args(argv)
    if args.command and args.command[0] == "--":
        args.command = args.command[1:]
    return args


def start_moto(request_log: pathlib.Path | None = None) -> tuple[object, str]:
    """moto's threaded server in this process: real HTTP on a free loopback port."""
    os.environ.update(FAKE_AWS_ENV)
    if request_log is not None:  # read by moto's recorder when moto is imported
        os.environ["MOTO_ENABLE_RECORDING"] = "true"
        os.environ["MOTO_RECORDER_FILEPATH"] = str(request_log)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per IAM call in the demo output
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def start_emulator(moto_url: str, propagation_delay: float) -> tuple[subprocess.Popen, str]:
    """The emulator as a child process; its first stdout line names its URL."""
    command = [
        sys.executable, str(EMULATOR), "--host", "127.0.0.1", "--port", "0", "--aws-endpoint-url", moto_url,
        "--propagation-delay", str(propagation_delay),
        "--api-key", ":".join(DEMO_API_KEY), "--service-account", ":".join(DEMO_SERVICE_ACCOUNT),
    ]
    env = dict(os.environ, **FAKE_AWS_ENV)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=env, text=True)  # pylint: disable=consider-using-with
    url_holder: list[str] = []

    def read_url() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("ATLAS_EMULATOR_URL="):
                url_holder.append(line.strip().split("=", 1)[1])
                return

    reader = threading.Thread(target=read_url, daemon=True)
    reader.start()
    reader.join(STARTUP_TIMEOUT)
    if not url_holder:
        stop_emulator(process)
        raise SystemExit(f"the Atlas emulator did not start within {STARTUP_TIMEOUT:.0f} s (exit code {process.poll()})")
    return process, url_holder[0]


def stop_emulator(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it does not stop in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def create_project(emulator_url: str, name: str) -> str:
    """Create a project through the emulator's (unauthenticated, test-only) control API."""
    request = urllib.request.Request(f"{emulator_url}/_emulator/projects", data=json.dumps({"name": name}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:  # nosec: loopback emulator only
        return json.load(response)["id"]


def server_variables(moto_url: str, emulator_url: str, project_ids: list[str],
                     request_log: pathlib.Path | None = None) -> dict[str, str]:
    """Everything a playbook run needs to reach the two servers; the Atlas modules read these env names."""
    variables = dict(FAKE_AWS_ENV)
    if request_log is not None:
        variables["AWS_REQUEST_LOG"] = str(request_log)
    variables.update({
        "MOTO_URL": moto_url,
        "AWS_ENDPOINT_URL": moto_url,
        "ATLAS_EMULATOR_URL": emulator_url,
        "MONGODB_ATLAS_BASE_URL": emulator_url,
        "MONGODB_ATLAS_PUBLIC_API_KEY": DEMO_API_KEY[0],
        "MONGODB_ATLAS_PRIVATE_API_KEY": DEMO_API_KEY[1],
        "EMULATOR_CLIENT_ID": DEMO_SERVICE_ACCOUNT[0],
        "EMULATOR_CLIENT_SECRET": DEMO_SERVICE_ACCOUNT[1],
    })
    for number, project_id in enumerate(project_ids, start=1):
        variables[f"ATLAS_PROJECT_ID_{number}"] = project_id
    return variables


def write_env_file(path: pathlib.Path, variables: dict[str, str]) -> None:
    """Write atomically, so a caller polling for the file never reads half of it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text("".join(f"{name}={shlex.quote(value)}\n" for name, value in variables.items()), encoding="utf-8")
    partial.replace(path)


def main(argv: list[str] | None = None) -> int:
    """Start both servers, then run the command or wait for a signal; always stop both."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    moto_server, moto_url = start_moto(args.aws_request_log)
    emulator = None
    try:
        emulator, emulator_url = start_emulator(moto_url, args.propagation_delay)
        project_ids = [create_project(emulator_url, name) for name in args.project]
        variables = server_variables(moto_url, emulator_url, project_ids, args.aws_request_log)
        if args.env_file:
            write_env_file(args.env_file, variables)
        print(f"moto IAM server: {moto_url}\nAtlas emulator: {emulator_url}", file=sys.stderr, flush=True)
        if args.command:
            child = subprocess.Popen(args.command, env=dict(os.environ, **variables))  # pylint: disable=consider-using-with
            while child.poll() is None and not stop.wait(0.2):
                pass
            if child.poll() is None:
                child.terminate()
            return child.wait()
        while not stop.wait(0.5):
            if emulator.poll() is not None:
                print("the Atlas emulator stopped unexpectedly", file=sys.stderr)
                return 1
        return 0
    finally:
        if emulator is not None:
            stop_emulator(emulator)
        moto_server.stop()
        if args.env_file:
            args.env_file.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
