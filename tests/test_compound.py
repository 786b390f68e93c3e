"""Questions asking several things (`rag.compound`): split into parts, each part
answered with its own value and sentence, in the model-free answer."""

from __future__ import annotations

import pytest

from core.settings import Settings
from rag.answer import Answerer
from rag.compound import leaned_on, merge, split_question, swapped_subject
from rag.extractive import Extraction
from rag.schema import PART, Quote, Turn


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "How many H100 GPUs will Meta have by the end of the year, and on how many "
            "H100s was the biggest Llama model trained?",
            [
                "How many H100 GPUs will Meta have by the end of the year?",
                "on how many H100s was the biggest Llama model trained?",
            ],
        ),
        (
            "Berapa banyak GPU H100 yang dimiliki Meta dan siapa CEO Nvidia?",
            ["Berapa banyak GPU H100 yang dimiliki Meta?", "siapa CEO Nvidia?"],
        ),
        (
            "Meta年底会有多少H100，最大的Llama在多少块H100上训练？",
            ["Meta年底会有多少H100？", "最大的Llama在多少块H100上训练？"],
        ),
        (
            "Who is the CEO of Nvidia? And who founded Meta?",
            ["Who is the CEO of Nvidia?", "who founded Meta?"],
        ),
        ("谁是Nvidia的CEO，Meta有多少H100？", ["谁是Nvidia的CEO？", "Meta有多少H100？"]),
        (  # a bare "how many" counts what the part before it counted
            "How many H100s will Meta have, and on how many was the biggest Llama trained?",
            ["How many H100s will Meta have?", "on how many H100s was the biggest Llama trained?"],
        ),
        (  # ... but not where it counts something of its own
            "How many GPUs will Meta have, and how many parameters does Llama have?",
            ["How many GPUs will Meta have?", "how many parameters does Llama have?"],
        ),
    ],
)  # fmt: skip
def test_a_question_asking_two_things_is_split(question: str, parts: list[str]) -> None:
    assert split_question(question) == parts


@pytest.mark.parametrize(
    "question",
    [
        "how many H100s does Meta plan to have?",
        "What did Zuckerberg and Huang discuss?",  # "and" joins names, not questions
        "Siapa pendiri dan CEO Character.AI?",  # one person, two roles
        "What is the difference between Llama and GPT?",
        "Which framework is mentioned both in the article and by Jensen Huang?",
        "Anthropic的联合创始人兼CEO是谁?",
        "Who and when?",  # parts too short to be questions
        # a clause inside one question, not a second question
        "What did Huang say about Zuckerberg and how Meta leads in AI?",
        "What is the relationship between Nvidia and what Meta builds?",
        "Apa hubungan antara Nvidia dan apa yang dibangun Meta?",
        "Which companies and which people are mentioned?",
        'In the talk titled "What is AI? A primer", who was the speaker?',
        "哪怕只算美国境内的数据中心，Meta一共有多少块H100？",  # 哪怕: "even if"
        "Who is the CEO of Apple? And when was it founded?",  # "it": no question alone
        "x " * 5000 + "and how is it?",  # long: not scanned
    ],
)
def test_a_question_asking_one_thing_is_not_split(question: str) -> None:
    assert split_question(question) == [question]


def _quote(n: int, text: str, value: str | None) -> Quote:
    return Quote(n, f"d{n}", 0, len(text), text, value=value)


def test_merge_gives_one_line_per_part_and_says_which_part_is_not_found() -> None:
    parts = ["How many GPUs?", "Who trained it?", "When was it released?"]
    answers = [
        Extraction(
            "", [_quote(1, "Ada 340.000 GPU.", "340.000"), _quote(2, "Juga 340.000.", None)]
        ),
        Extraction("", []),
        Extraction("", [_quote(3, "Dirilis pada 2024.", "2024")]),
    ]
    got = merge(parts, answers)
    lines = got.text.splitlines()
    assert lines[0].startswith("**340.000** — “Ada 340.000 GPU.” [1]")
    assert lines[1].startswith("Who trained it? — no sentence")
    assert lines[2].startswith("**2024** — “Dirilis pada 2024.” [3]")
    assert [q.n for q in got.quotes] == [1, 3]  # the first part's supporting quote dropped
    assert got.quotes[1].role == PART and got.quotes[1].value == "2024"
    assert got.value == "340.000"


@pytest.mark.parametrize(
    "question",
    [
        "How many H100 GPUs will Meta have by the end of the year, and on how many H100s "
        "was the biggest Llama model trained?",
        # the README's example: the second part's "how many" counts H100s too
        "How many H100s will Meta have, and on how many was the biggest Llama trained?",
    ],
)
def test_both_parts_are_answered_from_the_shipped_corpus(
    bundled_index: Settings, question: str
) -> None:
    with Answerer(bundled_index) as answerer:
        got = answerer.ask(question, no_llm=True)
    assert got.mode == "extractive", got.answer
    values = [q.value for q in got.quotes if q.value]
    assert len(values) == 2, got.answer
    assert values[0].replace(",", ".") == "more than 340.000"
    assert values[1].replace(",", ".") == "more than 16.000"
    for q in got.quotes:  # every quote exact in its passage
        p = next(p for p in got.passages if p.n == q.n)
        assert p.text[q.start - p.start : q.end - p.start] == q.text


def test_merge_names_no_value_for_the_question_when_its_first_part_is_not_found() -> None:
    got = merge(
        ["Who trained it?", "When was it released?"],
        [Extraction("", []), Extraction("", [_quote(3, "Dirilis pada 2024.", "2024")])],
    )
    assert got.value is None and got.quotes[0].value == "2024"
    assert got.quotes[0].role is None  # it leads the answer


def test_merge_shows_a_sentence_answering_two_parts_once() -> None:
    same = _quote(1, "Ada 600.000 GPU.", "600.000")
    got = merge(["How many?", "How many again?"], [Extraction("", [same]), Extraction("", [same])])
    assert len(got.quotes) == 1 and got.text.count("600.000 GPU") == 1


def test_a_question_that_follows_on_from_the_one_before() -> None:
    from rag.compound import follows_on

    assert follows_on("and on how many GPUs was it trained?")
    assert follows_on("Kapan dia lahir?") and follows_on("那它有多少参数?")
    assert follows_on("What about Microsoft?")
    assert not follows_on("Who said that all benchmarks are nonsense?")  # "that" joins
    assert not follows_on("How many H100s will Meta have this year?")
    # a pronoun inside a question that names its own subject, "itu" as "what is"
    assert not follows_on("How many GPUs did xAI train its Grok on?")
    assert not follows_on("Apa itu CUDA?") and not follows_on("其他公司有多少GPU？")
    assert follows_on("How many GPUs was it trained on?")  # GPUs is what it counts


@pytest.mark.parametrize(
    "question",
    [
        "On how many GPUs was that trained?",  # a demonstrative
        "How many GPUs were used to train that model?",
        "How many of those were sold?",
        "Berapa GPU yang digunakan untuk melatihnya?",  # -nya: its
        "Kapan targetnya?",
        "这是什么时候发布的？",  # this
        "How many GPUs?",  # too short to name a subject
        "When?",
        "为什么？",
        "Mô hình này được huấn luyện trên bao nhiêu GPU?",  # này: this
        "Menurutnya, berapa lama?",  # -nya closing a clause: according to him
        # a demonstrative before a thing, whatever else the question names
        "How much money had that company received from Microsoft and others?",
        "Berapa dana yang diterima perusahaan tersebut dari Microsoft?",
        "该公司从微软获得了多少资金？",
        "Công ty đó nhận được bao nhiêu tiền từ Microsoft?",
    ],
)
def test_a_follow_up_that_points_back_or_names_nothing(question: str) -> None:
    from rag.compound import follows_on

    assert follows_on(question)


def test_a_follow_up_of_a_follow_up_leans_on_the_question_that_stands_alone() -> None:
    """Asked "By when?" after "Kapan targetnya?" after the H100 question: with the last
    question alone as its context it was answered "1990an" from another article."""
    h100, when = "how many H100s does Meta plan to have?", "Kapan targetnya?"
    turns = [Turn("Who is the CEO of NVIDIA?", ""), Turn(h100, ""), Turn(when, "")]
    assert leaned_on(turns) == f"{h100} {when}"  # back to the one that stands alone
    assert leaned_on(turns[:2]) == h100
    assert leaned_on([]) == ""
    # at most CONTEXT_TURNS questions, however long a run of follow-ups
    many = [Turn(h100, ""), *(Turn(q, "") for q in ("And why?", "By when?", "什么时候？"))]
    assert leaned_on(many) == "And why? By when? 什么时候？"


@pytest.mark.parametrize(
    "question",
    [
        "法国的首都是哪里？",  # a new topic, named in Chinese
        "What is the capital of France?",
        "Berapa banyak pengguna yang sebenarnya dimiliki Roblox?",  # an adverb in -nya
        "应该怎么做才能提高模型的安全性？",  # 应该 (should) is no 该 (the said)
        "How many GPUs does Microsoft have?",  # names its own subject
        # a subject in lower case or Chinese: a question of its own, however short
        "What is photosynthesis?",
        "what is bitcoin?",
        "谁发明了电话？",
        "什么是区块链？",
        "英伟达的CEO是谁？",  # an organisation named in Chinese script
        "Apa itu blockchain?",  # "apa itu": what is
        "Sayangnya, berapa harga emas hari ini?",  # an adverb in -nya; "hari ini": today
        "Apa dampaknya perubahan iklim terhadap pertanian?",  # -nya before its subject
        "该如何学习钢琴？",  # 该 as "should"
        "What is this document about?",
        "How many H100s will Meta have this year?",
        "Who thinks that model is not the product?",  # "that" after a verb of thinking
    ],
)
def test_a_question_of_its_own_does_not_follow_on(question: str) -> None:
    from rag.compound import follows_on

    assert not follows_on(question)


def test_a_follow_up_about_he_or_she_names_the_person_the_last_answer_named() -> None:
    from rag.compound import with_person
    from rag.schema import Turn

    who = Turn("Siapa pendiri Character.AI?", "**Noam Shazeer** — “• Pendiri Noam Shazeer” [1]")
    assert with_person("What does he say about AI friends?", who) == (
        "What does Noam Shazeer say about AI friends?"
    )
    assert with_person("What is his company worth?", who) == "What is Noam Shazeer's company worth?"
    assert with_person("What is her role?", who) == "What is Noam Shazeer's role?"
    assert (
        with_person("Berapa biaya yang dia sebut?", who) == "Berapa biaya yang Noam Shazeer sebut?"
    )
    assert with_person("他说了什么？", who) == "Noam Shazeer说了什么？"
    assert with_person("他们说了什么？", who) is None  # they
    assert with_person("她们说了什么？", who) is None
    assert with_person("What did Tesla say of his father?", who) is None  # names one
    assert with_person("How many GPUs?", who) is None  # no pronoun
    assert with_person("What IA tools does he use?", who) == (
        "What IA tools does Noam Shazeer use?"  # "IA" is no Indonesian "ia"
    )
    # the earlier question asked no who: its value is no person
    when = Turn("Meta什么时候会拥有34万个H100？", "**今年年底** — “...” [1]")
    assert with_person("他说了什么？", when) is None
    which = Turn("Which company makes Llama?", "**Meta** — “...” [1]")
    assert with_person("What did she say?", which) is None
    assert with_person("What did he say?", Turn("Who?", "**340,000** — “...” [1]")) is None


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        ("What about Meta?", "Who is the CEO of NVIDIA?", "Who is the CEO of Meta?"),
        ("And what about Google DeepMind?", "Who leads NVIDIA?", "Who leads Google DeepMind?"),
        ("What about Llama 2?", "On how many GPUs was Llama 3.1 trained?",
         "On how many GPUs was Llama 2 trained?"),
        ("What about the H200?", "How many H100s will Meta have?", "How many H200 will Meta have?"),
        ("Bagaimana dengan Meta?", "Siapa CEO NVIDIA?", "Siapa CEO Meta?"),
        ("那Meta呢？", "英伟达的首席执行官是谁？", "Meta的首席执行官是谁？"),
        ("Còn Meta thì sao?", "Ai là CEO của NVIDIA?", "Ai là CEO của Meta?"),
        ("What about Mark Zuckerberg?", "What did Jensen Huang say?",
         "What did Mark Zuckerberg say?"),
        ("What about 2023?", "How many GPUs did Meta buy in 2024?",
         "How many GPUs did Meta buy in 2023?"),
        ("And Meta?", "Who is the CEO of NVIDIA?", "Who is the CEO of Meta?"),
        ("Dan Meta?", "Siapa CEO NVIDIA?", "Siapa CEO Meta?"),
        ("Kalau Meta?", "Siapa CEO NVIDIA?", "Siapa CEO Meta?"),
        ("Còn Meta?", "Ai là CEO của NVIDIA?", "Ai là CEO của Meta?"),
        # no subject of its own, or no name before it to swap: as before
        ("and including A100s?", "How many H100s will Meta have?", None),
        ("And why?", "Who is the CEO of NVIDIA?", None),
        ("What about in 2023?", "How many H100s will Meta have?", None),
        ("那它呢？", "英伟达的首席执行官是谁？", None),
        ("How about training it?", "Who made Llama?", None),
        ("What about Meta's plans for AGI?", "Who is the CEO of NVIDIA?", None),
        ("Bagaimana Meta melatih Llama?", "Siapa CEO NVIDIA?", None),
        ("What about Meta?", "how many GPUs are there?", None),
        ("What about Meta?", "Who is the CEO of Meta?", None),
        ("为什么呢？", "英伟达的CEO是谁？", None),
        ("那么价格呢？", "英伟达的CEO是谁？", None),
        ("What about 2023?", "How many GPUs did Meta buy?", None),
        ("What about Google?", "What about Meta?", None),  # its own question is not known
        ("What about A" + " " * 4000 + "x?", "Who leads NVIDIA?", None),  # (no backtracking)
    ],
)  # fmt: skip
def test_what_about_swaps_the_subject_of_the_question_before(
    question: str, previous: str, expected: str | None
) -> None:
    assert swapped_subject(question, previous) == expected
