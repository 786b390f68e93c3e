"""Offline, proven: a whole run (ingest with Ollama embeddings, ask with an Ollama model,
the chat UI served and used) makes no connection attempt and no name lookup beyond
loopback, recorded by an in-process socket guard (tests/netguard.py); and the CLI ingests
and answers in a subprocess with no network at all (`unshare -n`, where permitted).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import httpx
import pytest

from core.settings import load_settings
from rag.cli import main
from tests.fake_ollama import FakeOllama
from tests.netguard import NetGuard, NetworkBlocked, is_loopback_host

RAG = str(Path(sys.executable).with_name("rag"))
QUESTION = "how many H100s does Meta plan to have?"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_guard_blocks_the_outside_and_lets_loopback_through(fake_ollama: FakeOllama) -> None:
    """The guard itself: it must be able to fail."""
    assert is_loopback_host("127.0.0.1") and is_loopback_host("::1")
    assert is_loopback_host("::ffff:127.0.0.1") and is_loopback_host("localhost")
    assert not is_loopback_host("10.0.0.1") and not is_loopback_host("example.com")
    assert is_loopback_host("0.0.0.0")  # connecting there reaches this host
    before = socket.getaddrinfo
    with NetGuard() as guard:
        with pytest.raises(NetworkBlocked, match=r"example\.com"):
            socket.getaddrinfo("example.com", 443)  # a DNS query is already a leak
        with pytest.raises(NetworkBlocked):
            socket.gethostbyname("ollama.example")
        with pytest.raises(NetworkBlocked):
            socket.create_connection(("192.0.2.1", 80), timeout=0.1)
        with (
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
            pytest.raises(NetworkBlocked),
        ):
            sock.connect_ex(("198.51.100.7", 80))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, pytest.raises(NetworkBlocked):
            udp.sendto(b"\x00", ("8.8.8.8", 53))
        # a library that swallows the error is still caught: the attempt is recorded
        with pytest.raises(httpx.ConnectError):
            httpx.get("http://203.0.113.9:11434/api/tags", timeout=0.2)
        assert httpx.get(f"{fake_ollama.url}/api/version", timeout=5).status_code == 200
    assert [a.target.split(":")[0] for a in guard.violations] == [
        "example.com",
        "ollama.example",
        "192.0.2.1",
        "198.51.100.7",
        "8.8.8.8",
        "203.0.113.9",
    ]
    assert any(a.target.endswith(f":{fake_ollama.port}") for a in guard.loopback)
    assert socket.getaddrinfo is before  # uninstalled


def test_ingest_ask_and_serve_stay_on_loopback(
    with_ollama: FakeOllama,
    corpus_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Everything a user does, with Ollama (the fake, on loopback) doing the embedding
    and the answering, and the UI served and asked: no attempt leaves the machine."""
    monkeypatch.setenv("RAG_EMBEDDER", "ollama")
    with_ollama.default_reply = "Meta plans to have more than 340,000 H100 GPUs [1]."
    with NetGuard() as guard:
        assert main(["ingest", "--json", str(corpus_copy)]) == 0
        report = json.loads(capsys.readouterr().out)
        assert len(report["added"]) == 5 and report["embedder"]["kind"] == "ollama"

        assert main(["ask", "--json", QUESTION]) == 0
        answer = json.loads(capsys.readouterr().out)
        assert answer["mode"] == "llm" and answer["citations"], answer

        if Path(__file__).resolve().parents[1].joinpath("ui", "app.py").exists():
            _serve_and_ask(guard)
    assert guard.violations == [], guard.report()
    ports = {a.target.rsplit(":", 1)[-1] for a in guard.loopback}
    assert str(with_ollama.port) in ports  # the guard saw the traffic it allowed
    assert with_ollama.calls("/api/embed") and with_ollama.calls("/api/chat")


def _serve_and_ask(guard: NetGuard) -> None:
    from ui.app import App, launch

    settings = load_settings()
    port = _free_port()
    demo = launch(settings, host="127.0.0.1", port=port)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as resp:
            page = resp.read().decode("utf-8", "replace")
        assert resp.status == 200 and "<html" in page.lower()
        # the handler behind the Ask button, end to end (model: the fake)
        *_, (transcript, turns, *_rest) = App(settings).ask(QUESTION, [], None)
        assert turns and "340" in transcript
    finally:
        demo.close()
    assert any(a.target == f"127.0.0.1:{port}" for a in guard.loopback)


def _unshare_ok() -> str | None:
    if not shutil.which("unshare"):
        return "unshare is not installed"
    try:
        probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare failed: {exc}"
    if probe.returncode != 0:
        return f"unshare -n is not permitted here: {probe.stderr.decode().strip()}"
    return None


_CONNECT = re.compile(
    r"(connect|sendto|sendmsg)\(\d+, .*?sa_family=(AF_INET6?)"
    r'.*?(?:sin6?_port=htons\((\d+)\)).*?(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)")'
)


def _syscall_violations(trace: str) -> tuple[list[str], int]:
    """Non-loopback (or DNS) connect/sendto/sendmsg calls in an strace log, and how many
    IP connection attempts there were in all. A DNS query counts even to a loopback
    resolver (port 53)."""
    bad: list[str] = []
    seen = 0
    for line in trace.splitlines():
        m = _CONNECT.search(line)
        if not m:
            continue
        seen += 1
        port, host = int(m.group(3)), m.group(4) or m.group(5)
        if port == 53 or not is_loopback_host(host):
            bad.append(line.strip())
    return bad, seen


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="network namespaces: Linux")
@pytest.mark.timeout(600)
def test_cli_ingests_answers_and_serves_with_no_network_at_all(
    short_corpus_copy: Path, data_dir: Path
) -> None:
    """`unshare -n`: a new network namespace whose only interface (loopback) is down, so
    any connection or DNS query fails. Ollama is unreachable, so the bundled embedder and
    the model-free answer are used, as on a fresh offline machine. Then loopback is brought
    up and the chat UI is served and fetched. When strace is available, every connect,
    sendto and sendmsg of every process (native code included: Chroma's Rust core) is
    recorded and must stay on loopback, with no DNS query at all."""
    why = _unshare_ok()
    if why:
        pytest.skip(why)
    work = data_dir.parent
    env = {k: v for k, v in os.environ.items() if k != "OLLAMA_HOST"}  # the default host
    env["RAG_EMBEDDER"] = "auto"
    port = _free_port()
    serve = ""
    if shutil.which("ip") and Path(__file__).resolve().parents[1].joinpath("ui").is_dir():
        serve = (
            f' && ip link set lo up && ("{RAG}" serve --port {port} > serve.log 2>&1 & '
            f"echo $! > serve.pid) && ok=1 && for i in $(seq 300); do "
            f'"{sys.executable}" -c "import urllib.request as u; '
            f"open('page.html', 'wb').write(u.urlopen('http://127.0.0.1:{port}/', "
            f'timeout=5).read())" 2>/dev/null && ok=0 && break; sleep 0.3; done; '
            f"kill $(cat serve.pid); test $ok = 0"
        )
    script = (
        f'"{RAG}" ingest --json "{short_corpus_copy}" > ingest.json && '
        f'"{RAG}" ask --no-llm --json "{QUESTION}" > ask.json && '
        f'"{RAG}" ask --json "{QUESTION}" > ask-auto.json' + serve
    )
    command = ["unshare", "-n", "sh", "-c", script]
    traced = shutil.which("strace") is not None
    if traced:
        command = [
            "unshare", "-n", "strace", "-f", "--seccomp-bpf", "-qq",
            "-e", "trace=connect,sendto,sendmsg", "-o", str(work / "trace.txt"),
            "sh", "-c", script,
        ]  # fmt: skip
    run = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=540)
    assert run.returncode == 0, run.stderr + (work / "serve.log").read_text(errors="replace")
    ingest = json.loads((work / "ingest.json").read_text())
    assert len(ingest["added"]) == 4 and ingest["embedder"]["kind"] == "bundled"
    assert "not reachable" in (ingest["note"] or "")
    for name in ("ask.json", "ask-auto.json"):
        answer = json.loads((work / name).read_text())
        assert answer["mode"] == "extractive" and answer["model"] is None, answer
        texts = " ".join(c["text"] for c in answer["citations"] if c["cited"])
        assert "340" in texts, answer
    if serve:
        assert "<html" in (work / "page.html").read_text(errors="replace").lower()
    if traced:
        bad, seen = _syscall_violations((work / "trace.txt").read_text(errors="replace"))
        assert bad == [], "\n".join(bad[:20])
        assert seen >= 1  # the probe of Ollama (refused) and the page fetch were seen


def test_the_syscall_trace_check_can_fail() -> None:
    trace = "\n".join(
        [
            '7 connect(3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")'
            "}, 16) = 0",
            "7 connect(3, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
            'inet_pton(AF_INET6, "2606:4700::1", &sin6_addr), sin6_scope_id=0}, 28) = -1',
            "7 connect(5, {sa_family=AF_INET, sin_port=htons(11434), "
            'sin_addr=inet_addr("127.0.0.1")'
            "}, 16) = 0",
            '7 connect(6, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1',
        ]
    )
    bad, seen = _syscall_violations(trace)
    assert seen == 3 and len(bad) == 2  # DNS (even to a loopback resolver) and a remote host
