"""Speaker turns read off a panel write-up, and the label words a chunk inside a turn is
given in the lexical index (a contextual header)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import load_settings
from index.catalog import Catalog
from index.ingest import ingest
from index.lexical import LexicalIndex, tokenize
from index.speakers import SPEAKER_BACK, chunk_lex, context_terms, speaker_at, turns

PANEL = (
    "Peserta dalam percakapan ini meliputi:\n\n"
    "Daphne Koller, insitro:\n\n"
    "Kemungkinan dampak AI berikutnya adalah ketika AI mulai berinteraksi dengan dunia fisik. "
    "Mobil tanpa pengemudi masih menghalangi truk pemadam kebakaran di San Francisco. "
    "Kevin Scott, Microsoft:\n\n"
    "Kita harus ingat: model bukanlah produknya.\n\n"
    "## 6 Menyerahkan model ke tangan pengguna\n\n"
    "Kalimat sesudah judul tidak punya pembicara."
)


def test_a_turn_runs_from_its_label_to_the_next_label_or_heading() -> None:
    koller, scott = turns(PANEL)
    assert PANEL[koller.start :].startswith("Daphne Koller, insitro:")
    assert koller.label == "Daphne Koller, insitro"
    assert koller.end == scott.start  # "Kevin Scott, Microsoft:" closes the paragraph
    assert PANEL[scott.end :].startswith("## 6")  # the heading ends the turn
    # "Kita harus ingat:" (we must remember:) and "...meliputi:" are no speakers
    assert [t.label for t in turns(PANEL)] == ["Daphne Koller, insitro", "Kevin Scott, Microsoft"]
    # the same turns `speaker_at` reads one position at a time
    for at in (PANEL.index("Mobil"), PANEL.index("model bukanlah"), PANEL.index("Kalimat")):
        found = speaker_at(PANEL, at)
        held = [t for t in (koller, scott) if t.start < at < t.end]
        assert (found[1] if found else None) == (held[0].start if held else None)


def test_a_turn_reaches_at_most_speaker_back_characters() -> None:
    text = "Ali Ghodsi, Databricks:\n\n" + "kata " * (SPEAKER_BACK // 4)
    (turn,) = turns(text)
    assert turn.end == SPEAKER_BACK
    assert speaker_at(text, SPEAKER_BACK - 10) is not None
    assert speaker_at(text, SPEAKER_BACK + 10) is None


def test_a_chunk_inside_a_turn_holds_the_label_words_once() -> None:
    speaking = turns(PANEL)
    inside = PANEL.index("Mobil")
    assert context_terms(inside, speaking) == ["daphne", "koller", "insitro"]
    lex = chunk_lex(PANEL, inside, PANEL.index("Kevin"), speaking).split()
    assert lex[-3:] == ["daphne", "koller", "insitro"]
    # a chunk that holds the label has its words as written, not twice
    label = PANEL.index("Daphne")
    assert context_terms(label, speaking) == []
    assert chunk_lex(PANEL, label, inside, speaking).split().count("koller") == 1
    # a chunk opening at the dash before a label holds that label: not the turn before
    bullet = "Daphne Koller, insitro:\n\nKata kata.\n\n- Mira Murati, OpenAI:\n\nHalo."
    at = bullet.index("- Mira")
    assert chunk_lex(bullet, at, len(bullet), turns(bullet)).split() == [
        "mira", "murati", "openai", "halo"
    ]  # fmt: skip
    # after the heading, and before the first label, nobody's turn
    after = PANEL.index("Kalimat")
    assert chunk_lex(PANEL, after, len(PANEL), speaking) == " ".join(tokenize(PANEL[after:]))
    assert context_terms(0, speaking) == []


def test_a_chunk_continuing_a_turn_is_found_by_its_speakers_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_CHUNK_SIZE", "48")
    monkeypatch.setenv("RAG_CHUNK_OVERLAP", "0")
    folder = tmp_path / "docs"
    folder.mkdir()
    long_turn = (
        "Daphne Koller, insitro:\n\n"
        + "Kami membangun model bahasa biologis untuk sel dan penyakit. " * 6
        + "Mobil tanpa pengemudi masih menghalangi truk pemadam kebakaran di San Francisco.\n\n"
        "Kevin Scott, Microsoft:\n\n"
        + "Truk dan mobil akan berubah ketika platform baru datang. "
        * 6
    )
    (folder / "panel.id.txt").write_text(long_turn, encoding="utf-8")
    settings = load_settings()
    ingest([str(folder)], settings)
    catalog = Catalog(settings.catalog_path)
    try:
        (doc,) = catalog.documents()
        chunks = catalog.chunks_of(doc.doc_id)
    finally:
        catalog.close()
    truck = next(c for c in chunks if "truk pemadam" in long_turn[c.start : c.end])
    assert "Koller" not in long_turn[truck.start : truck.end]  # her label is chunks above
    assert truck.lex.split()[-3:] == ["daphne", "koller", "insitro"]
    index = LexicalIndex.load(settings.lexical_dir)
    assert index is not None
    assert index.search("menurut Daphne Koller truk", 1)[0][0] == truck.chunk_id
    scott = next(c for c in chunks if c.start > long_turn.index("Kevin Scott"))
    assert "scott" in scott.lex.split()
    assert index.search("menurut Kevin Scott truk", 1)[0][0] != truck.chunk_id
