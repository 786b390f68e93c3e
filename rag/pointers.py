"""Where a question says to look: "according to the a16z article", "in the Llama 3.1
article", "menurut artikel sumber terbuka", "a16z文章说".

Such words name a document, not what it says: they help retrieval find the document, but
a sentence holding them is no better an answer. Scored as the question's words, they made
the article's headline ("a16z artikel 10.000 kata: ...") the answer to "What was OpenAI
valued at, per the a16z article?". The model-free answer leaves them out of a sentence's
word coverage (`rag.extractive.candidates`); retrieval keeps them.

A person is no pointer here ("according to Dario Amodei": what that person said is the
answer, and the speaker's label is matched on purpose).
"""

from __future__ import annotations

import functools
import re

from index.lexical import tokenize

# what a document is called, in English, Indonesian and Chinese
_DOC_EN = r"(?:article|interview|conversation|piece|blog\s+post|report|story|essay|transcript)"
_DOC_ID = r"(?:artikel|wawancara|obrolan|percakapan|laporan|tulisan|postingan|berita)"
_DOC_ZH = r"(?:文章|长文|报道|采访|访谈|对话|博文)"
_POINTER = re.compile(
    # "according to the a16z article", "per the SIGGRAPH conversation", "in the Llama 3.1
    # article": the document's name between, no other such word in it, and the clause
    # ends there ("the Llama 3.1 model in the report" keeps "Llama 3.1 model")
    r"\b(?:according\s+to|per|in|from)\s+(?:the|this|that)\s+"
    r"(?P<en>(?:(?!\b(?:in|per|from|of|according|the|this|that)\b)(?:[^,?.;:!]|\.(?=\w))){0,40}?)"
    rf"\s*\b{_DOC_EN}s?\b(?=\s*(?:[,?.;:!？，。]|$))"
    # "menurut artikel sumber terbuka", "dalam wawancara itu": up to three words after,
    # not a person it was with ("dalam percakapan dengan Zuckerberg")
    rf"|\b(?:menurut|dalam|di|pada|dari)\s+{_DOC_ID}"
    r"(?P<id>(?:\s+(?!(?:dan|yang|dengan|tentang|oleh|mengenai|bersama)\b)[\w.]+){0,3})"
    # "a16z文章说", "那篇采访中", "文章里": its name right before it, or what it says after
    # (not 接受采访, gave an interview: the interview is what is asked about there)
    rf"|(?:[A-Za-z0-9.]{{1,12}}|那篇|这篇|该){_DOC_ZH}|{_DOC_ZH}(?=说|中|里|提到|指出|称)",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=64)
def pointer_terms(question: str) -> frozenset[str]:
    """The question's terms that only say which document to look in (tokenised as
    `index.lexical.tokenize` does), with the word for the document itself."""
    out: set[str] = set()
    for m in _POINTER.finditer(question):
        out.update(tokenize(m.group(0)))
    return frozenset(out)
