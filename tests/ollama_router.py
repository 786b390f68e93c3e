"""Scripted replies for the fake Ollama server that depend on which request it is: the
answering flow makes up to three kinds of chat calls (condense a follow-up, rewrite the
question into the corpus languages, write the answer), told apart by their prompts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

REWRITES = "id: berapa banyak GPU H100 yang akan dimiliki Meta?\nzh: Meta计划拥有多少块H100?"


def request_kind(body: dict[str, Any]) -> str:
    text = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
    if "<passages>" in text:
        return "answer"
    if "<follow_up>" in text:
        return "condense"
    if "<query>" in text:
        return "rewrite"
    return "other"


def router(
    answer: str | list[str], *, condensed: str = "", rewrites: str | list[str] = REWRITES
) -> Callable[[dict[str, Any]], str | list[str]]:
    """A `FakeOllama.default_reply` answering each kind of request."""

    def respond(body: dict[str, Any]) -> str | list[str]:
        kind = request_kind(body)
        if kind == "answer":
            return answer
        if kind == "condense":
            return condensed
        if kind == "rewrite":
            return rewrites
        return "?"

    return respond
