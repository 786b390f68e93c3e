"""The model-free answer, answer first: the value asked for pulled out (how many / who /
when), supporting quotes that agree with it, and every quote's span exact in its
document, for every question of the gold set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.settings import Settings
from index.catalog import Catalog
from rag.answer import Answerer
from rag.binding import person_surnames
from rag.extractive import Extraction, answer_first
from rag.schema import Passage
from rag.values import answer_type, asks_money, asks_organisation, glossed, values_in

GOLD = Path(__file__).resolve().parents[1] / "bench" / "gold.jsonl"


def _passage(n: int, text: str, doc: str = "d1", start: int = 0) -> Passage:
    return Passage(
        n, f"{doc}-{n}", doc, f"{doc}.txt", doc, "id", start, start + len(text), text, 1.0
    )


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("how many H100s does Meta plan to have?", "number"),
        ("Berapa banyak GPU H100 yang akan dimiliki Meta?", "number"),
        ("Meta计划拥有多少块H100?", "number"),
        ("Who is the CEO of Apple?", "name"),
        ("Siapa pendiri Character.AI?", "name"),
        ("Anthropic的联合创始人兼CEO是谁?", "name"),
        ("Which eyewear maker is Meta collaborating with?", "name"),
        ("Model apa saja yang diungguli oleh Llama?", "name"),
        ("When did OpenAI emerge?", "date"),
        # "when" asks at the start, at the end or after since/and; elsewhere it joins
        ("Llama 3.1 was released when?", "date"),
        ("Since when has Meta owned Instagram?", "date"),
        ("How and when did Meta announce it?", "date"),
        ("What was considered most impressive when they released GPT-2?", "other"),
        ("What satellite was used when Sky digital was launched?", "name"),
        ("Tahun berapa Facebook didirikan?", "date"),
        ("What does Ali Ghodsi think of AI benchmarks?", "other"),
    ],
)
def test_answer_type_in_three_languages(question: str, kind: str) -> None:
    assert answer_type(question) == kind


@pytest.mark.parametrize(
    ("sentence", "kind", "question", "expected"),
    [
        # numbers: with their currency or unit, not the question's own, not a year or version
        # (with what the sentence says of the number: "lebih dari", more than)
        ("Ada lebih dari 340.000 GPU H100.", "number", "how many H100s?", "lebih dari 340.000"),
        ("Meta masih menghabiskan $15 miliar per tahun.", "number", "how much?", "$15 miliar"),
        ("Meta每年仍在该倡议上投入超过150亿美元。", "number", "多少钱?", "超过150亿美元"),
        ("Pengiriman mencapai 150.000 pada tahun 2023.", "number", "how many in 2023?", "150.000"),
        ("Jaket itu baru berusia dua jam.", "number", "how old was it?", "dua jam"),
        ("Saat kami merilis GPT-2, hasilnya 30% lebih baik.", "number", "how much?", "30%"),
        # names: split at the question's own words, no sentence-initial capital
        (
            "Demis Hassabis, kepala AI di Google, setuju.",
            "name",
            "Who leads AI at Google?",
            "Demis Hassabis",
        ),
        (
            "Model Meta Llama 3.1 baru diluncurkan.",
            "name",
            "Model Meta apa yang baru?",
            "Llama 3.1",
        ),
        (
            "Kevin Scott, Microsoft: Model bukanlah produk.",
            "name",
            "Who said that the model is not the product?",
            "Kevin Scott",
        ),
        (
            "Ali Ghodsi, Databricks: Adakah teknik? Ya: LoRA.",
            "name",
            "Teknik apa saja yang disebut Ali Ghodsi?",
            "LoRA",
        ),
        # dates
        ("OpenAI muncul pada akhir tahun 2022.", "date", "When did OpenAI emerge?", "2022"),
        ("Meta将在2024年7月发布。", "date", "什么时候发布?", "2024年7月"),
        # a date relative to the article's time is a date too (not its "tahun ini" alone)
        ("Pada akhir tahun ini, Meta akan memiliki GPU.", "date", "Kapan?", "akhir tahun ini"),
        ("到今年年底,Meta将拥有超过340,000个H100。", "date", "什么时候?", "今年年底"),
        ("Meta will have them by the end of the year.", "date", "When?", "by the end of the year"),
        ("Llama 2 dirilis tahun lalu.", "date", "Kapan Llama 2 dirilis?", "tahun lalu"),
        # a decade is shown as one, not as its first year
        ("Lalu pada tahun 1990an, internet muncul.", "date", "Kapan?", "1990an"),
        ("在1990年代互联网兴起。", "date", "什么时候?", "1990年代"),
        # a day before the month, the year after it: the year's first digits are no day
        ("It launched on 14 March 2023.", "date", "When did it launch?", "14 March 2023"),
        ("Diluncurkan pada 14 Maret 2023.", "date", "Kapan diluncurkan?", "14 Maret 2023"),
        ("It reached England in November 1347.", "date", "When?", "November 1347"),
        # a title before a name is part of it ("Dr." alone was shown)
        ("The rover was built by Dr. Smith.", "name", "Who built the rover?", "Dr. Smith"),
    ],
)
def test_the_value_asked_for_is_pulled_out(
    sentence: str, kind: str, question: str, expected: str
) -> None:
    values = [v.text for v in values_in(sentence, kind, question)]  # type: ignore[arg-type]
    assert expected in values, values
    assert not {"Adakah", "Ya"} & set(values)  # a capital that starts a sentence is no name
    for v in values_in(sentence, kind, question):  # type: ignore[arg-type]
        assert sentence[v.start : v.end] == v.text


@pytest.mark.parametrize(
    "question",
    ["How long is the context window?", "Berapa lama pelatihannya?", "上下文窗口有多长?"],
)
def test_asked_how_long_a_share_or_an_amount_of_money_is_no_answer(question: str) -> None:
    sentence = "Biaya inferensi 50% dari $10 juta dan 5 juta dolar, pelatihannya 3 bulan."
    assert [v.text for v in values_in(sentence, "number", question)] == ["3 bulan"]
    # (许多长期, many long-term, asks nothing of a length)
    shares = values_in("许多长期投资者持有35%的股份", "number", "许多长期投资者持有多少股份?")
    assert [v.text for v in shares] == ["35%"]


@pytest.mark.parametrize(
    ("question", "money"),
    [
        ("What did it cost in dollars to train Llama 3.1 405B?", True),
        ("what's nvidia's market cap?", True),
        ("What does Meta pay for its GPUs?", True),
        ("Nvidia的市值是多少?", True),
        ("What did Zuckerberg say about cost?", False),
        ("What did the cost cutting achieve?", False),
        ("What did DeepSeek do to reduce training cost?", False),
        ("What did Meta pay attention to?", False),
        ("What was the price war about?", False),
        ("What is the price-performance of the H100?", False),
    ],
)
def test_an_amount_of_money_is_asked_without_how_much_too(question: str, money: bool) -> None:
    assert asks_money(question) is money
    assert (answer_type(question) == "number") is money


@pytest.mark.parametrize(
    ("sentence", "question", "expected"),
    [
        # asked for money, a count in the same sentence is no answer
        (
            "Pada akhir tahun ini Meta akan memiliki lebih dari 340.000 GPU Nvidia H100.",
            "How much did Meta pay for its H100 GPUs?",
            [],
        ),
        ("Meta 拥有34万个H100，投资超过150亿美元。", "Meta投资了多少？", ["超过150亿美元"]),
        (
            "Amazon akan menginvestasikan hingga 4 miliar dolar AS di dalamnya, 2 kali.",
            "How much is Amazon investing in Anthropic?",
            ["hingga 4 miliar dolar"],
        ),
        ("Harga satu GPU $25.000, dan 3 GPU dikirim.", "Berapa harga GPU?", ["$25.000"]),
        # a range is one value, not its first end
        ("Saat ini, biaya operasional $10-$18.", "Berapa biaya operasional?", ["$10-$18"]),
        ("Porsinya 10 hingga 18 persen.", "Berapa persen porsinya?", ["10 hingga 18 persen"]),
        # (not money: "how much" of a share, a change, a count, still read as before)
        ("Nvidia memegang 80% pasar, dengan 3 pabrik.", "How much of the market?", ["80%", "3"]),
        ("Revenue grew 20% to $5 billion.", "How much did revenue grow?", ["20%", "$5 billion"]),
        ("价格上涨了15%。", "价格上涨了百分之多少？", ["15%"]),
        ("有5家公司降低了价格。", "多少家公司降低了价格？", ["5"]),
        ("Nó có giá 200 đô la, 3 lần.", "How much does it cost?", ["200 đô la"]),
        # "$5-10 billion" is five to ten billion; "from ... to ..." is a change, two values
        ("Biayanya $5-10 billion.", "How much money?", ["$5-10 billion"]),
        ("Dari $10 billion to $18 billion.", "Berapa biayanya?", ["$10 billion", "$18 billion"]),
        ("Ada 1,500-3,000 GPU.", "Berapa GPU?", ["1,500-3,000"]),
        # two numbers either of which may hold are one value too, in every language
        ("It holds for 3 or 4 more years.", "How many years?", ["3 or 4"]),
        ("Relevan untuk 3 atau 4 tahun ke depan.", "Berapa tahun?", ["3 atau 4 tahun"]),
        ("还会持续3或4年。", "还会持续几年？", ["3或4年"]),
    ],
)
def test_a_money_question_takes_amounts_of_money_and_a_range_is_one_value(
    sentence: str, question: str, expected: list[str]
) -> None:
    values = values_in(sentence, "number", question)
    assert [v.text for v in values] == expected
    for v in values:
        assert sentence[v.start : v.end] == v.text


def test_a_numbers_qualifier_is_part_of_its_value_and_said_in_the_askers_language() -> None:
    (more,) = values_in("Metal akan memiliki lebih dari 340.000 GPU.", "number", "Berapa GPU?")
    assert (more.text, more.qualifier) == ("lebih dari 340.000", "more than")
    assert [glossed(more, lang) for lang in ("en", "zh", "id")] == [
        "more than 340,000",  # as an English reader writes it
        "超过340,000",
        "lebih dari 340.000",
    ]
    (almost,) = values_in("Meta将拥有近600,000个GPU。", "number", "How many GPUs?")
    assert glossed(almost, "en") == "almost 600,000"
    # a negated qualifier is shown as written: "no more than" is not "more than"
    for sentence in ("规定每人不超过5台GPU。", "Setiap pengguna tidak lebih dari 5 GPU."):
        (most,) = values_in(sentence, "number", "How many GPUs?")
        assert glossed(most, "en") == glossed(most, "id") == most.text
        assert most.text in ("不超过5", "tidak lebih dari 5")
    # "spoke about 3 risks" is what was spoken of; "about 3 risks" alone is roughly three
    spoke = values_in("He spoke about 3 risks.", "number", "Berapa risiko?")
    assert [(v.text, v.qualifier) for v in spoke] == [("3", "")]
    (rough,) = values_in("There are about 3 risks.", "number", "Berapa risiko?")
    assert glossed(rough, "id") == "sekitar 3"
    # no qualifier inside a word (节约, save) nor before a span of time (近3年, past 3 years)
    assert [v.text for v in values_in("新芯片可节约30%的电力。", "number", "多少？")] == ["30%"]
    span = values_in("近3年里有300个。", "number", "多少？")
    assert [(v.text, v.qualifier) for v in span] == [("3年", ""), ("300", "")]
    # a word that merely ends like one ("clover") qualifies nothing
    (bare,) = values_in("A clover 5 leaves wide.", "number", "How many leaves?")
    assert bare.text == "5" and not bare.qualifier


@pytest.mark.parametrize(
    ("sentence", "question", "english", "indonesian"),
    [
        ("Dilatih pada 16.000 GPU.", "How many GPUs?", "16,000", "16.000"),
        ("Meta masih menghabiskan $15 miliar per tahun.", "How much?", "$15 billion", None),
        ("OpenAI menerima 11 miliar dolar AS.", "How much money?", "$11 billion", "$11 miliar"),
        ("Meta投资150亿美元。", "How much money?", "$15 billion", "$15 miliar"),
        ("Meta将拥有34万个H100。", "How many H100s?", "340,000", "340.000"),
        ("Ada 1,5 juta pengguna.", "How many users?", "1.5 million", None),
        ("Biayanya 50 persen.", "How much?", "50%", "50%"),
        ("模型训练了3个月。", "How long?", "3 months", "3 bulan"),
        ("Meta will have 340,000 GPUs.", "Berapa GPU?", None, "340.000"),
        ("Selesai dalam 1 hari.", "How long?", "1 day", None),
        # as written: a range, a currency this does not say, a reading that may be a
        # decimal (0.125, "$1.234 billion")
        ("Biayanya $10-$18.", "How much?", "$10-$18", "$10-$18"),
        ("Nilainya Rp 5 miliar.", "How much money?", "Rp 5 miliar", "Rp 5 miliar"),
        ("Meta投资150亿欧元。", "How much money?", "150亿欧元", "150亿欧元"),
        ("Harganya 1,5 juta rupiah.", "How much does it cost?", "1,5 juta rupiah", None),
        ("Akurasinya 0.125 saja.", "How much?", "0.125", "0.125"),
        ("Meta spent $1.234 billion.", "Berapa biayanya?", None, "$1.234 billion"),
    ],
)
def test_an_amount_is_shown_as_a_reader_of_another_language_writes_it(
    sentence: str, question: str, english: str | None, indonesian: str | None
) -> None:
    (value,) = values_in(sentence, "number", question)
    assert glossed(value, "en") == (english or value.text)
    assert glossed(value, "id") == (indonesian or value.text)
    (year,) = values_in("OpenAI muncul pada tahun 2022.", "date", "When?")
    assert glossed(year, "en") == "2022"  # a date is no amount: never "2,022"


@pytest.mark.parametrize(
    ("sentence", "shown", "english"),
    [
        ("The rover weighs 742 kg when loaded.", "742 kg", "742 kg"),
        ("Beratnya 1.500 kg dan jaraknya 3,5 km.", "1.500 kg", "1,500 kg"),
        ("它重742公斤。", "742公斤", "742公斤"),
        ("The cluster draws 24 MW.", "24 MW", "24 MW"),
        ("Baterainya 60 kWh.", "60 kWh", "60 kWh"),
        ("Suhunya 40 °C.", "40 °C", "40 °C"),
        ("It ran 12 miles.", "12 miles", "12 miles"),
    ],
)
def test_a_measure_keeps_its_unit(sentence: str, shown: str, english: str) -> None:
    """ "742" alone says nothing of what was weighed (a newcomer asked how heavy a rover
    is): the unit is part of the value, and the number is said as the reader writes it."""
    value = values_in(sentence, "number", "How heavy is it?")[0]
    assert value.text == shown
    assert glossed(value, "en") == english


def test_a_letter_after_a_number_is_a_unit_only_when_it_is_one() -> None:
    got = [v.text for v in values_in("5G phones reach 3 m people.", "number", "How many?")]
    assert got == ["5", "3"]  # (5G is a network, "3 m" three million, not metres)


def test_a_two_sentence_quote_does_not_cross_a_speakers_label() -> None:
    """The question's words in one sentence and a value in the next make a two-sentence
    quote; not where the next one is another speaker's turn (asked an H100's price, the
    next speaker's training cost was shown as the answer)."""
    labelled = _passage(
        1,
        "Nvidia akan membuat lebih banyak GPU H100 tahun depan. Noam Shazeer, Karakter.AI:\n"
        "Model kami butuh $2 juta untuk dilatih.",
    )
    got = answer_first("How much does an Nvidia H100 GPU cost?", [labelled])
    assert got.value is None, got.text
    plain = _passage(1, "Nvidia membuat GPU H100 baru. Harganya $25.000 per unit.")
    got = answer_first("How much does an Nvidia H100 GPU cost?", [plain])
    assert got.value == "$25,000", got.text  # (as an English reader writes it)


def test_asked_who_one_word_after_the_asked_company_is_no_person() -> None:
    sentence = "Perselisihan dengan Meta dan dikeluarkan dari Apple Intelligence bisa berbahaya."
    assert "Intelligence" not in [
        v.text for v in values_in(sentence, "name", "Who is the CEO of Apple?")
    ]
    # a person after the asked company is kept, and a product when a product is asked for
    ceo = values_in("CEO NVIDIA Jensen Huang berbicara.", "name", "Who is the CEO of Nvidia?")
    assert [v.text for v in ceo] == ["Jensen Huang"]
    # asked who, a word in capitals is no person: an event, a company (SIGGRAPH, NVIDIA)
    wife = values_in("Dari istrinya, Lori, khusus untuk SIGGRAPH.", "name", "Who gave it?")
    assert [v.text for v in wife] == ["Lori"]
    product = values_in(sentence, "name", "Apa produk AI Apple?")
    assert "Apple Intelligence" in [v.text for v in product]  # (the asked word kept)


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("Which sunglasses brand are Meta's smart glasses made with?", True),
        ("which AI company is paired with Tesla?", True),
        ("Perusahaan apa yang bekerja sama dengan Meta?", True),
        ("扎克伯格认为Meta AI年底会超过哪家公司?", True),
        ("Công ty nào sản xuất kính?", True),
        # ... or a thing someone made
        ("Which AI software framework, originally developed by Meta, is mentioned?", True),
        ("What platform did Zuckerberg announce?", True),
        ("扎克伯格说今年将推出什么样的新平台?", True),
        ("Platform apa yang diumumkan Zuckerberg?", True),
        ("Who founded the platform?", False),
        ("Which platform's founder spoke?", False),
        ("Who is the CEO of Apple?", False),
        ("Which year did Meta buy Oculus?", False),
        # a person of an organisation is asked for
        ("Which startup founder dropped out of Stanford?", False),
        ("Which company's CEO spoke first?", False),
        ("哪家公司的CEO发言了?", False),
    ],
)
def test_which_company_brand_or_product_is_asked(question: str, asks: bool) -> None:
    assert asks_organisation(question) is asks


def test_persons_are_read_off_the_roles_they_are_given() -> None:
    text = (
        "pendiri sekaligus CEO NVIDIA Jensen Huang serta CEO perusahaan Mark Zuckerberg. "
        "OpenAI CTO Mira Murati. CEO Meta mengatakan. pendiri Meta Platforms Inc."
    )
    # (one word after a role may be the organisation; "Inc" ends an organisation)
    assert person_surnames(text) == {"huang", "zuckerberg", "murati"}
    # only words saying whose role it is stand between: not a verb, not a place
    assert person_surnames(
        "The CEO wore Ray-Ban Meta glasses. The CEO of Roblox, David Baszucki."
    ) == {"baszucki"}
    assert person_surnames("Huang, the CEO, spoke at Computex Taipei.") == set()


def test_asked_which_brand_a_person_given_a_role_is_no_answer() -> None:
    about = _passage(1, "CEO perusahaan Mark Zuckerberg memuji Llama. Semua orang menonton.")
    glasses = _passage(
        2,
        "Pekan lalu, Mark Zuckerberg memamerkan kacamata pintar merek baru. "
        "Kacamata itu dibuat bersama Ray-Ban.",
        doc="d2",
    )
    got = answer_first("Merek apa yang dipakai kacamata pintar baru itu?", [glasses, about])
    assert got.value in (None, "Ray-Ban"), got.text
    # without the role, nothing says he is a person: his name is taken as a brand's
    alone = answer_first("Merek apa yang dipakai kacamata pintar baru itu?", [glasses])
    assert alone.value == "Mark Zuckerberg", alone.text
    # asked who, the person is the answer still
    who = answer_first("Siapa yang memamerkan kacamata pintar itu?", [glasses, about])
    assert who.value == "Mark Zuckerberg", who.text


def test_asked_the_name_of_someones_relative_a_person_answers() -> None:
    sentence = (
        "Huang memberikan jaket kulit miliknya kepada Zuckerberg, yang diperolehnya dari "
        "istrinya, Lori, khusus untuk SIGGRAPH."
    )
    # "siapa nama" asks what a thing is called, unless it is someone's relative (not a
    # subsidiary, "anak perusahaan", nor a capital, "ibu kota")
    for thing in ("Siapa nama anak perusahaan itu?", "Siapa nama ibu kota Peru?"):
        assert "SIGGRAPH" in [v.text for v in values_in(sentence, "name", thing)]
    assert "SIGGRAPH" not in [
        v.text for v in values_in(sentence, "name", "Siapa nama istri Huang?")
    ]
    assert "SIGGRAPH" in [v.text for v in values_in(sentence, "name", "Siapa nama acara itu?")]
    got = answer_first("Siapa nama istri Huang?", [_passage(1, sentence)])
    assert got.value == "Lori", got.text


def test_a_sentence_with_a_colon_is_no_speaker_label() -> None:
    question = "Who said that the model is not the product?"
    # "we must remember: the model is not the product" names nobody
    assert values_in("Kita harus ingat: model bukanlah produknya.", "name", question) == []
    got = values_in("Ursula von der Leyen, EU: Model bukanlah produk.", "name", question)
    assert [v.text for v in got] == ["Ursula von der Leyen"]
    for label in ("Satya Nadella dari Microsoft", "Satya Nadella (Microsoft)"):
        got = values_in(f"{label}: Model bukanlah produk.", "name", question)
        assert [v.text for v in got] == ["Satya Nadella"], label


def test_supporting_quotes_agree_with_the_value() -> None:
    question = "how many H100s does Meta plan to have?"
    passages = [
        _passage(
            1,
            "Meta akan memiliki lebih dari 340.000 GPU H100 pada akhir tahun. "
            "Pengiriman H100 Meta mencapai 150.000 pada tahun 2023.",
            "id",
        ),
        _passage(2, "Meta将拥有超过340,000个H100 GPU。Meta在2023年的H100出货量为150,000。", "zh"),
        _passage(3, "Llama dilatih pada 16.000 GPU H100 milik Meta.", "llama"),
    ]
    result = answer_first(question, passages)
    assert result.value == "more than 340,000"  # "lebih dari 340.000", said in English
    assert result.text.startswith(f"**{result.value}** — “")
    assert len(result.quotes) == 2 and result.cited == {1, 2}
    assert "150" not in result.text and "16.000" not in result.text
    for q in result.quotes:
        p = passages[q.n - 1]
        assert p.text[q.start - p.start : q.end - p.start] == q.text


def test_the_name_the_question_surrounds_wins_over_a_name_other_documents_repeat() -> None:
    # both names follow "CEO"; only Jensen Huang follows "NVIDIA" too. Zuckerberg is the
    # name the other documents repeat: agreement must not pick the topic over the answer
    question = "Who is the CEO of Nvidia?"
    passages = [
        _passage(
            1,
            "Di SIGGRAPH 2024, pendiri sekaligus CEO NVIDIA Jensen Huang serta pendiri "
            "sekaligus CEO Meta Mark Zuckerberg membahas AI sumber terbuka.",
            "siggraph",
        ),
        _passage(2, "Mark Zuckerberg berbicara tentang Llama dan CEO lain.", "llama"),
        _passage(3, "Wawancara dengan Mark Zuckerberg tentang AGI dan CEO.", "agi"),
    ]
    result = answer_first(question, passages)
    assert result.value == "Jensen Huang", result.text


def test_no_matching_sentence_says_so() -> None:
    result = answer_first("qwertz?", [_passage(1, "Nothing in common here at all.")])
    assert result.quotes == [] and result.value is None and "No sentence" in result.text


def test_quote_spans_are_exact_for_every_gold_answer(corpus_index: Settings) -> None:
    catalog = Catalog(corpus_index.catalog_path)
    texts = {d.doc_id: catalog.document_text(d.doc_id) for d in catalog.documents()}
    catalog.close()
    questions = [json.loads(line)["question"] for line in GOLD.read_text().splitlines()]
    checked = 0
    with Answerer(corpus_index) as answerer:
        for question in questions:
            answer = answerer.ask(question, no_llm=True)
            if answer.mode != "extractive":
                continue
            assert answer.quotes, question
            assert {q.n for q in answer.quotes} == answer.cited
            for q in answer.quotes:
                passage = next(p for p in answer.passages if p.n == q.n)
                assert texts[q.doc_id][q.start : q.end] == q.text, (question, q)
                assert passage.start <= q.start < q.end <= passage.end
                assert " ".join(q.text.split())[:50] in " ".join(answer.answer.split())
                checked += 1
            as_json = answer.as_json()["quotes"]
            assert [(j["start"], j["end"], j["text"]) for j in as_json] == [
                (q.start, q.end, q.text) for q in answer.quotes
            ]
    assert checked >= len(questions) // 2


def test_an_overlapping_chunk_does_not_quote_the_best_sentence_twice() -> None:
    doc = "Intro kalimat. OpenAI muncul pada akhir tahun 2022. Meta meluncurkan Llama 3.1."
    first = _passage(1, doc[15:], "llama", start=15)
    again = _passage(2, doc[:51], "llama", start=0)  # an overlapping chunk
    result = answer_first("When did OpenAI emerge?", [first, again])
    assert result.value == "2022"
    assert len(result.quotes) == 1  # not the same sentence again from passage 2


DOC = (
    "Huang menekankan bagaimana interaksi dengan AI menjadi lebih lancar. "
    "“AI masa kini berbasis giliran. "
    "Anda mengatakan sesuatu, ia akan mengatakan sesuatu kembali kepada Anda,” kata Huang. "
    "Di masa mendatang, AI akan bekerja terus-menerus."
)


def test_the_answers_own_words_are_in_the_questions_language() -> None:
    from rag.extractive import compose
    from rag.schema import Quote

    quotes = [Quote(1, "d", 0, 5, "Meta akan memiliki 340.000 GPU."), Quote(2, "e", 0, 5, "同上。")]
    assert "\nAlso stated in:\n" in compose(quotes, "340,000", "en")
    assert "\nJuga disebutkan dalam:\n" in compose(quotes, "340.000", "id")
    assert "\n其他来源也提到：\n" in compose(quotes, "34万", "zh")
    assert "\nAlso stated in:\n" in compose(quotes, "340.000", "fr")  # (no words: English)


def test_asked_who_said_it_the_attribution_after_the_quotation_is_found() -> None:
    # the chunk ends mid-quotation; the next retrieved chunk closes it with "kata Huang"
    cut = DOC.index("Anda mengatakan")
    first, second = _passage(1, DOC[:cut].rstrip()), _passage(2, DOC[cut:], start=cut)
    question = "Siapa yang mengatakan bahwa AI masa kini berbasis giliran?"
    got = answer_first(question, [first, second])
    assert got.value == "Huang" and got.text.startswith("**Huang**"), got.text
    said = got.quotes[1]
    assert said.n == 2 and "kata Huang" in said.text and DOC[said.start : said.end] == said.text
    # shown as who said it, not as another document stating the same
    assert said.role == "attribution" and "Juga disebutkan" not in got.text, got.text
    # (in single quotation marks: the sentence holds the quotation's closing mark; the
    # label in the question's language)
    assert got.text.splitlines()[1].startswith("Dikatakan oleh: ‘"), got.text
    assert got.text.endswith("’ [2]")
    # another document's attribution, or one that opens a new quotation, is not taken
    other = _passage(2, DOC[cut:], doc="d2", start=cut)
    assert answer_first(question, [first, other]).value is None
    opens = _passage(2, "“Lain kali,” kata Huang.", start=cut)
    assert answer_first(question, [first, opens]).value is None


PANEL = (
    "## 6 Model dan produk\n\n"
    "Kevin Scott, Microsoft:\n\n"
    "Kita harus ingat: model bukanlah produknya. Pengguna Anda yang utama. "
    "Kemudian tentukan apakah AI berguna. Mira Murati,OpenAI:\n\n"
    "Kami tidak tahu persis seperti apa masa depan. Produk harus diuji pengguna.\n\n"
    "## 7 Bagian baru\n\n"
    "Model bukan satu-satunya produk yang penting."
)


class Panel:
    """The index around the passages (a `DocumentContext`): `text` (PANEL) as document d1,
    chunked at every blank line; `chunk_at` as the index does."""

    def __init__(self, text: str = PANEL) -> None:
        self.text = text
        self.chunks: list[tuple[int, int]] = []
        at = 0
        for part in text.split("\n\n"):
            start = text.index(part, at)
            self.chunks.append((start, start + len(part)))
            at = start + len(part)

    def document_text(self, doc_id: str) -> str | None:
        return self.text if doc_id == "d1" else None

    def span_passage(self, doc_id: str, start: int, end: int, n: int) -> Passage | None:
        if any(a <= start and end <= b for a, b in self.chunks):
            return _passage(n, self.text[start:end], start=start)
        return None

    def chunk_at(self, doc_id: str, at: int, n: int) -> Passage | None:
        text = self.document_text(doc_id) or ""
        a, b = next(((a, b) for a, b in self.chunks if a <= at < b), (0, 0))
        return _passage(n, text[a:b], start=a) if b else None


def _panel_passage(n: int, opening: str) -> Passage:
    start = PANEL.index(opening)
    return _passage(n, PANEL[start : PANEL.index("\n\n", start)], start=start)


def test_asked_who_said_it_the_label_of_the_speakers_section_answers() -> None:
    said = _panel_passage(1, "Kita harus ingat")  # the label is above it, not retrieved
    other = _panel_passage(2, "Kami tidak tahu")
    question = "Who said that the model is not the product?"
    got = answer_first(question, [said, other], context=Panel())
    assert got.value == "Kevin Scott", got.text
    assert "bukanlah produknya" in got.quotes[0].text
    label = got.quotes[1]
    assert label.role == "attribution" and label.text == "Kevin Scott, Microsoft:"
    assert PANEL[label.start : label.end] == label.text
    # the label's span is cited as a new source, numbered after the retrieved ones
    assert [p.n for p in got.extra] == [3] and label.n == 3
    assert (got.extra[0].start, got.extra[0].end) == (label.start, label.end)
    assert got.text.splitlines()[1] == "Said by: “Kevin Scott, Microsoft:” [3]"
    assert len(got.quotes) == 2  # no "also stated": another sentence of his says another thing


def test_a_label_closing_the_paragraph_before_names_the_next_speaker() -> None:
    got = answer_first(
        "Siapa yang mengatakan bahwa produk harus diuji pengguna?",
        [_panel_passage(1, "Kami tidak tahu")],
        context=Panel(),
    )
    assert got.value == "Mira Murati", got.text
    # the label ends Kevin Scott's paragraph; its span is cited for it
    assert got.quotes[1].text == "Mira Murati,OpenAI:" and got.quotes[1].n == 2
    assert got.extra[0].text == "Mira Murati,OpenAI:"


def test_a_heading_ends_the_speakers_section() -> None:
    start = PANEL.index("Model bukan satu")
    passage = _passage(1, PANEL[start:], start=start)
    got = answer_first("Who said the model is not the only product?", [passage], context=Panel())
    assert got.value is None and "Said by" not in got.text
    assert got.quotes and "satu-satunya" in got.quotes[0].text


TURN = (
    "## 9 Biologi\n\n"
    "Daphne Koller, insitro:\n\n"
    "Pada masa tertentu ilmu biologi maju pesat. Mobil tanpa sopir masih menghalangi truk "
    "pemadam di San Francisco.\n\n"
    "## 10 Peserta\n\n"
    "• Pendiri & CEO insitro Daphne Koller"
)


def test_asked_what_a_speaker_said_every_sentence_of_their_turn_holds_their_name() -> None:
    start = TURN.index("Daphne Koller, insitro")
    turn = _passage(1, TURN[start : TURN.index("\n\n## 10")], start=start)
    start = TURN.index("• Pendiri")
    listed = _passage(2, TURN[start:], start=start)
    # real idf: the name is rarer than the words around the answer
    weights = {"menurut": 0.5, "daphne": 4.0, "koller": 4.0, "menghalangi": 1.5, "truk": 1.5}
    question = "Menurut Daphne Koller, apa yang menghalangi truk?"
    got = answer_first(question, [turn, listed], weights=weights, context=_one_doc(TURN)[1])
    # not the sentence her label opens, nor the list naming her: what she said about it
    assert got.quotes[0].text.startswith("Mobil tanpa sopir"), got.text
    # without the document around it, the name counts only where it is written
    bare = answer_first(question, [turn, listed], weights=weights)
    assert not bare.quotes[0].text.startswith("Mobil"), bare.text


TWO_TURNS = (
    "Kevin Scott, Microsoft:\n\nWe ship copilots every week. Developers stay in flow.\n\n"
    "Mark Chen, OpenAI:\n\nModels will become reliable very quickly. Closed models are safer."
)


def test_a_speakers_turn_is_read_off_their_own_label() -> None:
    from rag.binding import question_names
    from rag.extractive import _SpeakerTerms, _units

    p = _passage(1, TWO_TURNS)
    units = {TWO_TURNS[a:b].split("\n")[0]: (a, b) for a, b in _units(TWO_TURNS)}
    terms = _SpeakerTerms(
        _one_doc(TWO_TURNS)[1], question_names("According to Mark Chen, what is safer?")
    )
    # the sentence a label opens is that speaker's, not the one before's
    assert terms(p, *units["Mark Chen, OpenAI:"]) == {"mark", "chen"}
    assert terms(p, *units["Closed models are safer."]) == {"mark", "chen"}
    assert terms(p, *units["Developers stay in flow."]) == set()
    # a quote spanning two turns is nobody's
    a, _ = units["Developers stay in flow."]
    _, b = units["Mark Chen, OpenAI:"]
    assert terms(p, a, b) == set()
    # another Mark: a first name alone is not the speaker
    other = _SpeakerTerms(
        _one_doc(TWO_TURNS)[1], question_names("According to Mark Zuckerberg, what?")
    )
    assert other(p, *units["Closed models are safer."]) == set()


def test_one_of_is_no_count() -> None:
    question = "Berapa banyak pendiri Roblox?"
    assert values_in("Salah satu pendiri & CEO Roblox David Baszucki", "number", question) == []


def test_a_cognate_with_a_suffix_counts_half() -> None:
    from rag.extractive import _credit

    assert _credit("product", {"produknya"}, ["produk"]) == 0.5
    assert _credit("product", {"produk"}, ["produk"]) == 0.5
    assert _credit("product", {"reproduksi"}, ["produk"]) == 0.0


def test_who_said_it_in_the_shipped_corpus_cites_the_sentence_and_its_speaker(
    bundled_index: Settings,
) -> None:
    # the default path (bundled model): the sentence is found by its meaning, its
    # speaker by the label above its passage
    with Answerer(bundled_index) as answerer:
        got = answerer.ask("Who said that the model is not the product?", no_llm=True)
    assert got.mode == "extractive" and got.answer.startswith("**Kevin Scott**"), got.answer
    assert "bukanlah produknya" in got.quotes[0].text
    label = got.quotes[1]
    assert label.role == "attribution" and label.text.startswith("Kevin Scott, Microsoft")
    holder = next(p for p in got.passages if p.n == label.n)
    assert holder.start <= label.start < label.end <= holder.end
    assert label.n in got.cited


def _one_doc(text: str) -> tuple[Passage, Panel]:
    """`text` as document d1 (the passage: its last paragraph) and its context."""

    class Doc(Panel):
        def __init__(self) -> None:
            self.chunks = [(0, len(text))]

        def document_text(self, doc_id: str) -> str | None:
            return text

        def span_passage(self, doc_id: str, start: int, end: int, n: int) -> Passage | None:
            return _passage(n, text[start:end], start=start)

    start = text.rindex("\n\n") + 2
    return _passage(1, text[start:], start=start), Doc()


def test_a_label_with_a_dot_names_its_speaker_not_the_one_before() -> None:
    text = (
        "Martin Casado,a16z:\n\nBiaya inferensi turun.\n\n"
        "Noam Shazeer, Karakter.AI :\n\nRahasia kelam hiburan adalah teman virtual."
    )
    passage, doc = _one_doc(text)
    got = answer_first("Siapa yang mengatakan rahasia kelam hiburan?", [passage], context=doc)
    assert got.value == "Noam Shazeer", got.text


def test_a_note_or_source_line_is_no_speaker() -> None:
    text = "Kevin Scott, Microsoft:\n\nPendahuluan.\n\nCatatan:\n\nHarga saham Microsoft naik."
    passage, doc = _one_doc(text)
    got = answer_first("Siapa yang mengatakan harga saham Microsoft naik?", [passage], context=doc)
    assert got.value == "Kevin Scott", got.text  # the section's speaker, not "Catatan"


def test_the_next_speakers_label_ends_the_search_for_an_attribution() -> None:
    text = (
        "Mira Murati, OpenAI:\n\nKami bekerja keras. Kami menambahkan modalitas lain. "
        "Noam Shazeer, Karakter.AI:\n\nItu bagus, kata Amodei."
    )
    passage = _passage(1, text)
    doc = _one_doc(text)[1]
    got = answer_first(
        "Siapa yang mengatakan kami menambahkan modalitas lain?", [passage], context=doc
    )
    assert got.value == "Mira Murati", got.text


def test_who_said_asks_for_a_person_whatever_it_quotes() -> None:
    assert answer_type("Siapa yang mengatakan jumlah token bertambah?") == "name"
    assert answer_type("Berapa jumlah token?") == "number"


_PANEL = (
    "Peserta:\n"
    "• OpenAI CTO Mira Murati\n"
    "• Salah satu pendiri & CEO Roblox David Baszucki\n"
    "• Salah satu Pendiri & CEO Antropis Dario Amodei\n"
    "• Salah satu pendiri & CEO Figma Dylan Field\n"
    "• Microsoft CTO & EVP AI Kevin Scott\n\n"
    "Mira Murati, OpenAI: Model kami makin murah.\n"
    "Murati menambahkan bahwa biaya turun.\n"
    "Menurut Mira Murati, itu baru awal.\n"
)


def test_a_name_said_in_a_few_sentences_is_no_topic_when_the_question_surrounds_it() -> None:
    # one line of a participants list holds every word of the question; the same name
    # in other sentences (a speaker) must not make it "the topic" and drop it
    more = "".join(f"Murati berbicara tentang model {i} di OpenAI.\n" for i in range(3))
    more += "".join(f"CTO itu membahas biaya {i}.\n" for i in range(3))
    passages = [_passage(1, _PANEL + more, "panel")]
    result = answer_first("Who is the CTO of OpenAI?", passages)
    assert result.value == "Mira Murati", result.text


def test_a_name_in_two_sentences_of_eight_is_not_the_topic() -> None:
    from rag.extractive import _drop_topic_names, candidates

    text = "".join(f"Kalimat ke {i} tentang biaya model OpenAI.\n" for i in range(6))
    text += "Biaya model OpenAI dipimpin Mira Murati.\nMurati bicara soal biaya OpenAI.\n"
    cands = candidates("Who leads costs at OpenAI?", [_passage(1, text)])
    assert sum(not c.pair for c in cands) >= 8
    _drop_topic_names(cands)
    assert any(v.text == "Mira Murati" for c in cands for v in c.values)


def test_a_name_spelt_otherwise_in_the_documents_binds_and_is_no_answer() -> None:
    # Anthropic is written Antropis in the Indonesian text: the line counts as holding it
    # (half), and the answer is the person after it, not "Antropis Dario Amodei"
    passages = [_passage(1, _PANEL, "panel")]
    near = {"anthropic": ["antropis"]}
    result = answer_first("Who is the CEO of Anthropic?", passages, near=near)
    assert result.value == "Dario Amodei", result.text
    assert "Antropis" in result.quotes[0].text
    found = values_in(
        "• Salah satu Pendiri & CEO Antropis Dario Amodei",
        "name",
        "Who is the CEO of Anthropic?",
        aliases={"antropis"},
    )
    texts = [v.text for v in found]
    assert "Dario Amodei" in texts and not any("Antropis" in t for t in texts), texts


def test_a_capitalised_word_the_passage_writes_in_lower_case_is_no_name() -> None:
    # "Pendiri" (founder) opens a list line; "pendiri" elsewhere shows it is a word
    text = "• Pendiri & CEO Antropis Dario Amodei\nPara pendiri berbicara."
    near = {"anthropic": ["antropis"]}
    result = answer_first("Who is the CEO of Anthropic?", [_passage(1, text)], near=near)
    assert result.value == "Dario Amodei", result.text
    # ... but a company named by a word stays the answer when the sentence has no other
    text = "Microsoft hired Mustafa Suleyman from Inflection. AI reached an inflection point."
    got = answer_first("Who did Microsoft hire Mustafa Suleyman from?", [_passage(1, text)])
    assert got.value == "Inflection", got.text


def test_question_names_are_its_names_not_its_question_words_or_acronyms() -> None:
    from rag.extractive import question_names

    assert question_names("Who is the CEO of Apple?") == {"apple"}
    assert question_names("Anthropic的联合创始人兼CEO是谁?") == {"anthropic"}
    assert question_names("Siapa pendiri Character.AI?") == {"character", "ai"}
    assert question_names("Seberapa besar ekonomi menurut a16z?") == set()  # a capital opens
    assert question_names("Anthropic 的 CEO 是谁？") == {"anthropic"}


def test_near_misses_of_an_indexed_name_leave_the_name_itself_out(
    bundled_index: Settings,
) -> None:
    from rag.retrieve import Retriever

    retriever = Retriever(bundled_index)
    try:
        assert retriever.near_misses("anthropic") == []  # indexed: no query expansion
        held = retriever.near_misses("anthropic", held=True)
        assert "antropis" in held and "anthropic" not in held
        assert retriever.near_misses("openai", held=True) == []  # not "open"
    finally:
        retriever.close()


def test_asked_how_many_of_a_thing_the_number_counting_it_is_the_value() -> None:
    # the sentence holds two numbers; another document repeats the other one, so
    # agreement alone would pick it
    passages = [
        _passage(
            1,
            "Versi Llama yang terbesar memiliki 405 miliar parameter dan dilatih pada lebih "
            "dari 16.000 GPU NVIDIA H100.",
            "siggraph",
        ),
        _passage(2, "Llama punya 405 miliar parameter.", "llama"),
    ]
    got = answer_first("On how many H100s was the biggest Llama model trained?", passages)
    assert got.value in ("lebih dari 16.000", "more than 16,000"), got.text
    params = answer_first("How many parameters does the biggest Llama have?", passages)
    assert params.value in ("405 miliar", "405 billion"), params.text
    # Indonesian writes "on how many GPUs" as bare "pada berapa GPU"
    got = answer_first("Versi Llama terbesar dilatih pada berapa GPU?", passages)
    assert got.value in ("lebih dari 16.000", "more than 16,000"), got.text


def test_a_share_is_no_count_of_a_thing() -> None:
    sentence = "Biaya inferensi Llama 3.1 hanya 50% dari biaya ChatGPT, pada 16.000 GPU."
    # how many of a thing: the percentage is not its count, the other number may be
    assert [v.text for v in values_in(sentence, "number", "How many GPUs were used?")] == ["16.000"]
    assert values_in("Llama 3.1 hanya 50% lebih murah", "number", "多少个token?") == []
    # asked for a share, or how much with no thing counted, the percentage is the value
    share = values_in(sentence, "number", "How many percent cheaper is Llama?")
    assert "50%" in [v.text for v in share]
    assert "50%" in [v.text for v in values_in(sentence, "number", "How much cheaper?")]
    passages = [_passage(1, "Meta mengklaim biaya Llama hanya 50% dari biaya GPT-4.")]
    got = answer_first("How many parameters does GPT-4 have?", passages)
    assert got.value is None, got.text


def test_money_or_years_count_no_thing() -> None:
    years = "Saya pikir hal-hal ini akan terus relevan untuk 3 atau 4 tahun ke depan."
    cost = "Saat ini, biaya operasional sekitar $10-$18, pada 16.000 GPU."
    # asked how many of a thing, a span of years or an amount of money counts none of it
    assert values_in(years, "number", "How many parameters does GPT-4 have?") == []
    assert values_in(years, "number", "Berapa banyak parameter GPT-4?") == []
    assert [v.text for v in values_in(cost, "number", "关于你的多少件事?")] == ["16.000"]
    # ... unless years or money are what is counted
    assert values_in(years, "number", "How many more years will it matter?") != []
    assert "sekitar $10-$18" in [v.text for v in values_in(cost, "number", "How many dollars?")]
    # asked how many years, only a span of time answers ("satu kali", once, does not)
    scaling = "Menurut Dario Amodei, logika itu masih relevan untuk berapa tahun ke depan?"
    assert [v.text for v in values_in(years, "number", scaling)] == ["3 atau 4 tahun"]
    assert values_in("Tambah data sebanyak satu kali akar kuadrat n.", "number", scaling) == []
    assert values_in(cost, "number", "这些规律还会持续多少年?") == []
    # ... nor minutes ("步行 10 分钟即可到达", a ten-minute walk, is no count of trophies)
    assert values_in("从老城区向北步行 10 分钟即可到达。", "number", "赢得过多少次奖杯？") == []
    # a month and a year ("tháng 3 năm 2015", March 2015) is a date, not a span of 3 years
    march = "Tính đến tháng 3 năm 2015, 10 quốc gia."
    assert "3" in [v.key for v in values_in(march, "number", "How many countries?")]


def test_a_count_written_out_before_the_thing_counted() -> None:
    sentence = "This region includes territory belonging to nine nations, Brazil with 60%."
    got = values_in(sentence, "number", "How many nations control this region?")
    assert [(v.text, v.key) for v in got] == [("nine nations", "9")]
    # only before the thing asked about: "nine" alone, or before another word, is no count
    assert values_in(sentence, "number", "How many rivers are there?") == []
    assert [
        v.key for v in values_in("Ada dua perusahaan.", "number", "Berapa banyak perusahaan?")
    ] == ["2"]


def test_asked_who_a_name_with_a_number_is_nobody() -> None:
    sentence = (
        "Di SIGGRAPH 2024, Huang memberikan jaket kulit yang diperolehnya dari istrinya, "
        "Lori, kepada Zuckerberg."
    )
    names = [v.text for v in values_in(sentence, "name", "Siapa istri Jensen Huang?")]
    assert "Lori" in names and not any("2024" in n for n in names)
    # asked which event, it is one
    events = values_in(sentence, "name", "Which event did Huang attend?")
    assert "SIGGRAPH 2024" in [v.text for v in events]
    # "who" that is no question word, "siapa nama" (what is the name of)
    released = "Meta merilis Llama 3.1 405B pada bulan Juli."
    for question in (
        "Siapa nama model yang dirilis Meta pada bulan Juli?",
        "Which model did Meta, who owns 340,000 H100s, release in July?",
    ):
        assert "Llama 3.1 405B" in [v.text for v in values_in(released, "name", question)]


def test_a_sentence_that_asks_states_no_value() -> None:
    # a section heading that is a question, then a statement
    passages = [
        _passage(
            1,
            "## 15 Apakah manusia masih perlu berpartisipasi? "
            "Menurut Kevin Scott, tim yang terdiri dari 12 insinyur melatih model itu.",
        )
    ]
    got = answer_first("How many engineers trained the model?", passages)
    assert got.value == "12", got.text
    heading = answer_first(
        "Who thinks AGI comes?", [_passage(1, "## 11 Akankah Law of Scaling membawa kita ke AGI?")]
    )
    assert heading.value is None, heading.text  # "Akankah Law" is no one
    from index.chunker import asks

    assert asks("**Apakah AGI datang?**") and asks("「AGI 会来吗？」") and asks("“Why?”")
    assert not asks("Ia bertanya kenapa.")
    # asked who said a question, its speaker is still the answer
    said = [_passage(1, "Kevin Scott, Microsoft: Siapa pengguna Anda dan apa masalah mereka?")]
    who = answer_first("Siapa yang mengatakan siapa pengguna Anda dan apa masalah mereka?", said)
    assert who.value == "Kevin Scott", who.text


def test_the_thing_a_question_counts() -> None:
    from rag.values import counted

    assert counted("how many H100s does Meta plan to have?") == "h100"
    assert counted("Berapa banyak GPU H100 yang akan dimiliki Meta?") == "gpu"
    assert counted("Meta将拥有多少个H100?") == "h100"
    assert counted("How much does Meta spend?") is None
    assert counted("Tahun berapa Facebook didirikan?") is None  # "what year", no count
    assert counted("Berapa tarif per jam seniman grafis?") is None  # "what rate"
    # bare "berapa" before a noun counts it ("on how many GPUs"), not before a measure
    assert counted("Versi Llama terbesar dilatih pada berapa GPU?") == "gpu"
    assert counted("Berapa parameter yang dimiliki Llama 3.1?") == "parameter"
    assert counted("Berapa lama pelatihan Llama 3.1?") is None  # how long
    assert counted("Pukul berapa Zuckerberg naik panggung?") is None  # what time
    assert counted("Berapa pangsa pasar Nvidia?") is None  # a share is asked for
    shares = values_in("Pangsa pasar Nvidia mencapai 80% pada 2024.", "number", "Berapa pangsa?")
    assert [v.text for v in shares] == ["80%"]
    assert counted("Who is the CEO of Nvidia?") is None


class _FixedVectors:
    """A SentenceEmbedder whose similarities are given: each text's cosine with the
    question (unit vectors in 2-d)."""

    def __init__(self, cosines: dict[str, float], language_bias: float) -> None:
        self.cosines, self.language_bias = cosines, language_bias
        self.language = "en"  # the question's, as retrieval found it

    def query(self, text: str) -> list[float]:
        return [1.0, 0.0]

    def passage(self, texts: list[str]) -> list[list[float]]:
        import math

        out = []
        for t in texts:
            c = self.cosines.get(t, 0.0)
            out.append([c, math.sqrt(1.0 - c * c)])
        return out


def test_the_embedders_bias_for_the_questions_language_is_taken_off_sentences() -> None:
    import dataclasses

    from rag.extractive import candidates

    question = "Where is the quux stored?"  # English; its words are in no sentence
    english = dataclasses.replace(_passage(1, "Nothing here speaks of it at all."), lang="en")
    chinese = dataclasses.replace(_passage(2, "它存放在北方的一个仓库里。", doc="d2"), lang="zh")
    cosines = {english.text: 0.84, chinese.text: 0.82}  # English ahead by less than its bias
    biased = candidates(question, [english, chinese], embedder=_FixedVectors(cosines, 0.04))
    assert biased[0].passage is chinese
    plain = candidates(question, [english, chinese], embedder=_FixedVectors(cosines, 0.0))
    assert plain[0].passage is english


def test_asked_which_quarter_a_sentence_naming_one_answers_over_a_near_one_naming_none() -> None:
    import dataclasses

    blog = dataclasses.replace(
        _passage(1, "Dalam posting blog minggu lalu, Zuckerberg menulis tentang Llama 3.1."),
        lang="id",
    )
    call = dataclasses.replace(
        _passage(2, "Dalam panggilan dengan para analis pada kuartal pertama, ia mengisyaratkan."),
        lang="id",
    )
    question = "扎克伯格是在哪个季度的分析师电话会上暗示的?"  # no word of either sentence
    others = [_passage(n, f"Kalimat lain yang tidak berkaitan, nomor {n}.") for n in (3, 4, 5)]

    def ask(call_cosine: float) -> Extraction:
        cosines = {blog.text: 0.9, call.text: call_cosine, **{p.text: 0.5 for p in others}}
        vectors = _FixedVectors(cosines, 0.0)
        vectors.language = "zh"
        return answer_first(question, [blog, call, *others], embedder=vectors)

    near = ask(0.75)  # meaning alone ranks it second
    assert near.quotes[0].n == 2 and near.value == "kuartal pertama (第一季度)", near.text
    far = ask(0.5)  # far behind, a sentence naming a quarter does not answer for the best
    assert far.quotes[0].n == 1, far.text


def test_the_same_value_in_the_askers_language_leads() -> None:
    import dataclasses

    chinese = dataclasses.replace(
        _passage(1, "他告诉我,到今年年底,Meta将拥有超过340,000个Nvidia的H100 GPU。", doc="zh"),
        lang="zh",
    )
    indonesian = dataclasses.replace(
        _passage(
            2, "Pada akhir tahun ini, Metal akan memiliki lebih dari 340.000 GPU Nvidia H100."
        ),
        lang="id",
    )
    cosines = {chinese.text: 0.9, indonesian.text: 0.8}  # the Chinese sentence scores best
    question = "Berapa GPU H100 yang akan dimiliki Meta?"
    vectors = _FixedVectors(cosines, 0.0)
    vectors.language = "id"
    got = answer_first(question, [chinese, indonesian], embedder=vectors)
    assert [q.n for q in got.quotes] == [2, 1]  # both cited, the Indonesian one first
    assert got.value == "lebih dari 340.000"  # as that sentence writes it
    vectors.language = "en"  # an English asker: neither is theirs, the best leads
    got = answer_first("How many H100s will Meta have?", [chinese, indonesian], embedder=vectors)
    assert got.quotes[0].n == 1 and got.value == "more than 340,000"  # 超过, in English
    # without dense search the question's language is read from it
    plain = answer_first(question, [chinese, indonesian])
    assert plain.quotes[0].n == 2 and plain.value == "lebih dari 340.000", plain.text


@pytest.mark.parametrize(
    ("question", "points_back"),
    [
        ("who said that?", True),
        ("And who said it?", True),
        ("Siapa yang mengatakannya?", True),
        ("这是谁说的？", True),
        ("who said that the model is not the product?", False),  # says what was said
        ("Who said Meta will have 340,000 H100s?", False),
        ("Who is that?", False),
    ],
)
def test_who_said_that_is_told_from_a_question_saying_what(
    question: str, points_back: bool
) -> None:
    from rag.extractive import asks_who_said_that, who_said_quote

    assert asks_who_said_that(question) is points_back
    answer = "**600.000** — “Metalla akan memiliki hampir 600.000 GPU, menurut Zuckerberg.” [1]"
    assert who_said_quote(answer) == (
        "Who said “Metalla akan memiliki hampir 600.000 GPU, menurut Zuckerberg.”?"
    )
    assert who_said_quote("Not in your documents.") is None
    inner = "“He said “the model is not the product” twice.” [2]"  # quotation inside kept
    assert who_said_quote(inner) == "Who said “He said “the model is not the product” twice.”?"
    # a sentence that is a quotation is not put in quotation marks again
    said = "““Setiap restoran akan memiliki AI,” kata Huang.” [1]"
    assert who_said_quote(said) == "Who said “Setiap restoran akan memiliki AI,” kata Huang?"


def test_a_menu_line_of_the_page_is_never_quoted() -> None:
    """ "What is the capital of France?" over Indonesian articles quoted their page's
    language menu ("• Français (Afrique)"), the nearest in meaning: it states nothing,
    alone or paired with the next menu line (four words together)."""
    from rag.extractive import candidates

    menu, other = "• Français (Afrique)", "• Português (Portugal)"
    statement = "Ibu kota Prancis adalah Paris, kata laporan itu."
    p = _passage(1, f"{menu}\n{other}\n{statement}")
    vectors = _FixedVectors({menu: 0.9, other: 0.85, statement: 0.8}, 0.0)
    for question in ("What is the capital of France?", "Who lives in Afrique?"):
        got = candidates(question, [p], embedder=vectors)
        assert [c.text for c in got] == [statement], question


def test_a_relative_date_answers_when_and_is_glossed_for_an_asker_of_another_language() -> None:
    import dataclasses

    from rag.values import date_values

    # "akhir tahun 2024" is a year, not the end of this year; the question's own is none
    assert [v.text for v in date_values("GPU pada akhir tahun 2024.", "Kapan?")] == ["2024"]
    assert date_values("Pada akhir tahun ini, Meta ...", "Apa rencana akhir tahun ini?") == []
    shipments = dataclasses.replace(
        _passage(1, "根据外部研究,Meta在2023年的H100出货量为150,000。", doc="a"), lang="zh"
    )
    plan = dataclasses.replace(
        _passage(2, "他告诉我,到今年年底,Meta将拥有超过340,000个Nvidia的H100 GPU。", doc="b"),
        lang="zh",
    )
    got = answer_first("When will Meta have more than 340,000 H100s?", [shipments, plan])
    assert got.quotes[0].n == 2, got.text
    assert got.value == "今年年底 (the end of the year)"  # an English asker reads what it means
    got = answer_first("Meta什么时候会拥有超过340,000个H100?", [shipments, plan])
    assert got.value == "今年年底"  # in the asker's own language: as written


def test_a_sentence_holding_quotation_marks_is_quoted_in_single_ones() -> None:
    from rag.extractive import quoted, who_said_quote

    said = "“Llama 2 bukanlah model terdepan di industri,” katanya."
    assert quoted(said) == f"‘{said}’"  # not ““...”” nor “...” katanya.”
    assert quoted("Meta akan memiliki 340.000 GPU.") == "“Meta akan memiliki 340.000 GPU.”"
    assert quoted("他说:“我们已经建立了这样的能力。”") == "‘他说:“我们已经建立了这样的能力。”’"
    # "who said that?" reads the quote back either way
    assert who_said_quote(f"**Huang** — {quoted(said)} [1]") == (
        "Who said “Llama 2 bukanlah model terdepan di industri,” katanya?"
    )


def test_a_sentence_the_document_repeats_is_quoted_once() -> None:
    """A pull quote repeats the article's sentence (here without its closing mark): it
    was listed under "Also stated in" as if another source said it."""
    text = (
        "他说:“我们已经建立了这样的能力,其规模可能超过任何其他单一公司。” "
        "Meta将拥有超过340,000个H100。 "
        "他说:“我们已经建立了这样的能力,其规模可能超过任何其他单一公司。"
    )
    got = answer_first("他说他们建立了什么样的能力?", [_passage(1, text)])
    assert len(got.quotes) == 1, got.text


@pytest.mark.parametrize(
    "question",
    [
        "Zuckerberg likened LLMs to Linux. Which decade was that?",
        "In what decade did ABC finish transitioning to color?",
        "Pada dekade apa disiplin itu berkembang?",
        "扎克伯格是在哪个季度的分析师电话会上暗示的?",
        "数据科学是在哪个年代开始分头发展的?",
    ],
)
def test_a_decade_or_a_quarter_is_asked_as_a_date(question: str) -> None:
    # "which decade" read as "which <thing>" asked for a name: the blog's "Entri" was shown
    assert answer_type(question) == "date"
    assert answer_type("Which company makes the glasses?") == "name"


def test_a_chinese_decade_and_a_quarter_are_dates_that_agree_across_languages() -> None:
    from rag.values import agrees, date_values

    han = date_values("在 20世纪70年代 初，美国广播公司完成了向彩色电视的过渡；", "什么年代?")
    assert [(v.text, v.key) for v in han] == [("20世纪70年代", "1970")]
    assert [v.key for v in date_values("上世纪90年代,两者分开了。", "哪个年代?")] == ["1990"]
    latin = date_values("Lalu pada tahun 1990an, terjadi perbedaan.", "Which decade?")
    assert agrees(latin[0], date_values("90年代", "x"), "date")
    # a year the question names is no answer; a decade beside it still is
    assert date_values("20世纪70年代", "Was it in the 1970s? 1970") == []
    q1 = date_values("Dalam panggilan dengan analis pada kuartal pertama tahun ini, ...", "x")
    assert [v.text for v in q1] == ["kuartal pertama", "tahun ini"]
    assert glossed(q1[0], "zh") == "kuartal pertama (第一季度)"
    assert agrees(q1[0], date_values("在第一季度的电话会上", "x"), "date")
    assert not agrees(q1[0], date_values("in the third quarter", "x"), "date")


def test_asked_why_the_answer_quotes_the_sentence_after_the_one_restating_the_question() -> None:
    text = (
        "Dia memindahkan grup riset FAIR ke bagian produk AI generatif. "
        "Tujuannya agar terobosan AI Meta menjangkau miliaran penggunanya secara langsung.\n"
        "Paragraf berikutnya tentang hal lain."
    )
    got = answer_first(
        "Mengapa Zuckerberg memindahkan grup riset FAIR ke bagian produk?", [_passage(1, text)]
    )
    quote = got.quotes[0]
    assert "Tujuannya agar" in quote.text and "Paragraf" not in quote.text, got.text
    assert text[quote.start : quote.end] == quote.text  # the span stays exact
    # not asked why: the one sentence
    got = answer_first("Ke mana Zuckerberg memindahkan grup riset FAIR?", [_passage(1, text)])
    assert "Tujuannya" not in got.quotes[0].text
    # the next sentence in another paragraph, or a question, is not added
    alone = "Dia memindahkan grup riset FAIR ke bagian produk.\nApa tujuannya?"
    got = answer_first("Why did he move the FAIR group?", [_passage(1, alone)])
    assert got.quotes[0].text == "Dia memindahkan grup riset FAIR ke bagian produk."


@pytest.mark.parametrize(
    ("sentence", "question", "text", "key", "english"),
    [
        (
            "Kami akan melatihnya lagi dengan biaya setengah juta dolar.",
            "How much would it cost to train it again?",
            "setengah juta dolar",
            "500000",
            "$500,000",
        ),
        (
            "Itu berarti sekitar seperempat triliun operasi per detik per orang.",
            "How many operations per second per person?",
            "sekitar seperempat triliun",
            "250000000000",
            "about 250 billion",
        ),
        (
            "Ia seharusnya dapat mempelajari satu miliar hal tentang Anda.",
            "How many things should it learn about you?",
            "satu miliar",
            "1000000000",
            "1 billion",
        ),
        ("Sejuta orang datang.", "How many people came?", "Sejuta", "1000000", "1 million"),
    ],
)
def test_an_amount_written_in_words_with_its_scale_is_a_number(
    sentence: str, question: str, text: str, key: str, english: str
) -> None:
    # "setengah juta dolar" (half a million dollars) was no value: asked what retraining
    # would cost, the answer showed last year's "$2 juta" from the sentence before
    (value,) = values_in(sentence, "number", question)
    assert (value.text, value.key) == (text, key)
    assert sentence[value.start : value.end] == value.text
    assert glossed(value, "en") == english  # said as an English asker writes it
    # and as a Chinese asker writes it, in 万 and 亿
    chinese = {"500000": "50万美元", "250000000000": "约2500亿", "1000000000": "10亿"}
    assert glossed(value, "zh") == chinese.get(key, "100万")


@pytest.mark.parametrize(
    ("sentence", "chinese"),
    [
        ("Model itu mencakup 405 miliar parameter.", "4050亿"),
        ("Meta menghabiskan $15 miliar untuk GPU.", "150亿美元"),
        ("Nvidia akan membuat 1,5 juta H100 lagi.", "150万"),
        ("It cost 2 billion dollars.", "20亿美元"),
        ("Meta akan memiliki lebih dari 340.000 GPU.", "超过340,000"),  # not scaled: digits
    ],
)
def test_a_scaled_amount_is_said_in_wan_and_yi_to_a_chinese_asker(
    sentence: str, chinese: str
) -> None:
    (value, *_) = values_in(sentence, "number", "有多少?")
    assert glossed(value, "zh") == chinese


def test_a_word_amount_of_money_answers_a_money_question_and_agrees_with_digits() -> None:
    from rag.values import agrees

    said = (
        "Tahun lalu biayanya $2 juta, dan kami akan melakukannya lagi dengan setengah juta dolar."
    )
    values = values_in(said, "number", "How much would it cost?")
    assert [v.key for v in values] == ["2000000", "500000"]
    # a scale word alone is no amount of money ("satu miliar hal": things, not dollars)
    assert values_in("Ia mempelajari satu miliar hal.", "number", "How much did it cost?") == []
    assert agrees(values[1], values_in("It costs $500,000.", "number", "How much?"), "number")


@pytest.mark.parametrize(
    ("sentence", "question"),
    [
        # part of a longer number: no value rather than a wrong one
        ("Biayanya dua puluh lima juta pengguna.", "How many users?"),
        ("It has twenty-five million users.", "How many users?"),
        ("It cost one and a half billion dollars.", "How much did it cost?"),
        ("Biaya dua setengah juta dolar.", "How much will it cost?"),
        # an idiom or a name
        ("It is one in a million.", "How many?"),
        ("Kepulauan Seribu sangat indah.", "Berapa banyak pulau?"),
        # the question's own amount
        ("Meta has one billion users.", "How many of its one billion users are in Asia?"),
    ],
)
def test_a_scaled_word_amount_that_is_not_one_gives_no_value(sentence: str, question: str) -> None:
    assert [v.text for v in values_in(sentence, "number", question)] == []


def test_a_word_amount_keeps_the_currency_written_before_it() -> None:
    (value,) = values_in("Biayanya Rp satu juta.", "number", "Berapa biayanya?")
    assert value.text == "Rp satu juta" and glossed(value, "en") == "Rp satu juta"


def test_a_quarter_with_its_year_is_that_year_and_other_quarters_are_not_the_first() -> None:
    from rag.values import date_values

    assert [v.text for v in date_values("Meta shipped it in Q4 2023.", "When?")] == ["2023"]
    assert [v.text for v in date_values("in the fourth quarter of 2023", "When?")] == ["2023"]
    assert date_values("与上一季度相比,收入增长了。", "什么时候?") == []  # the previous quarter
    assert date_values("Q4 quantization helps small models.", "When?") == []
    assert [v.key for v in date_values("在第一季度的电话会上", "什么时候?")] == ["~quarter 1"]
    # 00年代 and 10年代 are this century's; 年代码 is no decade (代码: code)
    assert [v.key for v in date_values("00年代和10年代", "哪个年代?")] == ["2000", "2010"]
    assert date_values("他有20年代码经验。", "哪个年代?") == []
    assert answer_type("Selama tiga bulan apa yang dilakukan Meta?") != "date"
    assert answer_type("什么月亮最圆?") != "date"


def test_asked_why_the_next_sentence_is_not_quoted_twice_nor_the_next_speakers() -> None:
    text = (
        "Meta moved FAIR next to the product group. "
        "Meta moved FAIR to the product group to reach users."
    )
    got = answer_first("Why did Meta move FAIR to the product group?", [_passage(1, text)])
    assert [q.text for q in got.quotes] == [text], got.text
    turn = "Zuckerberg: Meta moved FAIR next to the product group. Huang: That is a great idea."
    got = answer_first("Why did Meta move FAIR to the product group?", [_passage(1, turn)])
    assert "Huang" not in got.quotes[0].text, got.text


def test_an_amount_given_for_a_past_date_the_question_leaves_open_is_the_other_one() -> None:
    said = (
        "Model kami membutuhkan sekitar $2 juta untuk dilatih tahun lalu, dan kami mungkin "
        "akan melakukannya lagi dengan biaya setengah juta dolar."
    )
    got = answer_first("How much would it cost to train the model again?", [_passage(1, said)])
    assert got.value == "$500,000", got.text  # not last year's $2 million
    # asked about last year, last year's figure
    got = answer_first("Berapa biaya model untuk dilatih tahun lalu?", [_passage(1, said)])
    assert got.value == "sekitar $2 juta", got.text
    # a date opening the next clause belongs to that clause's amount
    plans = "Tahun depan model bernilai sekitar $1 miliar, dan pada tahun 2025 $10 miliar."
    got = answer_first("How much will a model cost next year?", [_passage(1, plans)])
    assert got.value == "about $1 billion", got.text


SCALING = (
    "The scaling law says that compute grows with the data and the model size. "
    "Its square root rule means that the model itself does not grow much.\n\n"
    "These laws should stay relevant for about 4 more years. "
    "Hardware also gets faster every year.\n\n"
    "Casado said the cost of a picture is tiny."
)


class Chunks(Panel):
    """SCALING as document d1, chunked at every blank line."""

    def __init__(self) -> None:
        super().__init__(SCALING)

    def passage(self, n: int, k: int) -> Passage:
        a, b = self.chunks[k]
        return _passage(n, SCALING[a:b], start=a)


def test_the_sentence_that_goes_on_in_the_next_chunk_may_answer() -> None:
    """A chunk ends where its tokens run out: the answer opening the next chunk, which
    retrieval did not return, is read too and cited as a new source after the others."""
    ctx = Chunks()
    law, other = ctx.passage(1, 0), ctx.passage(2, 2)
    question = "For how many more years will the scaling law stay relevant?"
    got = answer_first(question, [law, other], context=ctx)
    assert got.value == "about 4", got.text
    first = got.quotes[0]
    assert first.text == "These laws should stay relevant for about 4 more years.", got.text
    assert SCALING[first.start : first.end] == first.text
    assert first.n == 3 and [p.n for p in got.extra] == [3]
    assert (got.extra[0].start, got.extra[0].end) == ctx.chunks[1]
    # retrieved, it is read as one of them: no new source
    got = answer_first(question, [law, ctx.passage(2, 1)], context=ctx)
    assert got.quotes[0].n == 2 and got.extra == [], got.text
    # once the sources went out (no new source can be cited: `Answerer`'s `_SentSources`),
    # only the passages are read

    class SourcesSent(Chunks):
        def chunk_at(self, doc_id: str, at: int, n: int) -> Passage | None:
            return None

    got = answer_first(question, [law, other], context=SourcesSent())
    assert got.value != "about 4" and got.extra == [], got.text


def test_the_next_chunk_retrieved_below_the_top_passages_keeps_its_number() -> None:
    """Retrieved, but below the passages whose sentences are read: the sentence that goes
    on is read from it and cites it as it is numbered, not as a second, new source."""
    ctx = Chunks()
    others = [
        _passage(n, f"Filler number {n} says nothing at all.", doc=f"o{n}") for n in range(2, 7)
    ]
    passages = [ctx.passage(1, 0), *others, ctx.passage(7, 1)]
    got = answer_first(
        "For how many more years will the scaling law stay relevant?", passages, context=ctx
    )
    assert got.value == "about 4" and got.quotes[0].n == 7, got.text
    assert got.extra == [], got.text


def test_a_sentence_read_in_the_next_chunk_is_no_supporting_quote() -> None:
    ctx = Chunks()
    text = "The scaling law stays relevant for 4 more years, the panel agreed."
    stated = _passage(1, text, doc="d2")
    got = answer_first(
        "For how many more years will the scaling law stay relevant?",
        [stated, ctx.passage(2, 0)],
        context=ctx,
    )
    assert got.value == "4" and got.quotes[0].text == text, got.text
    assert len(got.quotes) == 1 and got.extra == [], got.text


def test_a_sentence_read_in_the_next_chunk_agrees_no_value_into_the_answer() -> None:
    ctx = Chunks()
    text = "Relevant: the scaling law, 10 more years; the scaling law, 4 more years."
    got = answer_first(
        "For how many more years will the scaling law stay relevant?",
        [_passage(1, text, doc="d2"), ctx.passage(2, 0)],
        context=ctx,
    )
    assert got.quotes[0].text == text and got.value == "10", got.text


def test_may_and_march_are_months_only_capitalised() -> None:
    said = "His writings may spread to France in 1520, and the armies march on."
    assert [v.text for v in values_in(said, "date", "When did they spread?")] == ["1520"]
    assert [v.text for v in values_in("It began in May 2012.", "date", "When?")] == ["May 2012"]


def test_a_value_in_a_sentence_holding_little_of_the_question_does_not_win_on_its_value() -> None:
    """Where the words decide, a value's bonus is earned by the question's words around
    it: a name in the first passage ("Huang memuji Zuckerberg ...", agreed by the second)
    beat the sentence naming the platform asked about, three passages down."""
    question = "Meta tried to get Llama into which Apple AI platform?"
    weights = {"meta": 1.0, "tried": 5.0, "get": 5.0, "llama": 1.5, "apple": 3.0, "ai": 0.25}
    passages = [
        _passage(1, "Huang memuji Zuckerberg dan Meta sebagai pemimpin dalam bidang AI."),
        _passage(2, "Pekan lalu, Mark Zuckerberg dan Meta merayakan model baru.", doc="d2"),
        _passage(3, "Meta telah muncul dengan cepat sebagai pemimpin dalam bidang AI.", doc="d3"),
        _passage(
            4, "Upaya memasukkan Llama ke platform Apple Intelligence tahun ini gagal.", doc="d4"
        ),
    ]
    got = answer_first(question, passages, weights={**weights, "platform": 2.0})
    assert got.value is not None and "Intelligence" in got.value, got.text
    assert got.quotes[0].n == 4


@pytest.mark.parametrize(
    ("sentence", "question", "values"),
    [
        # asked which quarter: last year is no quarter
        ("Pada kuartal pertama tahun ini, tahun lalu juga.", "在哪个季度?", ["kuartal pertama"]),
        ("受到去年发布的Llama 2的影响。", "扎克伯格是在哪个季度的电话会上说的?", []),
        # asked which decade: a year is no decade
        ("Pada 1990an, lalu pada 2001.", "Which decade did it start?", ["1990an"]),
        ("Pada 1990an, lalu pada 2001.", "在哪个年代开始的?", ["1990an"]),
        # asked which month: a bare year is no month
        ("It opened in March 2023, after 2022.", "In which month did it open?", ["March 2023"]),
        ("它在2023年3月开业，2022年筹备。", "它在哪个月开业？", ["2023年3月"]),
        # asked when: any date
        ("It opened in March 2023, after 2022.", "When did it open?", ["March 2023", "2022"]),
    ],
)
def test_asked_which_quarter_decade_or_month_only_a_date_of_that_grain_answers(
    sentence: str, question: str, values: list[str]
) -> None:
    assert [v.text for v in values_in(sentence, "date", question)] == values


def test_one_word_after_an_asked_word_keeps_it_as_the_names_start() -> None:
    """Asked which Apple AI platform, "Apple Intelligence" is the name, not
    "Intelligence"; a name of several words after it stands alone ("Meta Llama 3.1" ->
    "Llama 3.1"), and asked who, the product after the company is nobody."""
    question = "Meta tried to get Llama into which Apple AI platform?"
    sentence = "Upaya memasukkan Llama ke platform Apple Intelligence gagal."
    assert [v.text for v in values_in(sentence, "name", question)] == ["Apple Intelligence"]
    release = "Meta merilis Meta Llama 3.1 kemarin."
    assert "Llama 3.1" in [v.text for v in values_in(release, "name", "Which Meta model?")]
    got = [v.text for v in values_in(sentence, "name", "Who leads Apple?")]
    assert not any("Intelligence" in v for v in got)


@pytest.mark.parametrize(
    ("sentence", "name"),
    [
        ("Hutan itu juga disebut Selva Amazônica oleh penduduknya.", "Selva Amazônica"),
        ("Kenyatta mengunjungi Trung Quốc atas undangan presiden.", "Trung Quốc"),
        ("Kemudian wartawan menemui José Müller di kota itu.", "José Müller"),
    ],
)
def test_a_name_with_accented_letters_is_read_whole(sentence: str, name: str) -> None:
    """ "Selva Amazônica" was cut to "Selva Amaz" (only unaccented letters were read)."""
    assert name in [v.text for v in values_in(sentence, "name", "What is it called?")]


@pytest.mark.parametrize(
    ("sentence", "question", "values"),
    [
        ("Biayanya $100 juta. Perbedaan 100x ini besar.", "模型投入差距是多少倍?", ["100x"]),
        ("Selisihnya 4 hingga 5 kali lipat, tarifnya $100.", "How many times cheaper is it?",
         ["4 hingga 5 kali lipat"]),
        ("速度快了两倍，价格100元。", "快了几倍？", ["两倍"]),
        ("It is 3 times faster and costs $5.", "How many times faster is it?", ["3 times"]),
        # "how many times" alone counts occurrences: any number answers
        ("He won 3 titles.", "How many times did he win?", ["3"]),
    ],
)  # fmt: skip
def test_asked_how_many_times_more_only_a_multiple_answers(
    sentence: str, question: str, values: list[str]
) -> None:
    assert [v.text for v in values_in(sentence, "number", question)] == values


def test_the_year_the_question_names_is_no_answer_in_any_script() -> None:
    from rag.values import date_values

    asked = "When did the SIGGRAPH 2024 conversation take place?"
    assert date_values("Meta到2024年底将拥有近600,000个GPU。", asked) == []
    assert date_values("By the end of 2024 Meta will have them.", asked) == []
    # a question without the year takes it
    open_ = date_values("Meta到2024年底将拥有近600,000个GPU。", "Meta什么时候会有60万个GPU?")
    assert [v.text for v in open_] == ["2024年"]
