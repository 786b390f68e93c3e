"""`rag serve`: loopback by default, a non-loopback bind refused without auth (one line,
exit 1), auth enforced when given, a busy port reported in one line, and the page served
(what `make run` ends with)."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from core.errors import ConfigError, RagError
from core.settings import Settings
from rag.cli import main
from ui.safety import check_bind, is_loopback, parse_auth

RAG = Path(sys.executable).with_name("rag")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("my-laptop.local", False),  # names are not resolved: treated as remote
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_non_loopback_needs_auth() -> None:
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", ("ann", "pw"))
    with pytest.raises(ConfigError, match=r"refusing to serve on 0\.0\.0\.0 without auth"):
        check_bind("0.0.0.0", None)
    assert parse_auth("ann:pa:ss") == ("ann", "pa:ss")
    assert parse_auth(None) is None
    for bad in ("ann", ":pw", "ann:"):
        with pytest.raises(ConfigError, match="expected user:password"):
            parse_auth(bad)


def test_cli_refuses_a_public_bind_without_auth(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", str(free_port())]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: refusing to serve on 0.0.0.0 without authentication")
    assert "--auth" in err and "RAG_UI_AUTH" in err


def test_cli_rejects_a_malformed_rag_ui_auth(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_UI_AUTH", "just-a-name")
    assert main(["serve", "--host", "192.168.1.20"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: invalid RAG_UI_AUTH") and err.count("\n") == 1


def test_auth_is_enforced_when_given(corpus_index: Settings) -> None:
    from ui.app import launch

    port = free_port()
    demo = launch(corpus_index, port=port, auth=("ann", "s3cret"))
    base = f"http://127.0.0.1:{port}"
    try:
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(base + "/config", timeout=10)
        assert info.value.code == 401
        jar = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        form = {"username": "ann", "password": "wrong"}
        with pytest.raises(urllib.error.HTTPError) as info:
            jar.open(base + "/login", data=urllib.parse.urlencode(form).encode(), timeout=10)
        assert info.value.code == 400
        form["password"] = "s3cret"
        jar.open(base + "/login", data=urllib.parse.urlencode(form).encode(), timeout=10)
        assert jar.open(base + "/config", timeout=10).status == 200
    finally:
        demo.close()


def test_failed_logins_are_slowed_down(corpus_index: Settings) -> None:
    """Wrong passwords cost a growing delay (and are checked one at a time), while the
    right one still gets in at once after the delay of the attempt before it."""
    import time

    from ui.app import launch

    port = free_port()
    demo = launch(corpus_index, port=port, auth=("ann", "s3cret"))
    base = f"http://127.0.0.1:{port}"

    def login(password: str) -> int:
        form = urllib.parse.urlencode({"username": "ann", "password": password}).encode()
        try:
            return int(urllib.request.urlopen(base + "/login", data=form, timeout=30).status)
        except urllib.error.HTTPError as exc:
            return exc.code

    try:
        t0 = time.monotonic()
        codes = [login(f"guess{i}") for i in range(4)]
        wrong = time.monotonic() - t0
        assert codes == [400] * 4
        assert wrong >= 0.5 + 1 + 2 + 4 - 0.3  # doubling delays, not 4 instant answers
        t0 = time.monotonic()
        assert login("s3cret") == 200
        assert time.monotonic() - t0 < 2.0  # a success is not delayed
        t0 = time.monotonic()
        assert login("guess5") == 400
        assert time.monotonic() - t0 < 2.0  # ... and it resets the delay
    finally:
        demo.close()


def test_a_host_with_spaces_is_named_not_reported_as_a_busy_port(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve", "--host", "127.0.0.1 "]) == 1
    assert capsys.readouterr().err == (
        "error: invalid --host '127.0.0.1 ': it holds spaces; remove them\n"
    )


def test_a_busy_port_is_one_clear_error(corpus_index: Settings) -> None:
    from ui.app import launch

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(RagError) as info:
            launch(corpus_index, port=port)
    assert str(info.value) == f"cannot serve on http://127.0.0.1:{port}: address already in use"


def test_an_address_not_on_this_machine_is_one_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 192.0.2.1 is TEST-NET-1: never assigned to this machine; binding fails locally
    argv = ["serve", "--host", "192.0.2.1", "--auth", "ann:pw", "--port", str(free_port())]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot serve on http://192.0.2.1:")
    assert err.endswith(": cannot assign requested address\n") and err.count("\n") == 1


def test_rag_serve_serves_the_page_until_ctrl_c(corpus_index: Settings) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [str(RAG), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the server is up (or the process died)
        assert line.startswith(f"serving the chat on http://127.0.0.1:{port}"), line + (
            proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert page.status == 200
            assert b"gradio" in page.read().lower()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=10) as cfg:
            assert b"Ask your documents" in cfg.read()

    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the port is free again
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                break
        time.sleep(0.1)
    else:
        pytest.fail("the server kept listening after Ctrl-C")


def test_twenty_concurrent_sessions_all_get_answers_from_the_server(
    corpus_index: Settings,
) -> None:
    """20 browser sessions (gradio_client, each its own session) ask at once through the
    served app's queue: every one gets a complete, cited, model-free answer."""
    from gradio_client import Client

    from ui.app import launch

    port = free_port()
    demo = launch(corpus_index, port=port)
    url = f"http://127.0.0.1:{port}/"
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def session(i: int) -> None:
        try:
            client = Client(url, verbose=False)
            html, _box, viewer, *_stored = client.predict(
                "how many H100s does Meta plan to have?", "llama3.1:8b", api_name="/ask"
            )
            results[i] = html
            assert 'mark class="cited"' in viewer  # the viewer follows the answer
        except BaseException as exc:  # reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=session, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=100)
    finally:
        demo.close()
    assert not errors, errors[:3]
    assert len(results) == 20
    for html in results.values():
        assert 'class="a mode-extractive"' in html  # finished (not streaming), model-free
        assert html.count('class="cite"') >= 2 and 'class="copy-md"' in html
        assert re.search(r"340[.,]000", html)
