"""The question-answering flow, streamed as typed events (rag.schema):

    follow-up? condense it with the history into a standalone question   (1 model call)
    -> rewrite the question into each corpus language                     (1 model call)
    -> retrieve every variant (BM25 + Chroma), fuse                       (no model)
    -> nothing relevant? abstain                                          (no model call)
    -> SourcesEvent
    -> generate, streamed as TokenEvents (or the extractive answer without a model)
    -> check the citations -> DoneEvent(answer)

Without a usable model (`no_llm`, Ollama down, a timeout, HTTP 500, a cut stream, a
missing model) the answer is extractive and `Answer.notice` says why; nothing raises
except an empty question or a missing index. One `Answerer` serves many threads at once:
it keeps no per-question state, and its retriever and generator are thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from core.errors import (
    LLMError,
    ModelNotFoundError,
    OllamaUnavailableError,
    OpenAIModelNotFoundError,
    OpenAIUnavailableError,
    QuestionError,
)
from core.settings import Settings
from rag.abstain import abstain_text, decide, model_declined
from rag.compound import (
    asks_nothing,
    follows_on,
    leaned_on,
    split_question,
    swapped_subject,
    with_person,
)
from rag.extractive import asks_who_said_that, who_said_quote
from rag.retrieve import Retrieval, Retriever, normalize_query
from rag.schema import (
    Answer,
    AnswerMode,
    DoneEvent,
    Event,
    Passage,
    Quote,
    SourcesEvent,
    TokenEvent,
    Turn,
    too_long,
)
from rag.terminal import one_line
from rag.versions import unnamed_version, versioned_names

if TYPE_CHECKING:
    from rag.extractive import Extraction, SentenceEmbedder
    from rag.llm import Generator

DOWN_MEMORY_S = 5.0  # how long an unreachable Ollama is not asked again
FOLLOW_UP_SHARE = 0.5  # model-free, a follow-up's earlier words weigh half their idf


class Answerer:
    """Answers questions over the index in `settings.data_dir`. Opens nothing heavy until
    first use; safe to call from many threads at once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.retriever = Retriever(settings)
        self._generator: Generator | None = None
        self._lock = threading.Lock()
        self._down: LLMError | None = None
        self._down_until = 0.0

    @property
    def generator(self) -> Generator:
        """Created on the first model call: the model-free path never imports llama-index
        or the ollama client."""
        with self._lock:
            if self._generator is None:
                from rag.llm import Generator

                self._generator = Generator(self.settings)
            return self._generator

    def check_ollama(self) -> LLMError | None:
        """None when Ollama's port accepts a connection, else the error to report.

        A bare TCP connect (no HTTP, no import of llama-index or the ollama client) so
        that a machine without Ollama, the default, falls back to the extractive answer
        at once. "Down" is remembered for a few seconds: concurrent questions do not
        each wait for a dead host.
        """
        with self._lock:
            if time.monotonic() < self._down_until and self._down is not None:
                return self._down
        from core.ollama_api import port_open, unavailable_message

        error: LLMError
        if self.settings.llm_backend == "openai":
            from rag.llm_openai import unavailable_message as openai_unavailable

            url = self.settings.llm_base_url or ""
            error = OpenAIUnavailableError(openai_unavailable(url))
        else:
            url = self.settings.ollama_host
            error = OllamaUnavailableError(unavailable_message(url))
        if not port_open(url, self.settings.probe_timeout):
            with self._lock:
                self._down, self._down_until = error, time.monotonic() + DOWN_MEMORY_S
            return error
        with self._lock:
            self._down = None
        return None

    def close(self) -> None:
        self.retriever.close()

    def __enter__(self) -> Answerer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------------
    @staticmethod
    def _validate(question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise QuestionError('the question is empty: ask something, e.g. rag ask "..."')
        question = question.strip()
        refused = too_long(question)
        if refused:
            raise QuestionError(refused)
        return question

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """Hybrid, model-free retrieval for one question; passages numbered from 1."""
        return self.retriever.search([self._validate(question)], k).passages

    def ask(self, question: str, **kwargs: Any) -> Answer:
        """The finished answer (drains `stream`)."""
        answer: Answer | None = None
        for event in self.stream(question, **kwargs):
            if isinstance(event, DoneEvent):
                answer = event.answer
        assert answer is not None  # stream always ends with DoneEvent
        return answer

    def stream(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        top_k: int | None = None,
        model: str | None = None,
        no_llm: bool = False,
        id: str | None = None,
    ) -> Iterator[Event]:
        """SourcesEvent first, then TokenEvents, then DoneEvent with the checked answer."""
        run = _Run(self, question, history, top_k, model, no_llm, id)
        yield from run.events()


class _Run:
    """The state of one question on its way through the flow."""

    def __init__(
        self,
        owner: Answerer,
        question: str,
        history: Sequence[Turn],
        top_k: int | None,
        model: str | None,
        no_llm: bool,
        id: str | None,
    ) -> None:
        self.t0 = time.perf_counter()
        self.owner = owner
        self.settings = owner.settings
        self.question = Answerer._validate(question)
        self.history = list(history)
        # what a model-free follow-up leans on (`leaned_on`): read once, used by the
        # search, each part of a compound question and the answer's term weights
        self.context = leaned_on(self.history)
        self.top_k = top_k
        self.model = model or self.settings.llm_model
        self.id = id
        self.use_llm = not no_llm
        self.reason = "retrieval-only mode was asked for" if no_llm else ""
        self.notice: str | None = None
        self.notes: list[str] = []  # warnings from the model server (a prompt it cut)
        self.timings: dict[str, float] = {}
        # the retrieval's question-sentence similarity, for the model-free answer
        self.sentences: SentenceEmbedder | None = None

    # model failures ------------------------------------------------------------------
    def _failed(self, exc: LLMError) -> None:
        """Switch to the model-free answer, saying why."""
        self.use_llm = False
        self.notice = str(exc)
        if isinstance(exc, ModelNotFoundError):
            self.reason = f"model {exc.model} is not available in Ollama"
        elif isinstance(exc, OpenAIModelNotFoundError):
            self.reason = f"model {exc.model} is not served at {exc.url}"
        elif isinstance(exc, OllamaUnavailableError):
            self.reason = f"Ollama is not reachable at {self.settings.ollama_host}"
        elif isinstance(exc, OpenAIUnavailableError):
            self.reason = f"the model server is not reachable at {self.settings.llm_base_url}"
        else:
            self.reason = "the language model failed"

    def _chat(self, messages: list[tuple[str, str]]) -> str | None:
        try:
            return self.owner.generator.chat(self.model, messages, self.notes)
        except LLMError as exc:
            self._failed(exc)
            return None

    # steps ---------------------------------------------------------------------------
    def _condense(self) -> str | None:
        from rag.budget import cap_question
        from rag.llm import clean_condensed, condense_messages

        reply = self._chat(condense_messages(cap_question(self.question), self.history))
        return clean_condensed(reply) if reply else None

    def _rewrites(self, question: str) -> list[str]:
        from index.language import detect_language
        from rag.budget import cap_question
        from rag.llm import parse_rewrites, rewrite_messages

        languages = [c for c in self.owner.retriever.languages() if c and c != "und"]
        asked = detect_language(question)
        if not languages or languages == [asked]:
            return []  # one corpus language, the question's own: nothing to translate
        reply = self._chat(rewrite_messages(cap_question(question), languages))
        if not reply:
            return []
        return list(parse_rewrites(reply, languages).values())

    def _unnamed_version(self, question: str) -> str | None:
        """The product version the question names and the documents do not, where they
        name that product with other versions (`rag.versions`)."""
        names = versioned_names(question)
        if not names:
            return None
        queries = [q for base, version in names for q in (f"{base} {version}", base + version)]
        return unnamed_version(question, self.owner.retriever.lexical_texts(queries))

    def _retrieve(self, variants: list[str]) -> Retrieval:
        t = time.perf_counter()
        result = self.owner.retriever.search(variants, self.top_k)
        self.timings["retrieve"] = (time.perf_counter() - t) * 1000
        return result

    def events(self) -> Iterator[Event]:
        if self.use_llm:
            down = self.owner.check_ollama()
            if down is not None:
                self._failed(down)
        standalone: str | None = None
        variants = [self.question]
        if not self.history and asks_nothing(self.question):
            # "When?" with nothing before it: any sentence with a date "answered" it
            said = one_line(self.question.strip())[:40]
            if not any(ch.isalnum() for ch in self.question):
                raise QuestionError(f'"{said}" holds no word to search for: ask a question')
            raise QuestionError(
                f'"{said}" asks about an earlier answer, and there is none: say what it is '
                'about, e.g. "When will Meta have 340,000 H100s?"'
            )
        if asks_who_said_that(self.question):
            # "who said that?": that is the last answer's quote, model or not (a model's
            # condensed question can lose the quote's words)
            if not self.history:
                raise QuestionError(
                    '"who said that?" asks about an earlier answer, and there is none: '
                    'ask who said what, e.g. who said "the model is not the product"?'
                )
            standalone = who_said_quote(self.history[-1].answer)
            if standalone is None and not self.use_llm:  # a model reads it from the history
                raise QuestionError(
                    '"who said that?" asks about the last answer\'s quote, and it quotes '
                    'nothing: ask who said what, e.g. who said "the model is not the product"?'
                )
        if self.history and self.use_llm and not standalone:
            standalone = self._condense()
        if self.history and not self.use_llm and not standalone:
            # model-free, "he" is the person the last answer named (shown as searched for)
            # ... and "What about Meta?" is the question before, asked of Meta
            previous = self.history[-1]
            standalone = with_person(self.question, previous) or swapped_subject(
                self.question, previous.question
            )
        if standalone:
            variants = [standalone]
        elif self.history and follows_on(self.question):
            # model-free follow-up: the previous question gives the context
            variants.append(f"{self.context} {self.question}")
        search_question = standalone or self.question
        parts = split_question(search_question)
        if len(parts) > 1 and not self.use_llm:
            # model-free, each part is searched for too (one may rank low as a whole); a
            # model gets the whole question's passages, as for any question
            variants += parts
        # asked about Llama 4 where the documents name Llama 2 and 3: they do not hold
        # the answer, whatever the passages nearest in meaning say (the model is not
        # asked to rewrite the question nor to answer it)
        unnamed = self._unnamed_version(search_question)
        if self.use_llm and not unnamed:
            variants += self._rewrites(search_question)
        result = self._retrieve(variants)
        passages = result.passages
        self.sentences = result.sentences

        mode: AnswerMode
        decision = decide(result)  # before any model call: nothing to ask it about
        mode = "abstain" if decision.abstain else "llm" if self.use_llm else "extractive"
        if unnamed:
            mode = "abstain"
        if mode == "llm":
            passages = self._fit(search_question, passages)
            if not self.use_llm:  # the server failed while its window was asked
                mode = "extractive"
        extracted = None
        if mode == "extractive":
            # model-free: if no sentence of the passages answers, say so rather than
            # quote unrelated text (the extractive answer is ready before the sources go)
            extracted = self._answer_first(search_question, passages)
            if not extracted.quotes:
                mode = "abstain"
            # a source it cites beyond the retrieved passages (a speaker's label above them)
            passages = [*passages, *extracted.extra]
        # retrieval's notes (answering without dense search, and why) go with the sources:
        # said once, apart from the reason a model did or did not write the answer
        yield SourcesEvent(
            passages=passages,
            mode=mode,
            model=self.model if mode == "llm" else None,
            notice="; ".join([*([self.notice] if self.notice else []), *result.notes]) or None,
            standalone_question=standalone,
        )

        answer = Answer(
            question=self.question,
            answer="",
            mode=mode,
            model=None,
            passages=passages,
            notice=self.notice,
            id=self.id,
            standalone_question=standalone,
        )
        t_gen = time.perf_counter()
        if mode == "abstain":
            from index.language import detect_language

            answer.answer = abstain_text(detect_language(self.question))
            yield TokenEvent(answer.answer)
        elif mode == "llm":
            yield from self._generate(answer, search_question, passages)
        if answer.mode == "extractive":
            yield from self._extract(
                answer, search_question, passages, separator=bool(answer.answer), ready=extracted
            )
        self.timings["generate"] = (time.perf_counter() - t_gen) * 1000
        self.timings["total"] = (time.perf_counter() - self.t0) * 1000
        answer.timings_ms = dict(self.timings)
        yield DoneEvent(answer)

    def _fit(self, question: str, passages: list[Passage]) -> list[Passage]:
        """The passages whose whole prompt (tags, templates) fits the model's window."""
        from index.language import detect_language
        from rag.budget import cap_question, fit

        question = cap_question(question)
        try:
            generator = self.owner.generator
            the_plan = generator.plan()
            counter = generator.counter() if the_plan.fixed_window else None
            fitted = fit(passages, question, detect_language(question), the_plan, counter=counter)
        except LLMError as exc:
            self._failed(exc)
            return passages
        if fitted.note:
            self.notes.append(fitted.note)
            self.notice = "; ".join(self.notes)
        return fitted.passages

    def _generate(self, answer: Answer, question: str, passages: list[Passage]) -> Iterator[Event]:
        from index.language import detect_language
        from rag.budget import cap_question
        from rag.citations import check, supporting_quotes
        from rag.llm import answer_messages

        prompt_question = cap_question(question)
        messages = answer_messages(prompt_question, passages, detect_language(prompt_question))
        pieces: list[str] = []
        try:
            for delta in self.owner.generator.stream(self.model, messages, self.notes):
                if not pieces:
                    # from the question: what a user waits before the answer starts
                    self.timings["first_token"] = (time.perf_counter() - self.t0) * 1000
                pieces.append(delta)
                yield TokenEvent(delta)
        except LLMError as exc:
            self._failed(exc)
            if pieces:
                self.notice = f"the model's answer broke off ({exc}): showing the extractive answer"
            answer.mode = "extractive"
            answer.notice = self.notice
            answer.answer = "".join(pieces)  # shown so far; replaced by the extractive answer
            return
        if not "".join(pieces).strip():
            self.use_llm = False
            self.reason = "the language model returned an empty answer"
            self.notice = f"model {self.model} returned an empty answer"
            answer.mode = "extractive"
            answer.notice = self.notice
            return
        if self.notes:
            self.notice = answer.notice = "; ".join(self.notes)
        checked = check("".join(pieces), passages)
        answer.answer = checked.text.strip()
        answer.quotes = self._paged(supporting_quotes(answer.answer, passages))
        answer.model = self.model
        answer.cited = checked.cited
        answer.invalid_markers = checked.invalid
        answer.unsupported = checked.unsupported
        if model_declined(answer.answer, len(checked.cited)):
            answer.mode = "abstain"  # the model says the passages do not hold the answer

    def _paged(self, quotes: list[Quote]) -> list[Quote]:
        """Each quote with the page of its own sentence (PDFs): a chunk that spans two
        pages is cited by the page its chunk starts on, the quote by its own."""
        if not any(q.page for q in quotes):
            return quotes
        page_of = self.owner.retriever.page_of
        return [
            replace(q, page=page_of(q.doc_id, q.start) or q.page) if q.page else q for q in quotes
        ]

    def _answer_first(
        self, question: str, passages: list[Passage], *, new_sources: bool = True
    ) -> Extraction:
        """The model-free answer. `new_sources=False` once the sources went out (a model's
        reply failed and quotes stand in): it may cite only those passages. A question
        asking several things gets an answer per part (`rag.compound`)."""
        from rag.compound import merge, split_question
        from rag.retrieve import MAX_QUERY_CHARS

        if len(question) > MAX_QUERY_CHARS:
            # cut as retrieval cuts it: a pasted 36,000-character page took 35 s, and
            # 360,000 characters four minutes (the whole text embedded, every sentence
            # read against every word of it)
            question = normalize_query(question)
        parts = split_question(question)
        if len(parts) == 1:
            return self._answer_part(question, passages, new_sources)
        answers: list[Extraction] = []
        known = list(passages)
        follows = bool(self.history) and follows_on(question)
        for part in parts:
            # the passages in the part's own order: the whole question's ranks them for
            # the part it is mostly about (a follow-up's part with the question before)
            query = f"{self.context} {part}" if follows else part
            found = self.owner.retriever.search([query], self.top_k).passages
            order = {p.chunk_id: i for i, p in enumerate(found)}
            ranked = sorted(known, key=lambda p: order.get(p.chunk_id, len(order) + p.n))
            answers.append(self._answer_part(part, ranked, new_sources))
            known += answers[-1].extra  # a later part's new source gets the next number
        from index.language import detect_language

        return merge(parts, answers, detect_language(question))

    def _answer_part(self, question: str, passages: list[Passage], new_sources: bool) -> Extraction:
        from rag.binding import question_names
        from rag.extractive import answer_first

        retriever = self.owner.retriever
        weights = retriever.term_weights(normalize_query(question))
        names = question_names(question)  # their other spellings count even when indexed
        also: dict[str, float] = {}
        if self.history and follows_on(question):
            # "and on how many GPUs was it trained?": what "it" is, the question before
            # says; its words count, at a share of their weight (this one's decide)
            before = retriever.term_weights(normalize_query(self.context))
            also = {t: x * FOLLOW_UP_SHARE for t, x in before.items() if t not in weights}
        return answer_first(
            question,
            passages,
            weights=weights,
            near={t: retriever.near_misses(t, held=t in names) for t in [*weights, *also]},
            embedder=self.sentences,
            context=retriever if new_sources else _SentSources(retriever),
            also=also,
        )

    def _extract(
        self,
        answer: Answer,
        question: str,
        passages: list[Passage],
        *,
        separator: bool,
        ready: Extraction | None = None,
    ) -> Iterator[Event]:
        result = ready or self._answer_first(question, passages, new_sources=False)
        text = result.text
        if separator:
            yield TokenEvent(f"\n\n[{self.notice}]\n\n")
        for line in text.splitlines(keepends=True):
            yield TokenEvent(line)
        answer.answer = text
        answer.model = None
        answer.cited = result.cited
        answer.quotes = self._paged(result.quotes)
        answer.value = result.value
        answer.notice = self.notice


class _SentSources:
    """The index around the passages (`rag.extractive.DocumentContext`) once the sources
    went out: documents can be read, but no new source can be cited."""

    def __init__(self, retriever: Retriever) -> None:
        self._retriever = retriever

    def document_text(self, doc_id: str) -> str | None:
        return self._retriever.document_text(doc_id)

    def span_passage(self, doc_id: str, start: int, end: int, n: int) -> Passage | None:
        return None

    def chunk_at(self, doc_id: str, at: int, n: int) -> Passage | None:
        return None
