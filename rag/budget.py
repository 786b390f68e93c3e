"""How many tokens each part of a prompt may take, so that the whole prompt fits the
model's context window and nothing is cut silently.

A prompt is: the system prompt and the answer template (fixed text), the question (cut to
QUESTION_TOKENS), and the passages block, tags and attributes included (RAG_CONTEXT_TOKENS);
the window must also leave room for the answer (ANSWER_TOKENS). Counts are tiktoken's
(cl100k); a model's own tokenizer usually needs more tokens for the same text, most of all
for non-English text, so the window is sized with a margin (TOKENIZER_MARGIN).

- With Ollama, `num_ctx` is computed from these once per run (`Plan.window`): every request
  sends the same value, so the model is never reloaded for a different context size.
- With a fixed window (an OpenAI-compatible server, or RAG_LLM_CONTEXT_WINDOW), the
  passage budget shrinks to what the window holds, and the answer says so.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.settings import Settings
from rag.schema import Passage

QUESTION_TOKENS = 1000  # a question is cut to this many tokens in prompts
ANSWER_TOKENS = 1024  # room for the answer: one to four cited sentences need far less
MIN_ANSWER_TOKENS = 256
MESSAGE_TOKENS = 8  # a chat template's role header and end marker, per message
TOKENIZER_MARGIN = 1.25  # model tokens per tiktoken token, at worst, for the window
WINDOW_STEP = 256
KEEP_TOKENS = 4  # Ollama's num_keep: what it keeps from the front when it truncates


def count(text: str) -> int:
    from index.tokens import count_tokens

    return count_tokens(text)


@functools.cache
def template_tokens() -> int:
    """The fixed part of an answer prompt: the system prompt (with the longest language
    name), the answer template without its values, and the chat template's markers."""
    from rag.llm import LANGUAGE_NAMES, fill, language_name, prompt

    longest = max([*LANGUAGE_NAMES.values(), language_name("")], key=len)
    system = fill(prompt("system"), question_language=longest)
    user = fill(prompt("answer"), passages="", question="")
    return count(system) + count(user) + 3 * MESSAGE_TOKENS


def cap_question(question: str, tokens: int = QUESTION_TOKENS) -> str:
    """`question` cut to its first `tokens` tokens (prompts only; retrieval has its own cap)."""
    if len(question) <= tokens:  # a token is at least one character
        return question
    from index.tokens import encoding

    ids = encoding().encode(question, disallowed_special=())
    if len(ids) <= tokens:
        return question
    return encoding().decode(ids[:tokens])


@dataclass(frozen=True)
class Plan:
    """The token plan of a run."""

    window: int  # num_ctx sent to Ollama, or the server's context window
    passages: int  # most tokens the passages block (tags included) may take
    answer: int  # most tokens the answer may take (num_predict / max_tokens)
    fixed_window: bool  # the window was given (server, setting), not chosen by us


def plan(settings: Settings, window: int | None = None) -> Plan:
    """The plan for `settings`; `window` is the server's context window when it is fixed
    (RAG_LLM_CONTEXT_WINDOW wins over what the server says)."""
    window = settings.llm_context_window or window
    if window is None:
        need = (settings.context_tokens + template_tokens() + QUESTION_TOKENS) * TOKENIZER_MARGIN
        size = math.ceil((need + ANSWER_TOKENS) / WINDOW_STEP) * WINDOW_STEP
        return Plan(size, settings.context_tokens, ANSWER_TOKENS, fixed_window=False)
    answer = min(ANSWER_TOKENS, max(MIN_ANSWER_TOKENS, window // 4))
    return Plan(window, settings.context_tokens, answer, fixed_window=True)


@dataclass(frozen=True)
class Fitted:
    passages: list[Passage]
    note: str | None  # when the model's window, not the setting, left passages out


Counter = Callable[[str], int]


def fit(
    passages: Sequence[Passage],
    question: str,
    language: str,
    the_plan: Plan,
    *,
    counter: Counter | None = None,
) -> Fitted:
    """The best-ranked passages whose formatted block (tags included) fits the passage
    budget (tiktoken) and, with a fixed window, the room the whole prompt leaves in it;
    at least one passage, cut to the room if it alone is too long.

    `counter` is the server's own tokenizer when it has one (llama.cpp and vLLM serve
    /tokenize): the window is then filled exactly, else tiktoken with TOKENIZER_MARGIN."""
    from rag.llm import answer_messages, format_passages

    budget = the_plan.passages
    room = budget
    measure: Counter = count
    if the_plan.fixed_window:
        margin = 1.0 if counter is not None else TOKENIZER_MARGIN
        measure = counter or count
        bare = answer_messages(question, [], language)  # everything but the passages
        fixed = sum(measure(content) + MESSAGE_TOKENS for _, content in bare)
        room = max(0, math.floor((the_plan.window - the_plan.answer) / margin) - fixed)

    def fits(block: str) -> bool:
        return count(block) <= budget and (not the_plan.fixed_window or measure(block) <= room)

    kept = list(passages)
    while kept and not fits(format_passages(kept)):
        if len(kept) == 1:
            kept = [_shorten(kept[0], min(budget, room), measure)]
            break
        kept.pop()
    note = None
    shortened = bool(kept) and kept[-1].text != passages[len(kept) - 1].text
    if the_plan.fixed_window and (len(kept) < len(passages) or shortened):
        shown = count(format_passages(kept))
        if shown < budget:
            note = (
                f"the model's context window ({the_plan.window} tokens) holds only part of "
                f"RAG_CONTEXT_TOKENS={budget}: the model was given {len(kept)} of "
                f"{len(passages)} passages ({shown} tokens)"
            )
    return Fitted(kept, note)


def _shorten(passage: Passage, room: int, measure: Counter) -> Passage:
    """`passage` cut (at its end) until its formatted block measures at most `room`."""
    from dataclasses import replace

    from rag.llm import format_passages

    text = passage.text
    while len(text) > 1:
        candidate = replace(passage, text=text, end=passage.start + len(text))
        size = measure(format_passages([candidate]))
        if size <= room:
            return candidate
        text = text[: max(1, int(len(text) * min(0.9, room / max(1, size))))]
    return replace(passage, text=text, end=passage.start + len(text))


def prompt_tokens(messages: Sequence[tuple[str, str]]) -> int:
    """tiktoken's count of a chat request's prompt, chat markers included."""
    return sum(count(content) + MESSAGE_TOKENS for _, content in messages)


def was_truncated(prompt_eval_count: int | None, num_ctx: int, estimate: int) -> bool:
    """Whether Ollama's `prompt_eval_count` shows the prompt was cut to fit `num_ctx`.

    Ollama keeps the first KEEP_TOKENS tokens and the tail when a prompt exceeds the window:
    the count then equals the window (or, in some versions, half of it past the kept
    tokens), or falls far below what the prompt measures here.
    """
    if not prompt_eval_count or prompt_eval_count <= 0:
        return False
    half = KEEP_TOKENS + (num_ctx - KEEP_TOKENS) // 2
    if prompt_eval_count >= num_ctx or prompt_eval_count == half:
        return True
    return prompt_eval_count < estimate // 2  # e.g. num_ctx clamped to a small model
