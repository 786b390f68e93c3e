"""Safe by default, the parts not covered by the UI's own tests:

- a Chroma server behind token auth: the token from settings (RAG_CHROMA_TOKEN) goes out
  as a Bearer header on every request, and a missing or wrong token is one line saying
  which setting to fix (a loopback stand-in server checks the header: Chroma 1.x's own
  server has no auth, it is deployed behind a proxy that does this check);
- uploads: for any file name a browser can send (hypothesis), the file lands inside
  `<data_dir>/uploads` and nowhere else;
- `rag serve` listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import StoreError
from core.settings import Settings
from index.vectors import VectorStore
from rag.cli import build_parser, main

TOKEN = "s3cret-token"


class _ChromaStandIn(BaseHTTPRequestHandler):
    """Just enough of Chroma's v2 API for a client to connect, behind a token check."""

    seen: list[tuple[str, str | None]]

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        auth = self.headers.get("Authorization")
        self.server.seen.append((self.path, auth))  # type: ignore[attr-defined]
        if auth != f"Bearer {TOKEN}":
            self._reply(401, {"error": "Unauthorized", "message": "missing or bad token"})
        elif self.path.endswith("/auth/identity"):
            self._reply(
                200,
                {"user_id": "", "tenant": "default_tenant", "databases": ["default_database"]},
            )
        elif self.path.endswith("/databases/default_database"):
            self._reply(
                200,
                {"id": str(uuid.uuid4()), "name": "default_database", "tenant": "default_tenant"},
            )
        elif self.path.endswith("/tenants/default_tenant"):
            self._reply(200, {"name": "default_tenant"})
        elif "/collections" in self.path:
            self._reply(200, [])
        else:
            self._reply(200, {})

    do_GET = do_POST = _handle


@pytest.fixture
def chroma_stand_in() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChromaStandIn)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _settings(tmp_path: Path, server: ThreadingHTTPServer, token: str | None) -> Settings:
    port = server.server_address[1]
    return Settings(
        data_dir=tmp_path / "data", chroma_url=f"http://127.0.0.1:{port}", chroma_token=token
    )


def test_chroma_token_from_settings_is_sent_on_every_request(
    tmp_path: Path, chroma_stand_in: ThreadingHTTPServer
) -> None:
    store = VectorStore(_settings(tmp_path, chroma_stand_in, TOKEN))
    store.client.list_collections()
    seen = chroma_stand_in.seen  # type: ignore[attr-defined]
    assert len(seen) >= 2 and all(auth == f"Bearer {TOKEN}" for _path, auth in seen), seen
    assert store.drop_all() == []


@pytest.mark.parametrize(("token", "hint"), [(None, "set"), ("wrong", "check")])
def test_missing_or_wrong_chroma_token_is_one_clear_line(
    tmp_path: Path, chroma_stand_in: ThreadingHTTPServer, token: str | None, hint: str
) -> None:
    settings = _settings(tmp_path, chroma_stand_in, token)
    with pytest.raises(StoreError) as info:
        _ = VectorStore(settings).client
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"cannot open the Chroma server at {settings.chroma_url}")
    assert "Unauthorized" in message and f"{hint} RAG_CHROMA_TOKEN" in message


def test_cli_reports_a_token_problem_in_one_line(
    tmp_path: Path,
    chroma_stand_in: ThreadingHTTPServer,
    corpus_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RAG_CHROMA_URL", f"http://127.0.0.1:{chroma_stand_in.server_address[1]}")
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    assert main(["ingest", str(corpus_copy)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: cannot ")
    assert "set RAG_CHROMA_TOKEN" in err


# uploads -----------------------------------------------------------------------------------

_NAME_PARTS = st.sampled_from(
    ["..", ".", "/", "\\", "~", "%2e%2e", "\x00", "\n", " ", "C:", "uploads", "..\\..", "a"]
)
_NAMES = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(_NAME_PARTS, st.text(max_size=8)), max_size=12).map("".join),
).map(lambda stem: stem + ".txt")


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=_NAMES)
def test_upload_names_never_leave_the_upload_folder(tmp_path: Path, name: str) -> None:
    from ui.documents import save_uploads, uploads_dir

    base = tmp_path / str(uuid.uuid4())
    settings_ = Settings(data_dir=base / "data")
    src = base / "incoming"
    src.mkdir(parents=True)
    temp = src / "upload.bin"
    temp.write_bytes(b"hello from an upload")
    before = {p for p in base.rglob("*")}
    result = save_uploads([(name, temp)], settings_)
    root = uploads_dir(settings_).resolve()
    after = {p for p in base.rglob("*")} - before
    for path in result.saved:
        assert path.parent == root and not path.is_symlink()
        assert path.name and not path.name.startswith(".") and "\x00" not in path.name
    # nothing was created anywhere but the upload folder (and the folders leading to it)
    for created in after:
        assert (
            created.resolve() == root
            or created.resolve().parent == root
            or created
            in (
                root.parent,
                base / "data",
            )
        ), created
    assert len(result.saved) + len(result.rejected) == 1
    if result.saved:
        assert result.saved[0].read_bytes() == b"hello from an upload"


def test_serve_listens_on_loopback_by_default() -> None:
    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"
