"""How `make bench` runs things: the paths it works in, the environment every child process
gets (offline: Ollama only ever at a dead address or the fake server), running a child
and measuring its wall time and peak RSS (through bench/peak.py), waiting for a server to
answer, and timing each section so one broken section does not lose the others.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from results import Bench

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

OUT = BENCH / "out"
PY = sys.executable
RAG = str(Path(sys.executable).with_name("rag"))
BUDGET_S = 14 * 60  # `make bench` must finish in 15 minutes on 2 cores


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


DEAD = dead_url()


def child_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RAG_", "CHROMA_")) and k not in ("OPENAI_API_KEY", "OLLAMA_HOST")
    }
    env.update(
        {
            "OLLAMA_HOST": DEAD,
            "RAG_EMBEDDER": "builtin",
            "RAG_PROBE_TIMEOUT": "0.5",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


@dataclass
class Proc:
    out: str
    wall: float
    maxrss_mb: float
    code: int

    def json(self) -> dict[str, Any]:
        lines = [ln for ln in self.out.strip().splitlines() if ln.strip()]
        if self.code != 0 or not lines:
            raise RuntimeError(f"child failed (exit {self.code}): {self.out[-800:]}")
        result: dict[str, Any] = json.loads(lines[-1])
        return result


def run(cmd: Sequence[str], env: dict[str, str], timeout: float = 1200) -> Proc:
    """Run a child; its wall time and peak RSS, measured by bench/peak.py (see there)."""
    peak_file = OUT / "peak.json"
    peak_file.unlink(missing_ok=True)
    proc = _run([PY, "-S", str(BENCH / "peak.py"), str(peak_file), *cmd], env, timeout)
    try:
        peak = json.loads(peak_file.read_text("utf-8"))
    except (OSError, ValueError):
        return proc
    return Proc(proc.out, float(peak["wall"]), peak["maxrss_kb"] / 1024.0, int(peak["code"]))


def _run(cmd: Sequence[str], env: dict[str, str], timeout: float) -> Proc:
    log = OUT / "children.log"
    with open(log, "a", encoding="utf-8") as err:
        err.write(f"\n$ {' '.join(cmd)}\n")
        err.flush()
        t0 = time.perf_counter()
        p = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=err, env=env, cwd=ROOT)
        timer = threading.Timer(timeout, p.kill)
        timer.start()
        assert p.stdout is not None
        out = p.stdout.read().decode("utf-8", "replace")
        _pid, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
    return Proc(out, wall, usage.ru_maxrss / 1024.0, p.returncode)


def ready(cmd: list[str], env: dict[str, str], port: int, timeout: float = 120) -> float:
    """Seconds from starting a server until GET / on `port` answers 200; then stop it."""
    t0 = time.perf_counter()
    log = open(OUT / "children.log", "a", encoding="utf-8")  # noqa: SIM115
    p = subprocess.Popen(cmd, stdout=log, stderr=log, env=env, cwd=ROOT)
    try:
        while time.perf_counter() - t0 < timeout:
            if p.poll() is not None:
                raise RuntimeError(f"{cmd[0]} exited with {p.returncode} before it was ready")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"not ready after {timeout} s")
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()


@contextlib.contextmanager
def section(bench: Bench, name: str) -> Iterator[None]:
    print(f"\n== {name}", flush=True)
    t0 = time.perf_counter()
    try:
        yield
    except Exception as exc:  # one broken section must not lose the others
        msg = f"{name}: not measured ({type(exc).__name__}: {str(exc)[:300]})"
        print("  " + msg, flush=True)
        bench.notes.append(msg)
    finally:
        bench.durations[name] = time.perf_counter() - t0


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
