"""A one-node SLURM cluster on localhost for the tests (Debian's slurm-wlm and munge).

Facts behind the recipe (SLURM.md, measured on this kind of machine): the packages
install in about 7 s; slurm.conf must be ``/etc/slurm/slurm.conf`` (the executor
plugin's job step drops ``SLURM_CONF``); without accounting storage the plugin needs
``--slurm-status-command squeue``; nothing needs systemd or cgroups. The daemons are
started here and stopped by process id; the configuration is removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tests.apt import apt_install

SLURM_CONF = Path("/etc/slurm/slurm.conf")
PACKAGES = ("slurm-wlm", "munge")


def _run(*command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def install() -> None:
    """Install slurm-wlm and munge with apt-get where slurmctld is missing."""
    apt_install(PACKAGES, ("slurmctld", "munged"))


def _conf(state: Path, cpus: int, memory_mb: int) -> str:
    return "\n".join([
        "ClusterName=necomimi-test",
        "SlurmctldHost=localhost(127.0.0.1)",
        "SlurmUser=root",
        "SlurmdUser=root",
        "AuthType=auth/munge",
        "CryptoType=crypto/munge",
        "MpiDefault=none",
        "MailProg=/bin/true",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core_Memory",
        "SchedulerType=sched/backfill",
        "ReturnToService=2",
        f"StateSaveLocation={state}/state",
        f"SlurmdSpoolDir={state}/spool",
        f"SlurmctldPidFile={state}/run/slurmctld.pid",
        f"SlurmdPidFile={state}/run/slurmd.pid",
        f"SlurmctldLogFile={state}/log/slurmctld.log",
        f"SlurmdLogFile={state}/log/slurmd.log",
        "SlurmctldPort=6817",
        "SlurmdPort=6818",
        "AccountingStorageType=accounting_storage/none",
        "JobCompType=jobcomp/filetxt",
        f"JobCompLoc={state}/log/jobcomp.txt",
        "MinJobAge=300",
        "KillWait=5",
        "InactiveLimit=0",
        f"NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN",
        "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        "",
    ])  # fmt: skip


def _memory_mb() -> int:
    total_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                    if line.startswith("MemTotal:"))  # fmt: skip
    return int(total_kb / 1024 * 0.8)


class Cluster:
    """munged, slurmctld and slurmd on localhost; :meth:`stop` ends them by process id."""

    def __init__(self, state: Path):
        self.state = state
        self.pids: dict[str, int] = {}

    def start(self) -> Cluster:
        """Write slurm.conf, start the daemons and wait until the node is idle."""
        if SLURM_CONF.exists():
            raise RuntimeError(f"{SLURM_CONF} exists: this machine already has a SLURM configuration; not touching it")
        for folder in ("state", "spool", "run", "log"):
            (self.state / folder).mkdir(parents=True, exist_ok=True)
        SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
        SLURM_CONF.write_text(_conf(self.state, os.cpu_count() or 1, _memory_mb()))
        munge_run = Path("/run/munge")
        munge_run.mkdir(parents=True, exist_ok=True)
        shutil.chown(munge_run, "munge", "munge")
        munge_pid = munge_run / "munged.pid"  # written by the munge user
        _run("runuser", "-u", "munge", "--", "munged", "--force")
        self.pids["munged"] = int(munge_pid.read_text())
        _run("slurmctld", "-c")
        self.pids["slurmctld"] = self._pid("slurmctld.pid")
        _run("slurmd", "-N", "localhost")
        self.pids["slurmd"] = self._pid("slurmd.pid")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True).stdout.strip()
            if state == "idle":
                return self
            time.sleep(0.2)
        raise RuntimeError(f"the SLURM node did not become idle (sinfo: {state!r}); see {self.state / 'log'}")

    def _pid(self, name: str) -> int:
        path = self.state / "run" / name
        for _ in range(100):
            if path.is_file() and path.read_text().strip():
                return int(path.read_text())
            time.sleep(0.05)
        raise RuntimeError(f"{path}: no process id written")

    def jobs(self) -> list[dict]:
        """Every job the controller remembers (finished ones for MinJobAge): id, comment, state."""
        out = _run("squeue", "--states=all", "-h", "-o", "%i|%k|%T").stdout
        return [dict(zip(("id", "comment", "state"), line.split("|"), strict=True)) for line in out.splitlines()]

    def stop(self) -> None:
        """Stop the daemons by process id and remove slurm.conf."""
        for name in ("slurmd", "slurmctld", "munged"):
            pid = self.pids.pop(name, None)
            if pid is None:
                continue
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            for _ in range(100):
                if not _alive(pid):
                    break
                time.sleep(0.05)
            else:
                os.kill(pid, signal.SIGKILL)
        SLURM_CONF.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie counts as stopped: PID 1 may not reap it at once)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return status.rsplit(")", 1)[1].split()[0] != "Z"
