#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmarks for `make bench`: the real playbook against the Atlas emulator and moto's IAM server on 127.0.0.1.

Why a script and not tests: timings depend on the machine, so they are measured and published (docs/performance.md),
never asserted. Three sub-commands, because the chart needs matplotlib, which the test venv does not carry:

    bench.py run RESULTS.json        measure (venv with ansible-core, httpx, boto3, moto; collection staged)
    bench.py chart RESULTS.json DIR  draw DIR/performance-fleet.png and DIR/performance-propagation.png (matplotlib)
    bench.py report RESULTS.json DOC print the tables and rewrite the generated part of DOC

Every figure is the median and the spread (min-max) of BENCH_RUNS runs (default 5). Each run uses fresh Atlas
projects and fresh IAM roles, so no run profits from another one's state.
"""

from __future__ import annotations

import json
import os
import pathlib
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from typing import Any, Callable

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
IAM_WRITE_PREFIXES = ("Create", "Update", "Delete", "Put", "Tag", "Untag", "Attach", "Detach")
PROBE = REPO_ROOT / "tests" / "integration" / "targets" / "setup_unified_access" / "files" / "probe.py"
PROPAGATION_DELAYS = (0, 2, 5, 10)
FLEET_SIZES = (1, 4, 8, 16)
FLEET_FORKS = 8
MODULES = ("atlas_access_role", "atlas_access_role_info", "iam_trust_policy_info", "iam_trust_statement")
# Task names of the role whose module talks to Atlas; used to count Atlas module runs from the playbook output.
ATLAS_TASKS = ("Create the project's Atlas AWS access role", "Authorize the Atlas role",
               "List the project's Atlas AWS access roles", "Deauthorize the Atlas roles")
AWS_TASKS = ("Look up the IAM role", "Write the trust grants of every host sharing this IAM role",
             "Remove the trust grants of every project")
USER_AGENT_MARK = "atlas_ops.aws_access"  # the collection's boto3 clients add it to the user agent
BOOL_OUT = {True: "yes", False: "no"}


# ---- servers and counting ------------------------------------------------------------------------------------------

class ConnectionCounter:
    """A TCP relay in front of a server that counts the connections clients open (keep-alive reuse shows here)."""

    def __init__(self, upstream_url: str) -> None:
        parts = urllib.parse.urlsplit(upstream_url)
        self.upstream = (parts.hostname, parts.port)
        self.count = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> int:
        with self._lock:
            count, self.count = self.count, 0
        return count

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.count += 1
            upstream = socket.create_connection(self.upstream)
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class World:
    """The two servers (started by scripts/servers.py), their counters, and ways to arrange fresh state."""

    def __init__(self, work_dir: pathlib.Path) -> None:
        self.work_dir = work_dir
        self.aws_log = work_dir / "aws-requests.jsonl"
        env_file = work_dir / "servers.env"
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, str(REPO_ROOT / "scripts" / "servers.py"), "--env-file", str(env_file),
             "--aws-request-log", str(self.aws_log)], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not env_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the servers did not start")
            time.sleep(0.1)
        self.env: dict[str, str] = {}
        for line in env_file.read_text(encoding="utf-8").splitlines():
            name, _equals, value = line.partition("=")
            self.env[name] = value.strip("'")
        self.atlas_proxy = ConnectionCounter(self.env["ATLAS_EMULATOR_URL"])
        self.aws_proxy = ConnectionCounter(self.env["MOTO_URL"])
        os.environ.update({name: value for name, value in self.env.items() if name.startswith("AWS_")})
        import boto3  # pylint: disable=import-outside-toplevel  # only the run sub-command needs it
        self.iam = boto3.client("iam", endpoint_url=self.env["MOTO_URL"], region_name="us-east-1")
        self.serial = 0
        os.environ["AWS_REQUEST_LOG"] = str(self.aws_log)  # where the probe reads moto's recorder log
        self.probe = load_probe()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def control(self, method: str, path: str, body: object = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.env["ATLAS_EMULATOR_URL"] + "/_emulator" + path, data=data,
                                         method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:  # nosec: loopback emulator only
            payload = response.read()
        return json.loads(payload) if payload else None

    def unique(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial:04d}"

    def new_project(self) -> str:
        return self.control("POST", "/projects", {"name": self.unique("bench")})["id"]

    def new_iam_role(self) -> str:
        name = self.unique("bench-role")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [self.probe.EC2_STATEMENT]}))
        return name

    def delay(self, seconds: float) -> None:
        self.control("PUT", "/settings", {"propagation_delay": seconds})

    def clear(self) -> None:
        self.control("DELETE", "/requests")
        self.aws_log.write_text("", encoding="utf-8")
        self.atlas_proxy.reset()
        self.aws_proxy.reset()

    def collection_iam_actions(self) -> list[str]:
        """IAM actions the collection's modules sent (their user agent names it): the emulator's own GetRole calls,
        made to judge trust policies, are the emulator's cost, not the collection's."""
        mine = self.work_dir / "aws-requests-collection.jsonl"
        with mine.open("w", encoding="utf-8") as out:
            for line in self.aws_log.read_text(encoding="utf-8").splitlines():
                if USER_AGENT_MARK in json.loads(line).get("headers", {}).get("User-Agent", ""):
                    out.write(line + "\n")
        os.environ["AWS_REQUEST_LOG"] = str(mine)
        try:
            return self.probe.iam_actions_seen()
        finally:
            os.environ["AWS_REQUEST_LOG"] = str(self.aws_log)

    def counts(self) -> dict[str, Any]:
        """Requests since clear(), split by service and read/write, and the connections opened."""
        atlas = self.control("GET", "/requests")
        challenges = [entry for entry in atlas if entry.get("status") == 401]
        answered = [entry for entry in atlas if entry.get("status") != 401]
        iam = self.collection_iam_actions()
        return {
            "atlas_reads": sum(1 for entry in answered if entry["method"] not in WRITE_METHODS),
            "atlas_writes": sum(1 for entry in answered if entry["method"] in WRITE_METHODS),
            "atlas_auth_challenges": len(challenges),
            "atlas_requests": [f"{entry['method']} {entry['path']} {entry['status']}" for entry in atlas],
            "aws_reads": sum(1 for action in iam if not action.startswith(IAM_WRITE_PREFIXES)),
            "aws_writes": sum(1 for action in iam if action.startswith(IAM_WRITE_PREFIXES)),
            "aws_requests": iam,
            "atlas_connections": self.atlas_proxy.reset(),
            "aws_connections": self.aws_proxy.reset(),
        }


def load_probe() -> Any:
    """The end-to-end tests' probe (tests/integration/.../probe.py): one reader of moto's recorder log, not two."""
    import importlib.util  # pylint: disable=import-outside-toplevel
    spec = importlib.util.spec_from_file_location("probe", PROBE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def module_runs(output: str) -> dict[str, int]:
    """How many Atlas and AWS module executions the playbook output shows (one result line per host and loop item)."""
    runs = {"atlas": 0, "aws": 0}
    service = None
    for line in output.splitlines():
        if line.startswith("TASK ["):
            service = ("atlas" if any(name in line for name in ATLAS_TASKS)
                       else "aws" if any(name in line for name in AWS_TASKS) else None)
        elif service and re.match(r"^(ok|changed|failed|fatal): \[", line) and "skipping" not in line:
            runs[service] += 1
    return runs


def playbook(world: World, inventory: pathlib.Path, extra: list[str], forks: int = 5) -> dict[str, Any]:
    """Run the collection's playbook once; wall time, counts, recap, and the authorize results (waited, attempts)."""
    env = dict(os.environ, **world.env)
    env.update({"MONGODB_ATLAS_BASE_URL": world.atlas_proxy.url, "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_CALLBACK_RESULT_FORMAT": "json", "ANSIBLE_DEPRECATION_WARNINGS": "0"})
    command = [str(pathlib.Path(sys.executable).with_name("ansible-playbook")), "atlas_ops.aws_access.unified_access",
               "-i", str(inventory), "-f", str(forks), "-v", "-e", f"aws_endpoint_url={world.aws_proxy.url}",
               "-e", "unified_access_no_log=false", "-e", "unified_access_hosts=all"] + extra
    world.clear()
    start = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-6000:] + completed.stderr[-3000:])
        raise SystemExit(f"the playbook failed: {' '.join(command)}")
    recap = [line for line in completed.stdout.splitlines() if re.match(r"^\S.* : ok=", line)]
    waited = [float(value) for value in re.findall(r'"waited": ([0-9.]+)', completed.stdout)]
    attempts = [int(value) for value in re.findall(r'"attempts": ([0-9]+)', completed.stdout)]
    result = {"seconds": seconds, "changed": any(re.search(r"changed=[1-9]", line) for line in recap),
              "waited": waited, "attempts": attempts, "module_runs": module_runs(completed.stdout)}
    result.update(world.counts())
    return result


def inventory_file(world: World, projects: list[str], roles: list[str]) -> pathlib.Path:
    """One host per Atlas project; each host names its IAM role (shared or its own)."""
    path = world.work_dir / f"{world.unique('inventory')}.yml"
    hosts = {f"project-{number:02d}": {"atlas_project_id": project, "aws_iam_role_name": role,
                                       "ansible_connection": "local",
                                       "ansible_python_interpreter": sys.executable}
             for number, (project, role) in enumerate(zip(projects, roles), start=1)}
    path.write_text(json.dumps({"all": {"hosts": hosts}}), encoding="utf-8")
    return path


# ---- the measurements ----------------------------------------------------------------------------------------------

def bench_single(world: World, runs: int) -> dict[str, list[dict[str, Any]]]:
    """One project, one IAM role: fresh setup, rerun, teardown."""
    phases: dict[str, list[dict[str, Any]]] = {"setup": [], "rerun": [], "teardown": []}
    for run in range(runs):
        inventory = inventory_file(world, [world.new_project()], [world.new_iam_role()])
        phases["setup"].append(playbook(world, inventory, []))
        phases["rerun"].append(playbook(world, inventory, []))
        phases["teardown"].append(playbook(world, inventory, ["-e", "unified_access_state=absent"]))
        progress(f"single project run {run + 1}/{runs}: setup {phases['setup'][-1]['seconds']:.1f} s, "
                 f"rerun {phases['rerun'][-1]['seconds']:.1f} s")
    return phases


def bench_propagation(world: World, runs: int) -> dict[str, list[dict[str, Any]]]:
    """Fresh setups under each emulator propagation delay; overshoot = authorize time beyond the delay."""
    results: dict[str, list[dict[str, Any]]] = {}
    for delay in PROPAGATION_DELAYS:
        world.delay(delay)
        results[str(delay)] = []
        for _run in range(runs):
            inventory = inventory_file(world, [world.new_project()], [world.new_iam_role()])
            outcome = playbook(world, inventory, [])
            # The emulator starts the delay when an authorize call first finds the trust statement, which is the
            # module's first try (the statement is written before): waited - delay is the time lost after it ended.
            outcome["overshoot"] = max(0.0, outcome["waited"][0] - delay) if outcome["waited"] else None
            results[str(delay)].append(outcome)
        progress(f"propagation delay {delay} s: overshoot median "
                 f"{statistics.median(r['overshoot'] for r in results[str(delay)]):.2f} s")
    world.delay(0)
    return results


def bench_fleet(world: World, runs: int) -> dict[str, list[dict[str, Any]]]:
    """N projects, forks 8: all sharing one IAM role, or one IAM role each."""
    results: dict[str, list[dict[str, Any]]] = {}
    for size in FLEET_SIZES:
        for layout in ("shared", "own"):
            key = f"{layout}-{size}"
            results[key] = []
            for _run in range(runs):
                projects = [world.new_project() for _project in range(size)]
                if layout == "shared":
                    roles = [world.new_iam_role()] * size
                else:
                    roles = [world.new_iam_role() for _project in range(size)]
                # 16 one-statement grants overflow IAM's default trust policy size quota: a shared role merges them.
                extra = ["-e", "unified_access_trust_merge=true"] if layout == "shared" else []
                results[key].append(playbook(world, inventory_file(world, projects, roles), extra, forks=FLEET_FORKS))
            progress(f"fleet {key}: median {statistics.median(r['seconds'] for r in results[key]):.1f} s")
    return results


def bench_startup(runs: int, stage_root: str) -> dict[str, Any]:
    """Import cost of each module in a fresh interpreter, and whether it pulled in boto3 / httpx."""
    code = ("import sys, time; t = time.perf_counter(); import {target}; "
            "print(time.perf_counter() - t, 'boto3' in sys.modules, 'httpx' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=stage_root)
    results: dict[str, Any] = {}
    targets = {"baseline (ansible.module_utils.basic)": "ansible.module_utils.basic"}
    targets.update({name: f"ansible_collections.atlas_ops.aws_access.plugins.modules.{name}" for name in MODULES})
    for label, target in targets.items():
        samples = []
        for _run in range(runs):
            start = time.perf_counter()
            output = subprocess.run([sys.executable, "-c", code.format(target=target)], env=env, check=True,
                                    capture_output=True, text=True).stdout.split()
            samples.append({"process": time.perf_counter() - start, "import": float(output[0]),
                            "boto3": output[1] == "True", "httpx": output[2] == "True"})
        results[label] = samples
    return results


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine() -> dict[str, str]:
    """What the figures were taken on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import ansible  # pylint: disable=import-outside-toplevel
    from ansible.release import __version__ as ansible_version  # pylint: disable=import-outside-toplevel
    del ansible
    return {"cpu": cpu, "cpus": str(os.cpu_count()), "python": platform.python_version(),
            "ansible_core": ansible_version, "os": f"{platform.system()} {platform.release()}",
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def command_run(out: pathlib.Path) -> None:
    runs = int(os.environ.get("BENCH_RUNS", "5"))
    stage_root = os.environ["BENCH_STAGE_ROOT"]
    results: dict[str, Any] = {"runs": runs, "machine": machine()}
    started = time.perf_counter()
    results["startup"] = bench_startup(max(runs, 5), stage_root)
    progress("module start-up measured")
    # BENCH_SECTIONS picks a subset (comma-separated); the others are copied from BENCH_PREVIOUS (a results file of
    # an earlier run), e.g. to re-measure the one-project figures after a change without the 10-minute fleet part.
    sections = os.environ.get("BENCH_SECTIONS", "single,propagation,fleet").split(",")
    previous = json.loads(pathlib.Path(os.environ["BENCH_PREVIOUS"]).read_text(encoding="utf-8")) \
        if os.environ.get("BENCH_PREVIOUS") else {}
    results["reused"] = {}
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as work:
        world = World(pathlib.Path(work))
        try:
            for name, measure in (("single", bench_single), ("propagation", bench_propagation), ("fleet", bench_fleet)):
                if name in sections:
                    results[name] = measure(world, runs)
                elif name in previous:
                    results[name] = previous[name]
                    results["reused"][name] = previous["machine"]["date"]
                else:
                    raise SystemExit(f"section {name} is neither measured (BENCH_SECTIONS) nor in BENCH_PREVIOUS")
        finally:
            world.stop()
    results["total_seconds"] = time.perf_counter() - started
    out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    progress(f"done in {results['total_seconds']:.0f} s; results in {out}")


# ---- report and chart ----------------------------------------------------------------------------------------------

def spread(values: list[float], digits: int = 2, unit: str = "") -> str:
    """median (min-max)"""
    values = [value for value in values if value is not None]
    if not values:
        return "-"
    fmt = f"{{:.{digits}f}}"
    median = fmt.format(statistics.median(values))
    if min(values) == max(values):
        return f"{median}{unit}"
    return f"{median}{unit} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _column in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def per_run(samples: list[dict[str, Any]], key: str) -> list[float]:
    return [sample[key] for sample in samples]


def connections_per_module_run(samples: list[dict[str, Any]], service: str) -> str:
    ratios = [sample[f"{service}_connections"] / sample["module_runs"][service]
              for sample in samples if sample["module_runs"][service]]
    return spread(ratios, 2) if ratios else "-"


def render(results: dict[str, Any]) -> str:
    """The generated Markdown: tables of every figure."""
    out: list[str] = []
    m = results["machine"]
    out.append(f"Measured on {m['date']}: {m['cpu']}, {m['cpus']} CPUs, {m['os']}, Python {m['python']}, "
               f"ansible-core {m['ansible_core']}; {results['runs']} runs per figure, shown as median (min-max); "
               f"whole benchmark {results['total_seconds'] / 60:.1f} min.")
    for name, date in results.get("reused", {}).items():
        out.append(f"The {name} figures are from the run of {date} (BENCH_SECTIONS left them out of this one).")
    out.append("")
    out.append("### One project: requests, connections and wall time")
    out.append("")
    rows = []
    for phase, samples in results["single"].items():
        rows.append([phase, spread(per_run(samples, "seconds"), 2, " s"),
                     spread(per_run(samples, "atlas_reads"), 0), spread(per_run(samples, "atlas_writes"), 0),
                     spread(per_run(samples, "atlas_auth_challenges"), 0),
                     spread(per_run(samples, "aws_reads"), 0), spread(per_run(samples, "aws_writes"), 0),
                     connections_per_module_run(samples, "atlas"), connections_per_module_run(samples, "aws"),
                     BOOL_OUT[any(sample["changed"] for sample in samples)]])
    out.append(table(["run", "wall time", "Atlas reads", "Atlas writes", "Atlas digest challenges", "AWS reads",
                      "AWS writes", "Atlas connections per module run", "AWS connections per module run",
                      "changed"], rows))
    out.append("")
    rerun = results["single"]["rerun"][0]
    out.append("Requests of one rerun, in order: Atlas " + ", ".join(f"`{r}`" for r in rerun["atlas_requests"])
               + "; AWS " + ", ".join(f"`{r}`" for r in rerun["aws_requests"]) + ".")
    out.append("")
    out.append("### Propagation: time lost after the IAM propagation delay ended")
    out.append("")
    rows = []
    for delay, samples in results["propagation"].items():
        goal = 0.25 * float(delay) + 1.0
        overshoot = per_run(samples, "overshoot")
        rows.append([f"{delay} s", spread(overshoot, 2, " s"), f"{goal:.2f} s",
                     BOOL_OUT[statistics.median(overshoot) <= goal],
                     spread([s["attempts"][0] for s in samples if s["attempts"]], 0),
                     spread(per_run(samples, "seconds"), 2, " s")])
    out.append(table(["emulator delay", "overshoot (authorized - delay end)", "goal (25 % + 1 s)", "median within goal",
                      "authorize attempts", "setup wall time"], rows))
    out.append("")
    out.append(f"### Fleet: N projects, forks {FLEET_FORKS}")
    out.append("")
    rows = []
    for key, samples in results["fleet"].items():
        layout, size = key.split("-")
        rows.append([size, "one shared IAM role (merge)" if layout == "shared" else "one IAM role each",
                     spread(per_run(samples, "seconds"), 2, " s"),
                     spread([s["seconds"] / int(size) for s in samples], 2, " s"),
                     spread(per_run(samples, "atlas_reads"), 0), spread(per_run(samples, "atlas_writes"), 0),
                     spread(per_run(samples, "aws_reads"), 0), spread(per_run(samples, "aws_writes"), 0)])
    out.append(table(["projects", "IAM roles", "wall time", "per project", "Atlas reads", "Atlas writes",
                      "AWS reads", "AWS writes"], rows))
    out.append("")
    out.append("![Fleet scaling](performance-fleet.png)")
    out.append("")
    out.append("![Propagation overshoot](performance-propagation.png)")
    out.append("")
    out.append("### Module start-up (fresh interpreter, import of the module file)")
    out.append("")
    rows = []
    for label, samples in results["startup"].items():
        rows.append([f"`{label}`", spread([s["import"] * 1000 for s in samples], 0, " ms"),
                     spread([s["process"] * 1000 for s in samples], 0, " ms"),
                     BOOL_OUT[samples[0]["boto3"]], BOOL_OUT[samples[0]["httpx"]]])
    out.append(table(["module", "import", "whole process", "imports boto3", "imports httpx"], rows))
    return "\n".join(out)


BEGIN = "<!-- bench:begin (generated by make bench; edits between these markers are overwritten) -->"
END = "<!-- bench:end -->"


def command_report(results_path: pathlib.Path, doc: pathlib.Path) -> None:
    results = json.loads(results_path.read_text(encoding="utf-8"))
    generated = render(results)
    print(generated)
    text = doc.read_text(encoding="utf-8") if doc.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{doc} lacks the markers {BEGIN} ... {END}")
    head, rest = text.split(BEGIN, 1)
    _generated, tail = rest.split(END, 1)
    doc.write_text(f"{head}{BEGIN}\n{generated}\n{END}{tail}", encoding="utf-8")


def command_chart(results_path: pathlib.Path, directory: pathlib.Path) -> None:
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    results = json.loads(results_path.read_text(encoding="utf-8"))
    figure, (wall, writes) = plt.subplots(1, 2, figsize=(10, 4))
    for layout, label in (("shared", "one shared IAM role"), ("own", "one IAM role each")):
        sizes, medians, lows, highs, aws_writes = [], [], [], [], []
        for size in FLEET_SIZES:
            samples = results["fleet"][f"{layout}-{size}"]
            seconds = [s["seconds"] for s in samples]
            sizes.append(size)
            medians.append(statistics.median(seconds))
            lows.append(statistics.median(seconds) - min(seconds))
            highs.append(max(seconds) - statistics.median(seconds))
            aws_writes.append(statistics.median(s["aws_writes"] for s in samples))
        wall.errorbar(sizes, medians, yerr=[lows, highs], marker="o", capsize=3, label=label)
        writes.plot(sizes, aws_writes, marker="o", label=label)
    wall.set(title=f"Fresh setup wall time (forks {FLEET_FORKS})", xlabel="projects", ylabel="seconds", xticks=FLEET_SIZES)
    writes.set(title="IAM writes per fresh setup", xlabel="projects", ylabel="UpdateAssumeRolePolicy calls",
               xticks=FLEET_SIZES)
    for axis in (wall, writes):
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(directory / "performance-fleet.png", dpi=100)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(6, 4))
    delays = [float(delay) for delay in results["propagation"]]
    overshoot = [[s["overshoot"] for s in results["propagation"][delay]] for delay in results["propagation"]]
    axis.boxplot(overshoot, positions=delays, widths=0.8)
    axis.plot(delays, [0.25 * d + 1 for d in delays], linestyle="--", label="goal: 25 % of the delay + 1 s")
    axis.set(title="Authorized after the IAM propagation delay ended", xlabel="emulator propagation delay (s)",
             ylabel="overshoot (s)", xticks=delays, xticklabels=[f"{d:g}" for d in delays])
    axis.set_xlim(-1, max(delays) + 1)
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(directory / "performance-propagation.png", dpi=100)
    plt.close(figure)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop the servers
    commands: dict[str, Callable[..., None]] = {"run": command_run, "chart": command_chart, "report": command_report}
    if not argv or argv[0] not in commands:
        raise SystemExit(__doc__)
    commands[argv[0]](*[pathlib.Path(arg) for arg in argv[1:]])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
