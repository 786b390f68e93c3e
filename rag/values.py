"""What a question asks for, and the values of that kind a sentence states.

- `answer_type`: a number ("how many", "berapa", "多少"), a date ("when", "kapan", "何时"),
  a name ("who", "which company", "siapa", "谁") or other, from the question words of
  English, Indonesian and Chinese; asked who said something, a person.
- `values_in`: the numbers (with their currency or unit, in one comparable form:
  340.000 = 340,000 = 34万), dates or names a sentence states that the question does not;
  a year is no count, a version ("Llama 3.1") or a model name ("GPT-2") no number, a
  share no count of a thing, a first name before an asked surname no answer.
- `counted`: the thing a how-many question counts ("h100" of "how many H100s"), and
  `counts`: does a value count it.

The model-free answer (`rag.extractive`) scores sentences with them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from index.chunker import TITLES
from index.lexical import STOPWORDS, tokenize
from index.speakers import speaker_name
from index.textnorm import _NUMBER, canonical_number, fold, numbers_in
from rag.binding import generic

AnswerType = Literal["number", "name", "date", "other"]


_TYPE_PATTERNS: list[tuple[AnswerType, re.Pattern[str]]] = [
    (
        "date",
        re.compile(
            # "when" asking, not joining ("What satellite was used when Sky launched?",
            # "What was most impressive when they released GPT-2?")
            r"^\W*when\b|\b(?:and|or|since|until|till|from|by)\s+when\b|\bwhen\W*$|"
            r"\bwhat year\b|\bwhich year\b|\bwhat date\b|\bkapan\b|tahun berapa|"
            r"\bpada tahun\b.*\?|何时|什么时候|哪一年|哪年|几年|哪一天|"
            # a decade, a month, a quarter ("which decade" read as a name gave "Entri")
            r"\b(?:which|what) (?:decade|month|quarter)\b|\b(?:dekade|kuartal|triwulan)"
            r"(?: ke)? (?:apa|berapa)\b|"
            r"(?:哪个|哪一个|什么|哪一)(?:年代|月份?(?![亮球饼光])|季度)|第几季度",
            re.IGNORECASE,
        ),
    ),
    (
        "number",
        re.compile(
            r"\bhow (?:many|much|big|large|long|old)\b|\bwhat (?:percentage|share|size)\b|"
            r"\bberapa\b|\bjumlah\b|多少|几|多大|多长|百分之",
            re.IGNORECASE,
        ),
    ),
    (
        "name",
        re.compile(
            # "which company", "what platform did ...", "model apa (saja) yang", "哪个应用"
            r"\bwho(?:m|se)?\b|\bwhich \w+|\bwhere\b|"
            r"\bwhat (?!does\b|did\b|do\b|is\b|was\b|are\b|were\b|will\b|would\b|can\b|"
            r"could\b|should\b|has\b|have\b|had\b|kind\b|sort\b|type\b)\w+ "
            r"(?:does|did|do|is|was|are|were|will|has|have|had)\b|"
            r"\bsiapa\b|\b(?!apa\b)[a-z]+ apa (?:saja )?yang\b|\bdi mana\b|"
            r"谁|哪位|哪家|哪个|哪些|什么公司|哪里",
            re.IGNORECASE,
        ),
    ),
]
_YEAR = re.compile(r"(?<!\d)(?:1[5-9]|20)\d\d(?!\d)(?:\s?年)?")
# the months, in English and Indonesian ("may" and "march" are words too: only
# capitalised are they months)
_MONTHS = (
    r"jan(?:uary|uari)?|feb(?:ruary|ruari)?|(?-i:March|May)|maret|apr(?:il)?|mei|"
    r"june?|juni|july?|juli|aug(?:ust)?|agustus|sep(?:tember)?|oct(?:ober)?|okt(?:ober)?|"
    r"nov(?:ember)?|dec(?:ember)?|des(?:ember)?"
)
_DATE = re.compile(
    rf"(?:\d{{1,2}}\s)?\b(?:{_MONTHS})\b(?:\s\d{{1,2}}(?!\d),?)?(?:\s(?:1\d|20)\d\d(?!\d))?"
    r"|(?<!\d)(?:1[5-9]|20)\d\d\s?年(?:\s?\d{1,2}\s?月)?(?:\s?\d{1,2}\s?日)?"
    r"|(?<!\d)\d{1,2}\s?月(?:\s?\d{1,2}\s?日)?",
    re.IGNORECASE,
)
# a run of capitalised words (with model numbers: "Llama 3.1", "Claude 3.5 Sonnet"; a
# title before a name: "Dr. Smith")
# (letters with accents too: "Selva Amazônica" was cut to "Selva Amaz", "José", "Đà Nẵng")
_UP = "A-ZÀ-ÖØ-ÞĐ"
_LETTER = "A-Za-z0-9À-ÖØ-öø-ɏḀ-ỿ"
_NAME_RUN = re.compile(
    rf"(?<![{_LETTER}])(?:(?:{'|'.join(TITLES)})\.\s(?=[A-Z]))?[{_UP}][{_LETTER}'’.&-]*[{_LETTER}]"
    rf"(?:\s+(?:[{_UP}][{_LETTER}'’.&-]*[{_LETTER}]|[{_UP}]|\d+(?:\.\d+)?[A-Za-z]?)"
    rf"(?![{_LETTER}]))*"
)
_VERSION = re.compile(r"(?<![A-Za-z])[A-Z][A-Za-z]+\s?$")  # "Llama " right before a small number
_PREFIX = re.compile(r"(?:US\$|S\$|\$|€|£|¥|Rp\.?\s?|\b(?:USD|IDR|EUR|GBP|RMB|CNY)\s?)$")
# any sign or word of a currency: a sentence without one states no amount of money
_ANY_CURRENCY = re.compile(
    r"[$€£¥₹₩]|\b(?:USD|IDR|EUR|GBP|JPY|CNY|RMB|dolar|dollars?|rupiah|euros?|yuan|yen|"
    r"pounds?|cents?)\b|\bRp\.?\s?(?=\d)|美元|美金|人民币|欧元|英镑|日元|"
    r"[\d一二三四五六七八九十百千万亿两]\s*元|đô la|\bđồng\b",
    re.IGNORECASE,
)


def states_money(sentence: str) -> bool:
    """Does `sentence` name a currency (a sign or a word) anywhere?"""
    return bool(_ANY_CURRENCY.search(sentence))


# a unit of measure after a number ("742 kg", "3,5 km", 30公里, "60 kWh"): part of the
# value shown (a bare "742" says nothing of what was weighed); the abbreviations are
# case-sensitive ("5G" is no 5 grams), the words not
MEASURE = (
    r"(?:(?-i:[kmcμ]?g|[kcm]m|km/h|mph|kWh|[kMGT]?W|[kMGT]?Wh|[KMGTP]B|[KMGT]i?B|[kMG]?Hz|hp|"
    r"°[CF]|ml|mL|km²|m²|m³|ha|lbs?|ft|oz|nm|ms|TFLOPS|PFLOPS|FLOPS|tps|fps))(?![\w/])"
    r"|(?i:(?:kilo|centi|milli)?(?:grams?|gram|meters?|metres?|liters?|litres?)|kilometres?|"
    r"kilometers?|tonnes?|tons?|miles?|mil|feet|foot|inch(?:es)?|pounds?\s(?=of\b)|degrees?|"
    r"derajat|hectares?|hektar|acres?|watts?|kilowatts?|megawatts?|gigawatts?|volts?|"
    r"gigabytes?|terabytes?|megabytes?|petabytes?|petaflops|teraflops|exaflops)\b"
    r"|公斤|千克|公里|千米|厘米|毫米|平方公里|平方米|米|公吨|吨|克|摄氏度|华氏度|千瓦时|"
    r"千瓦|兆瓦|瓦|毫升|升|英里|英尺|英寸|磅|公顷|亩"
)
_MEASURE = re.compile(rf"^\s?(?:{MEASURE})")
# a multiple after a number ("100x", "3 times", "4 hingga 5 kali lipat", "tenfold")
_MULTIPLES = r"[xX]|kali(?:\s+lipat)?|times|-?fold"
_SUFFIX = re.compile(
    rf"^(?:\s?(?:%|persen\b|percent\b|per cent\b|(?:{_MULTIPLES})\b|倍|美元|美分|欧元|英镑|日元|元|"
    r"dolar\b|dollars?\b|sen\b|cents?\b|rupiah\b|euros?\b|yuan\b|yen\b|đô la|đồng\b|"
    r"hours?\b|jam\b|days?\b|hari\b|weeks?\b|"
    rf"minggu\b|months?\b|bulan\b|years?\b|tahun\b|个月|个小时|小时|天|年|{MEASURE}))"
)


# the name of someone's relative asks for a person ("siapa nama istri Huang": "siapa
# nama" alone asks what a thing is called)
_KIN = (
    r"(?:istri(?:nya)?|suami(?:nya)?|anak(?:nya)?|putra|putri|ayah(?:nya)?|ibu(?:nya)?|"
    r"wife|husband|son|daughter|father|mother|brother|sister|partner)"
    # (not "anak perusahaan", a subsidiary; "ibu kota", a capital; "sister company")
    r"(?!\s+(?:perusahaan|kota|usaha|company|companies|firms?|organi[sz]ations?|city|cities))"
)
_NAME_OF_RELATIVE = (
    rf"\b(?:nama|name of)\s+(?:the\s+)?(?:[\w-]+(?:'s|’s)\s+)?(?:{_KIN})\b|"
    r"(?:妻子|丈夫|太太|夫人|儿子|女儿|父亲|母亲)(?:叫什么|的名字)"
)
# a person is asked for
_WHO = re.compile(rf"\bwho\b|\bsiapa\b|谁|{_NAME_OF_RELATIVE}", re.IGNORECASE)
# ... as the question word: not "Meta, who owns ..." (a clause) nor "siapa nama model
# ..." (what is the model's name)
_ASKS_PERSON = re.compile(
    rf"(?<!,)(?<!, )\bwho\b|\bsiapa\b(?!\s+nama)|谁|{_NAME_OF_RELATIVE}", re.IGNORECASE
)
_WHO_SAID = re.compile(
    r"\bwho (?:said|says|say|wrote|claimed|argued|told)\b|\bsiapa yang (?:mengatakan|berkata|"
    r"menyatakan|bilang|menulis)\b|谁说|谁认为|谁表示",
    re.IGNORECASE,
)
# "Kevin Scott, Microsoft: ..." (a speaker label) and "..., kata Huang." (an attribution)
_LABEL = re.compile(r"^\W{0,3}(?P<label>[A-Z][^:：\n]{1,60}?)[:：]\s*")
ATTRIBUTION_RE = re.compile(
    r"(?:\b(?:kata|ujar|jawab|tutur|ucap|menurut|said|says|asked|replied|according to)\s+"
    r"|[，,]\s*)"
    r"(?P<who>[A-Z][\w'’.-]*[\w'’-](?:\s[A-Z][\w'’.-]*[\w'’-])?)"
    r"\s*(?:\.(?=\s|$)|。|$|[，,]?\s*(?:kata|said))"
)


# asked which company, brand or organisation: a person is no answer
# (not "which company's CEO", "which startup founder", "哪家公司的CEO": a person)
_PERSON_AFTER = (
    r"(?!['’]s\b|\s+(?:founders?|co-?founders?|ceos?|ctos?|cfos?|heads?|chiefs?|presidents?|"
    r"directors?|leaders?|boss(?:es)?|executives?|employees?|engineers?|researchers?|"
    r"pendiri|bos|kepala|pemimpin|direktur)\b)"
)
_ASKS_ORGANISATION = re.compile(
    r"\b(?:which|what)\s+(?:[\w-]+\s+){0,2}?(?:compan(?:y|ies)|brands?|firms?|makers?|"
    rf"manufacturers?|organi[sz]ations?|startups?|labs?|vendors?|suppliers?|"
    # ... or a thing someone made: a person is no answer to it either ("Which AI software
    # framework ... is mentioned both ...?" showed Zuckerberg)
    r"frameworks?|platforms?|products?|software|librar(?:y|ies)|tools?|apps?|applications?|"
    rf"chips?|devices?|services?)\b{_PERSON_AFTER}|"
    r"\b(?:perusahaan|merek|merk|organisasi|startup|produsen|pembuat|platform|produk|"
    r"perangkat\s+lunak|aplikasi|chip|layanan)\s+(?:[\w-]+\s+)?"
    r"(?:apa|mana)\b|(?:哪家|(?:哪个|哪一个|什么)(?:样的)?[\u4e00-\u9fff]{0,2}?(?:公司|品牌|组织|机构|企业|厂商|框架|平台|"
    r"产品|软件|工具|应用|芯片|服务))"
    r"(?![^，,。？?]{0,4}的?(?:CEO|首席|创始人|总裁|老板|负责人|员工))|"
    r"(?<!CEO )(?<!giám đốc )\b(?:công ty|hãng|tổ chức|thương hiệu)\s+nào\b",
    re.IGNORECASE,
)


def asks_organisation(question: str) -> bool:
    """Does the question ask for a company, brand or organisation ("which sunglasses
    brand", "perusahaan apa", "哪家公司"), or a thing one made ("which framework",
    什么样的新平台)? A person's name does not answer it."""
    return bool(_ASKS_ORGANISATION.search(question))


def asks_speaker(question: str) -> bool:
    """Does the question ask who said something?"""
    return bool(_WHO_SAID.search(question))


_WHY = re.compile(
    r"\bwhy\b|\bhow come\b|\bmengapa\b|\bkenapa\b|为什么|为何|\btại sao\b|\bvì sao\b", re.I
)


def asks_why(question: str) -> bool:
    """Does the question ask for a reason (why, mengapa, 为什么)?"""
    return bool(_WHY.search(question))


def answer_type(question: str) -> AnswerType:
    """What the question asks for, from its question words (English, Indonesian, Chinese).
    Who said something asks for a person, whatever else it quotes ("... jumlah token")."""
    if asks_speaker(question):
        return "name"
    for kind, pattern in _TYPE_PATTERNS:
        if pattern.search(question):
            return kind
    # an amount of money asked without "how much" ("What did it cost to train it?")
    return "number" if asks_money(question) else "other"


@dataclass(frozen=True)
class Value:
    """A value of the asked-for type inside a sentence: as written (`text`, with its
    currency or unit), where (offsets into the sentence) and in comparable form (`key`)."""

    text: str
    start: int
    end: int
    key: str
    strong: bool = True  # a bare small count ("## 7", "1 word") is weak evidence
    # a number's qualifier, as `_QUALIFIERS` keys it ("more than" for "lebih dari" of
    # "lebih dari 340.000"), and how many characters of `text` it takes
    qualifier: str = ""
    lead: int = 0
    amount: bool = False  # a number written in digits (`said_in` may rewrite it), no date


def _is_year(key: str) -> bool:
    return key.isdigit() and len(key) == 4 and 1500 <= int(key) <= 2099


_WORD_NUMBERS = {
    # English, Indonesian: small counts written out ("two hours", "dua jam")
    **dict.fromkeys(["one", "satu", "se"], "1"),
    **dict.fromkeys(["two", "dua"], "2"),
    **dict.fromkeys(["three", "tiga"], "3"),
    **dict.fromkeys(["four", "empat"], "4"),
    **dict.fromkeys(["five", "lima"], "5"),
    **dict.fromkeys(["six", "enam"], "6"),
    **dict.fromkeys(["seven", "tujuh"], "7"),
    **dict.fromkeys(["eight", "delapan"], "8"),
    **dict.fromkeys(["nine", "sembilan"], "9"),
    **dict.fromkeys(["ten", "sepuluh"], "10"),
    **dict.fromkeys(["half", "setengah", "separuh"], "0.5"),
}
_HAN_DIGITS = {"二": "2", "两": "2", "三": "3", "四": "4", "五": "5", "六": "6"}
_HAN_DIGITS.update({"七": "7", "八": "8", "九": "9", "十": "10", "半": "0.5"})
_UNIT_WORDS = (
    r"(?:hours?|jam|days?|hari|weeks?|minggu|months?|bulan|years?|tahun|minutes?|menit|"
    r"times|kali|people|orang|companies|perusahaan)"
)
_WORD_NUMBER = re.compile(
    r"(?<!\w)(?P<word>"
    + "|".join(k for k in _WORD_NUMBERS if k != "se")
    + r")\s"
    + _UNIT_WORDS
    + r"(?!\w)|(?P<han>[二两三四五六七八九十半])(?:个|個)?"
    r"(?:小时|小時|天|周|星期|月|年|倍)",
    re.IGNORECASE,
)


# a share, not a count: never the answer to how many of a thing ("how many parameters"
# over "50% of the cost"), unless the question asks for percent ("how much" may ask for
# a share: "how much cheaper")
_PERCENT = re.compile(r"(?:%|persen|percent|per cent|百分)", re.IGNORECASE)
# asked how long (a time or a length)
_HOW_LONG = re.compile(
    r"\bhow long\b|\bberapa (?:lama|panjang)\b|(?<!许)多长(?!期)|多久", re.IGNORECASE
)
# what "berapa" (how many / how much) asks for when no count: "berapa harga" (what price),
# "berapa lama" (how long), "berapa miliar" (how many billion: a scale, not the thing)
_MEASURES = (
    r"(?:banyak|jumlah|harga|biaya|nilai|besar|lama|jauh|tinggi|luas|berat|persen|"
    r"persentase|pangsa|porsi|bagian|usia|umur|tahun|ribu|juta|miliar|triliun|tarif|ongkos|"
    r"gaji|skor|suhu|kecepatan|ukuran|dolar|rupiah)(?:nya)?\b"
)
# ... and after a noun, "berapa" asks which one: "tahun berapa" (what year), "pukul
# berapa" (what time), "nomor berapa"; the word after it is the subject, not counted
_BARE_BERAPA = (
    "".join(
        rf"(?<!{w} )"
        for w in ("tahun", "pukul", "tanggal", "jam", "bulan", "hari", "abad", "nomor")
    )
    + r"(?<!ke )(?<!ke-)\bberapa\s+"
)
# (bare "berapa X" names the thing counted, `_COUNTED`, but only these words say a
# share cannot answer: "Berapa pangsa pasar Nvidia?" asks for one)
_MANY = re.compile(
    r"\bhow\s+many\b|\bberapa\s+(?:banyak|jumlah)(?:nya)?\b|多少(?:个|块|台|张|名|位|家|件|种|次)",
    re.IGNORECASE,
)


# a question asking for an amount of money ("how much did Meta pay", "berapa harga",
# 多少钱): only an amount in a currency answers it, not a count in the same sentence
# ("How much does an H100 cost?" over "340.000 GPU Nvidia H100")
_ASKS_MONEY = re.compile(
    r"\bhow\s+much\b.*\b(?:pa(?:y|ys|id|ying)|spen(?:d|ds|t|ding)|cost(?:s|ing)?|"
    r"pric(?:e|ed|es)|worth|money|invest(?:s|ed|ing|ment)?|rais(?:e|es|ed|ing)|"
    r"earn(?:s|ed|ing)?|revenue|fund(?:s|ed|ing)?|valu(?:ation|ed)|s(?:ell|ells|old|elling)|"
    r"charg(?:e|es|ed|ing)|salary|budget|fined|profits?|income)\b"
    r"|\bwhat\s+(?:is|was|are|were)\s+the\s+(?:\w+\s+)?(?:price|cost|valuation|"
    r"net\s+worth|salary|budget|revenue)\b(?![\s-]+(?:wars?|cuts?|performance|drops?|gaps?|"
    r"index|increases?|hikes?|of\s+(?:living|capital)))"
    # "What did it cost to train ...?", "what's Nvidia's market cap?"
    r"|\bwhat\s+(?:did|does|do|will|would)\s+"
    r"(?:(?!(?:say|said|says|think|thought|write|wrote|mean|about|of|on|the|do|reduce|cut|"
    r"lower|training|inference|operating|running)\b)[\w'’-]+\s+){1,5}?"
    r"(?:cost|pay(?!\s+attention)|charge)\b"
    r"|\bwhat(?:'s|’s|\s+is|\s+was)\s+(?:[\w'’-]+\s+){0,3}?(?:market\s+cap(?:itali[sz]ation)?|"
    r"market\s+value|valuation|price|net\s+worth)\b(?![\s-]+(?:wars?|cuts?|performance|"
    r"drops?|gaps?|index|increases?|hikes?))"
    r"|\bberapa\s+(?:harga|biaya|dana|gaji|tarif|ongkos|investasi|pendapatan|valuasi|uang|"
    r"dolar|rupiah|kekayaan)(?:nya)?\b"
    r"|多少钱|(?:价格|价钱|估值|市值|财富|身价|费用|成本)(?:是|为|有)?多少|花了多少|投资了?多少"
    r"|多少美元|多少资金",
    re.IGNORECASE,
)
# ... unless it asks for a change or a share ("How much did revenue grow?", 百分之多少)
_CHANGE = re.compile(
    r"\b(?:grow|grew|grown|growth|increase[sd]?|rise|rose|risen|fall|fell|fallen|drop(?:ped)?|"
    r"decline[sd]?|cheaper|naik|turun|meningkat|menurun|tăng|giảm)\b|增长|上涨|下降|下跌|涨|跌",
    re.IGNORECASE,
)
# a currency right after a number (and its multiplier: "4 miliar dolar AS", "150亿美元")
_CURRENCY_AFTER = re.compile(
    r"^\s?(?:美元|美分|元|欧元|英镑|日元|dolar|dollars?|USD|US\$|euros?|EUR|rupiah|IDR|"
    r"yuan|RMB|yen|pounds?|sen|cents?|đô la|đồng)(?![^\W\d_])",
    re.IGNORECASE,
)
# a range of two numbers ("$10-$18", "10–18 persen", "10 hingga 18", "3 or 4 years",
# "3 atau 4 tahun", 三或四年): one value
_FROM = re.compile(r"\b(?:from|dari)\s+(?:US\$|\$|€|£|¥|Rp\.?\s?)?$", re.IGNORECASE)
_RANGE = re.compile(
    r"^\s?(?:[-–—~～至到]|或者?|(?:to|hingga|sampai|until|or|atau|hoặc)\b)"
    r"\s?(?:US\$|\$|€|£|¥|Rp\.?\s?)?"
)


# what a number's words before it say of it ("more than 340,000", "hampir 600.000",
# 超过150亿美元): part of the value shown, so the bold value claims no more than the
# sentence; keyed by meaning, and said in the asker's language when the sentence is in
# another (`glossed`): en, id, zh, vi
_QUALIFIERS: tuple[tuple[str, str, tuple[str, str, str, str]], ...] = (
    (
        "more than",
        r"more\s+than|over|lebih\s+dari|超过|超過|逾|多于|nhiều\s+hơn",
        ("more than", "lebih dari", "超过", "hơn"),
    ),
    (
        "almost",
        r"almost|nearly|hampir|nyaris|将近|接近|(?<![最附])近|gần",  # (not 最近: recent)
        ("almost", "hampir", "近", "gần"),
    ),
    (
        "about",
        # ("spoke about 3 risks": what was spoken of, not roughly three)
        r"(?<!talk )(?<!talks )(?<!talked )(?<!spoke )(?<!speak )(?<!speaks )(?<!wrote )"
        r"(?<!write )(?<!writes )(?<!think )(?<!thinks )(?<!learn )(?<!learned )(?<!know )"
        r"(?<!asked )(?<!ask )(?<!care )(?<!worry )(?<!worried )about"
        r"|around|approximately|roughly|sekitar|kira-kira|kurang\s+lebih|大约|大概|khoảng"
        r"|(?<![节签预合条契邀公制违婚和相])约",  # (not 节约 save, 签约 sign, 合约 ...)
        ("about", "sekitar", "约", "khoảng"),
    ),
    ("up to", r"up\s+to|hingga|sampai|多达|高达|lên\s+tới", ("up to", "hingga", "多达", "lên tới")),
    (
        "less than",
        r"less\s+than|fewer\s+than|under|kurang\s+dari|di\s+bawah|不到|少于|低于|dưới|ít\s+hơn",
        ("less than", "kurang dari", "不到", "dưới"),
    ),
    (
        "at least",
        r"at\s+least|setidaknya|minimal|paling\s+sedikit|至少|ít\s+nhất",
        ("at least", "setidaknya", "至少", "ít nhất"),
    ),
)
_QUALIFIER_BEFORE = [
    (key, re.compile(rf"(?<![A-Za-z])(?:{pattern})\s?$", re.IGNORECASE))
    for key, pattern, _glosses in _QUALIFIERS
]
_QUALIFIER_GLOSS = {key: glosses for key, _pattern, glosses in _QUALIFIERS}


# units of a span of time, in the corpus languages (Latin script, then Han)
_TIME_UNITS = (
    "years?|months?|weeks?|days?|decades?|hours?|minutes?|seconds?|tahun|bulan|minggu|hari|"
    "dekade|jam|menit|detik|năm|tháng|tuần|ngày|giờ|phút"
)
_TIME_UNITS_HAN = "年|个月|周|天|日|小时|分钟|秒"
_SPAN_AFTER = re.compile(
    rf"^\s?(?:(?:(?:more|other|further|additional)\s+)?(?:{_TIME_UNITS})\b(?!\s*\d)"
    rf"|{_TIME_UNITS_HAN})",  # (not a date: "tháng 3 năm 2015", March)
    re.I,
)
_NEGATED = re.compile(r"(?:\b(?:no|not|never|tidak|tak|bukan|không)\s+|不|未|没有?)$", re.I)
AS_WRITTEN = "as written"  # a negated qualifier: "no more than 5" is shown as the source says


def _qualifier(sentence: str, at: int) -> tuple[str, int]:
    """(key, start) of the qualifier right before `at`, else ("", at)."""
    before = sentence[max(0, at - 24) : at]
    for key, rx in _QUALIFIER_BEFORE:
        m = rx.search(before)
        if m:
            start = at - len(before) + m.start()
            negated = _NEGATED.search(sentence, 0, start)
            if negated:
                return AS_WRITTEN, negated.start()
            return key, start
    return "", at


@functools.lru_cache(maxsize=64)
def asks_money(question: str) -> bool:
    """Does the question ask for an amount of money (not a change, a share or a count)?
    (Read once per question: `values_in` runs for every candidate sentence.)"""
    if _CHANGE.search(question) or _PERCENT.search(question) or _MANY.search(question):
        return False
    return bool(_ASKS_MONEY.search(question))


_WORD_COUNT = re.compile(
    r"(?<!\w)(?<!salah )(?P<word>"
    + "|".join(k for k in _WORD_NUMBERS if k != "se")
    + r")\s+(?P<noun>\w+)",
    re.IGNORECASE,
)


# an amount written in words with its scale: "setengah juta dolar" (half a million
# dollars), "seperempat triliun" (a quarter of a trillion), "satu miliar hal", "half a
# million", "a billion", "sejuta"
_FRACTIONS = {
    **dict.fromkeys(["half a", "half", "setengah", "separuh"], "0.5"),
    **dict.fromkeys(["a quarter of a", "a quarter", "quarter of a", "seperempat"], "0.25"),
    **dict.fromkeys(["a", "an", "se"], "1"),
}
_SCALE_WORDS = "thousand|million|billion|trillion|ribu|juta|miliar|milyar|triliun"
_WORD_AMOUNT = re.compile(
    r"(?<!\w)(?P<word>"
    + "|".join(
        sorted(
            (re.escape(k) for k in [*_FRACTIONS, *_WORD_NUMBERS] if k != "se"),
            key=len,
            reverse=True,
        )
    )
    + rf")\s(?P<scale>{_SCALE_WORDS})(?!\w)"
    + r"|(?<!\w)se(?P<joined>ribu|juta|miliar|triliun)(?!\w)",
    re.IGNORECASE,
)


# a word before a scaled amount that makes it part of a longer number or an idiom: "dua
# puluh lima juta" (25 million, not 5), "twenty-five million", "one and a half billion",
# "one in a million"
_NUMBER_BEFORE = frozenset(
    [
        *_WORD_NUMBERS,
        *"puluh ratus belas hundred and dan in of eleven twelve thirteen fourteen fifteen".split(),
        *"sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy".split(),
        *"eighty ninety".split(),
    ]
)
_WORD_BEFORE = re.compile(r"([^\W_]+|\d)[\s-]+$")


@functools.lru_cache(maxsize=256)
def _word_amounts(sentence: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, canonical number) of each amount written in words with its scale
    (cached: read for every candidate sentence, and for the question)."""
    out = []
    for m in _WORD_AMOUNT.finditer(sentence):
        before = _WORD_BEFORE.search(sentence, max(0, m.start() - 30), m.start())
        if before and (before.group(1).lower() in _NUMBER_BEFORE or before.group(1).isdigit()):
            continue
        if re.search(r"\band\s+a\s+$", sentence[max(0, m.start() - 8) : m.start()], re.I):
            continue  # "one and a half billion"
        if (
            m.group(0)[0].isupper()
            and sentence[: m.start()].strip(" \"'“‘(")
            and not re.search(r"[.!?:;]\s*[\"'“‘(]?$", sentence[: m.start()])
        ):
            continue  # a name: "Kepulauan Seribu", "Seribu Satu Malam"
        if m.group("joined"):
            key = canonical_number("1", m.group("joined"))
        else:
            word = m.group("word").lower()
            number = _FRACTIONS.get(word) or _WORD_NUMBERS[word]
            key = canonical_number(number, m.group("scale"))
        if key is not None:
            out.append((m.start(), m.end(), key))
    return tuple(out)


# asked how many times more (a multiple: 多少倍, "berapa kali lipat"), only a multiple
# answers ("Dario Amodei提到的模型投入差距是多少倍?" showed "$100 juta" beside "100x")
_ASKS_MULTIPLE = re.compile(
    r"\bhow\s+many\s+times\s+(?:more|less|larger|bigger|smaller|faster|slower|higher|lower|"
    r"cheaper|greater|as)\b|\bberapa\s+kali\s+(?:lipat|lebih)\b|多少倍|几倍|"
    r"\bgấp\s+bao\s+nhiêu\s+lần\b",
    re.IGNORECASE,
)
_MULTIPLE = re.compile(rf"倍$|(?<![A-Za-z])(?:{_MULTIPLES}|lần)$", re.IGNORECASE)


@functools.lru_cache(maxsize=64)
def _asks_multiple(question: str) -> bool:
    return bool(_ASKS_MULTIPLE.search(question))


@functools.lru_cache(maxsize=64)
def _asks_how_long(question: str) -> bool:
    return bool(_HOW_LONG.search(question))


def _number_values(sentence: str, question: str) -> list[Value]:
    # (the question is read once, not for every candidate sentence: the cached readings)
    found = _numbers(sentence, question)
    if _asks_multiple(question):
        return [v for v in found if _MULTIPLE.search(v.text)]
    return found


# what "how many" may count that is money or time: "how many dollars", "how many more
# years", 多少个月
_MONEY_COUNTED = re.compile(
    r"^(?:more\s+|(?:thousands?|millions?|billions?|trillions?)\s+(?:of\s+)?)?"
    r"(?:uang|money|cash|funds?)\b",
    re.IGNORECASE,
)
_TIME_COUNTED = re.compile(
    rf"^(?:more\s+|other\s+|additional\s+|of\s+the\s+)?(?:{_TIME_UNITS}|{_TIME_UNITS_HAN}|"
    r"centur(?:y|ies)|generations?|seasons?|terms?|abad|periode|masa|月|世纪)",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=64)
def _counts_things(question: str) -> tuple[bool, bool]:
    """(an amount of money counts none, a span of time counts none): asked how many of a
    thing ("How many parameters does GPT-4 have?", 多少件事), "3 or 4 years" and "$10-$18"
    count no parameters and no things, unless money or time is what is counted."""
    m = _MANY.search(question)
    if not m:
        return False, False
    after = question[m.end() :].lstrip()
    money = bool(_CURRENCY_AFTER.match(after) or _MONEY_COUNTED.match(after))
    return not money, not (money or _TIME_COUNTED.match(after))


# asked how many years, months or days: a value of another kind is no answer ("berapa
# tahun ke depan" over "... satu kali akar kuadrat dari n")
_SPAN_ASKED = re.compile(
    rf"\b(?:how\s+many\s+(?:more\s+)?|berapa\s+(?:banyak\s+)?|bao\s+nhiêu\s+)(?:{_TIME_UNITS})\b"
    rf"|多少(?:{_TIME_UNITS_HAN})",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=64)
def _asks_span(question: str) -> bool:
    return bool(_SPAN_ASKED.search(question))


def _numbers(sentence: str, question: str) -> list[Value]:
    asked = numbers_in(question) | {key for _, _, key in _word_amounts(question)}
    span_asked = _asks_span(question)
    noun = counted(question)
    no_share = noun is not None and bool(_MANY.search(question)) and not _PERCENT.search(question)
    no_money, no_span = _counts_things(question)
    money = asks_money(question)
    how_long = _asks_how_long(question)

    def wrong_span(end: int) -> bool:
        """The value ending at `end` is a span of time where the question counts a thing
        (money or years count none of it), or is none where it asks how many years."""
        span = bool(_SPAN_AFTER.match(sentence[end:]))
        return (no_span and span) or (span_asked and not span)

    out: list[Value] = []
    upto = 0  # the end of a range already read ("$10-$18": its 18 is no value of its own)
    for m in _NUMBER.finditer(sentence):
        if m.start() < upto:
            continue
        key = canonical_number(m.group("num"), m.group("mult"))
        year = key is not None and _is_year(key) and m.group("num").isdigit()
        if key is None or key in asked or year:
            continue  # a plain year is a date, rarely the answer to "how many"
        a, b = m.start(), m.end()
        rng = _RANGE.match(sentence[b:])
        said = rng.group(0).strip(" $€£¥Rp.").lower() if rng else ""
        if said in ("to", "until") and _FROM.search(sentence, 0, a):
            rng = None  # "from $10 billion to $18 billion": a change, not a range
        second = _NUMBER.match(sentence, b + rng.end()) if rng else None
        if second is not None:
            high = canonical_number(second.group("num"), second.group("mult"))
            if high is not None and not (_is_year(high) and second.group("num").isdigit()):
                if second.group("mult") and not m.group("mult"):  # "$5-10 billion"
                    key = canonical_number(m.group("num"), second.group("mult")) or key
                key, b = f"{key}-{high}", second.end()
                upto = b
        if a >= 2 and sentence[a - 1] in "-‑" and sentence[a - 2].isalpha():
            continue  # a model name: GPT-2, Llama-3
        quantity = second is not None or _SUFFIX.match(sentence[b:])  # "Sekitar 40 persen"
        if (
            _VERSION.search(sentence, 0, a)
            and len(m.group("num")) <= 4
            and not (m.group("mult") or quantity)
        ):
            continue  # a version: Llama 3.1, Claude 3.5 (a capital before a count or share: no)
        prefix = _PREFIX.search(sentence, 0, a)
        if prefix:
            a = prefix.start()
        spanned = wrong_span(b)
        suffix = _SUFFIX.match(sentence[b:])
        if suffix:
            if no_share and _PERCENT.search(suffix.group(0)):
                continue
            b += suffix.end()
        currency = prefix or _CURRENCY_AFTER.match(sentence[b:])
        of_money = bool(currency or (suffix and _CURRENCY_AFTER.match(suffix.group(0))))
        if money and not of_money:
            continue  # asked for money: a count, a share or a year is no answer
        if (no_money and of_money) or spanned:
            continue  # asked how many of a thing, money or years count none; asked how
            # many years, only a span of time answers
        if how_long and (of_money or (suffix and _PERCENT.search(suffix.group(0)))):
            continue  # asked how long: a share or an amount of money is no length
        bare = not (prefix or suffix or m.group("mult")) and len(m.group("num")) <= 2
        heading = not sentence[: m.start()].strip(" #:*-•")  # "## 13 Apakah ..."
        qualifier, q = _qualifier(sentence, a)
        if sentence[q:a].strip().lower() in ("近", "over") and _SPAN_AFTER.match(
            sentence[m.end() :]
        ):
            qualifier, q = "", a  # 近3年, "over 3 years": a span of time, not a count
        out.append(
            Value(
                sentence[q:b].strip(),
                q,
                b,
                key,
                strong=not (bare or heading),
                qualifier=qualifier,
                lead=a - q,
                amount=True,
            )
        )
    taken = []
    for a, b, key in _word_amounts(sentence):
        if key in asked or any(v.start < b and a < v.end for v in out):
            continue
        prefix = _PREFIX.search(sentence[:a].rstrip(" "))  # "Rp satu juta", "US$ satu miliar"
        if prefix:
            a = prefix.start()
        currency = prefix or _CURRENCY_AFTER.match(sentence[b:])
        if money and not currency:
            continue
        if (no_money and currency) or wrong_span(b):
            continue
        if currency and not prefix:
            b += currency.end()
        qualifier, q = _qualifier(sentence, a)
        text = sentence[q:b].strip()
        out.append(Value(text, q, b, key, qualifier=qualifier, lead=a - q, amount=True))
        taken.append(a)
    for m in [] if money else _WORD_NUMBER.finditer(sentence):
        word = m.group("word")
        key = _WORD_NUMBERS[word.lower()] if word else _HAN_DIGITS[m.group("han")]
        if key not in asked and not wrong_span(m.end()):
            out.append(Value(m.group(0), m.start(), m.end(), key))
            taken.append(m.start())
    if noun is not None:
        # a count written out before the thing counted ("nine nations" for "how many
        # nations", "dua perusahaan")
        for m in _WORD_COUNT.finditer(sentence):
            key = _WORD_NUMBERS[m.group("word").lower()]
            if key not in asked and m.start() not in taken and _is_noun(m.group("noun"), noun):
                out.append(Value(m.group(0), m.start(), m.end(), key))
    return sorted(out, key=lambda v: v.start)


# A date said relative to the article's own time ("by the end of the year", "akhir
# tahun ini", 今年年底, "tahun depan"): the answer to "when will Meta have 340,000
# H100s?" in a news article. Keyed by what it means, so that the same time agrees
# across languages (`agrees`). A year after it ("akhir tahun 2024") makes it an absolute
# date, read by _DATE and _YEAR instead.
_RELATIVE_DATES: tuple[tuple[str, str], ...] = (
    (
        "~end of this year",
        r"\b(?:by\s+)?(?:the\s+)?end\s+of\s+(?:the|this)\s+year\b(?!\s+\d)"
        r"|\blater\s+this\s+year\b"
        r"|\bakhir\s+tahun(?:\s+ini)?\b(?!\s+(?:depan|lalu|\d))"
        # (not 去年年底, 明年年底, 每年年底, 2023年年底: another year's end, or every year's)
        r"|今年年?底|(?<![明去前每年\d])年底"
        r"|\bcuối\s+năm(?:\s+nay)?\b(?!\s+(?:ngoái|sau|tới|trước|\d))",
    ),
    # ("the next year", "the last year": of the story, not of the article)
    ("~next year", r"(?<!the )\bnext\s+year\b|\btahun\s+depan\b|明年|\bnăm\s+(?:sau|tới)\b"),
    ("~last year", r"(?<!the )\blast\s+year\b|\btahun\s+lalu\b|去年|\bnăm\s+ngoái\b"),
    ("~this year", r"\bthis\s+year\b|\btahun\s+ini\b|今年(?!年?底)|\bnăm\s+nay\b"),
    # a quarter of a year (of the article's year unless one is named after it)
    *(
        (
            f"~quarter {n}",
            rf"\b{en}\s+quarter\b|(?<![\w-])Q{n}(?![\w-])(?!\s+(?!of\b|earnings\b|results\b)[a-z])"
            rf"|\b(?:kuartal|triwulan)\s+(?:{id_}|ke-?{n})\b"
            # (not 上一季度, the previous quarter, nor 同一季度, 每一季度, 第十一季度)
            rf"|(?<![\d第上下同每前后本十])(?:第)?{zh}季度|\bquý\s+(?:{n}|{roman})\b",
        )
        for n, en, id_, zh, roman in (
            (1, "first", "pertama", "一", "I"),
            (2, "second", "kedua", "二", "II"),
            (3, "third", "ketiga", "三", "III"),
            (4, "fourth", "keempat", "四", "IV"),
        )
    ),
)
_RELATIVE = [(key, re.compile(pattern, re.IGNORECASE)) for key, pattern in _RELATIVE_DATES]
# ... said in the asker's language when the quote is in another ("今年年底" for an
# English question): en, id, zh, vi
_RELATIVE_GLOSS = {
    "~end of this year": ("the end of the year", "akhir tahun", "年底", "cuối năm"),
    "~next year": ("next year", "tahun depan", "明年", "năm sau"),
    "~last year": ("last year", "tahun lalu", "去年", "năm ngoái"),
    "~this year": ("this year", "tahun ini", "今年", "năm nay"),
    "~quarter 1": ("the first quarter", "kuartal pertama", "第一季度", "quý 1"),
    "~quarter 2": ("the second quarter", "kuartal kedua", "第二季度", "quý 2"),
    "~quarter 3": ("the third quarter", "kuartal ketiga", "第三季度", "quý 3"),
    "~quarter 4": ("the fourth quarter", "kuartal keempat", "第四季度", "quý 4"),
}
_GLOSS_LANGUAGES = ("en", "id", "zh", "vi")


def relative(value: Value) -> bool:
    """Is it a date relative to the article's time ("tahun depan")?"""
    return value.key.startswith("~")


# How an English or Indonesian reader writes an amount (`said_in`): 16.000 reads as
# sixteen in English, "$15 miliar" and 150亿美元 as nothing much
_SCALES = {
    "en": ((10**12, "trillion"), (10**9, "billion"), (10**6, "million")),
    "id": ((10**12, "triliun"), (10**9, "miliar"), (10**6, "juta")),
    "zh": ((10**8, "亿"), (10**4, "万")),  # 405 miliar: 4050亿; 1,5 juta: 150万
}
_MARKS = {"en": (",", "."), "id": (".", ","), "zh": (",", ".")}  # (thousands, decimals)
_DOLLARS = re.compile(r"^\s?(?:dolar(?:\s+AS)?|dollars?|美元|USD)(?![^\W\d_])", re.IGNORECASE)
_SHARE = re.compile(r"^\s?(?:%|persen|percent|per cent)(?![^\W\d_])", re.IGNORECASE)
_UNITS = {
    "en": {"hours": "jam 小时 个小时 hours hour", "days": "hari 天 days day",
           "weeks": "minggu 周 星期 weeks week", "months": "bulan 个月 months month",
           "years": "tahun 年 years year", "times": "kali 倍 times"},
    "id": {"jam": "jam 小时 个小时 hours hour", "hari": "hari 天 days day",
           "minggu": "minggu 周 星期 weeks week", "bulan": "bulan 个月 months month",
           "tahun": "tahun 年 years year", "kali": "kali 倍 times"},
    "zh": {"小时": "jam 小时 个小时 hours hour", "天": "hari 天 days day",
           "周": "minggu 周 星期 weeks week", "个月": "bulan 个月 months month",
           "年": "tahun 年 years year", "倍": "kali 倍 times"},
}  # fmt: skip


def _digits(number: Decimal, language: str, scaled: bool) -> str:
    thousands, point = _MARKS[language]
    if scaled:
        for scale, word in _SCALES[language]:
            if number >= scale and (number / scale) == (number / scale).quantize(Decimal("0.01")):
                if language == "zh":  # 4050亿, not "4,050 亿"
                    return format((number / scale).normalize(), "f") + word
                return f"{_digits(number / scale, language, False)} {word}"
    whole, _, frac = format(number.normalize(), "f").partition(".")
    grouped = f"{int(whole):,}".replace(",", thousands)
    return grouped + (point + frac if frac else "")


def _dollars(number: str, language: str) -> str:
    return f"{number}美元" if language == "zh" else f"${number}"


def said_in(value: Value, language: str) -> str | None:
    """A number value as an English or Indonesian reader writes it ("16.000" -> "16,000",
    "$15 miliar" -> "$15 billion", 150亿美元 -> "$15 billion", "50 persen" -> "50%"),
    without its qualifier; None when it is not a plain amount this knows how to say (a
    range, a word number, an unknown unit): it is then shown as written."""
    if not value.amount or language not in _MARKS or not value.key.replace(".", "", 1).isdigit():
        return None
    if value.qualifier == AS_WRITTEN:
        return None
    body = value.text[value.lead :]
    m = _NUMBER.search(body)
    if m is None:
        words = _WORD_AMOUNT.match(body)  # "setengah juta dolar": half a million dollars
        if words is None:
            return None
        number = _digits(Decimal(value.key), language, True)
        rest = body[words.end() :]
        dollars = _DOLLARS.match(rest)
        if dollars and not rest[dollars.end() :].strip():
            return _dollars(number, language)
        return number if not rest.strip() else None
    groups = re.split(r"[.,]", m.group("num"))
    if len(groups) == 2 and len(groups[1]) == 3 and (groups[0] == "0" or m.group("mult")):
        return None  # 0.125, "$1.234 billion": a decimal read as thousands, maybe
    prefix, rest = body[: m.start()].strip(), body[m.end() :]
    number = _digits(Decimal(value.key), language, bool(m.group("mult")))
    dollars, share = _DOLLARS.match(rest), _SHARE.match(rest)
    if prefix in ("$", "US$") or (not prefix and dollars):
        tail = rest[dollars.end() :] if dollars else rest
        return _dollars(number, language) if not tail.strip() else None
    if prefix:
        return None  # Rp, €, £, ¥: as written
    if not rest.strip():
        return number
    if share and not rest[share.end() :].strip():
        return f"{number}%"
    measure = _MEASURE.match(rest)
    if measure and not rest[measure.end() :].strip():
        # the number as the reader writes it, its unit as the source does ("1.500 kg"
        # -> "1,500 kg", 742公斤 -> 742公斤)
        return number + measure.group(0)
    unit = rest.strip().lower()
    for word, forms in _UNITS[language].items():
        if unit in forms.split():
            if language == "zh":
                return f"{number}{word}"
            if language == "en" and number == "1":
                word = word.removesuffix("s")  # "1 day", not "1 days"
            return f"{number} {word}"
    return None


def glossed(value: Value, language: str) -> str:
    """The value as shown to an asker in `language` (a language key) when its sentence
    is in another: an amount as the asker writes it (`said_in`), its qualifier in the
    asker's words ("lebih dari 340.000" -> "more than 340,000"), a relative date with its
    meaning after it, "今年年底 (the end of the year)"."""
    if value.qualifier == AS_WRITTEN:
        return value.text  # "tidak lebih dari 5", 不超过5: the negation is kept
    amount = said_in(value, language)
    if value.qualifier and language in _GLOSS_LANGUAGES:
        # "lebih dari 340.000" to an English asker: "more than 340,000"
        word = _QUALIFIER_GLOSS[value.qualifier][_GLOSS_LANGUAGES.index(language)]
        return word + ("" if language == "zh" else " ") + (amount or value.text[value.lead :])
    if amount is not None:
        return amount
    gloss = _RELATIVE_GLOSS.get(value.key)
    if gloss is None or language not in _GLOSS_LANGUAGES:
        return value.text
    said = gloss[_GLOSS_LANGUAGES.index(language)]
    return value.text if fold(said) in fold(value.text) else f"{value.text} ({said})"


def _relative_dates(text: str) -> list[tuple[str, int, int]]:
    """(key, start, end) of each relative date in `text`, the longest first where they
    overlap ("akhir tahun ini" is the end of the year, not "tahun ini")."""
    found = [(key, m.start(), m.end()) for key, rx in _RELATIVE for m in rx.finditer(text)]
    found.sort(key=lambda f: (f[1], -(f[2] - f[1])))
    out: list[tuple[str, int, int]] = []
    for f in found:
        if not out or f[1] >= out[-1][2]:
            out.append(f)
    return out


_DECADE = re.compile(r"(?:-?an|s|['’]s)\b|年代")  # 1990an, 1990-an, 1990s, 1990年代
# a Chinese decade of a century: 20世纪70年代 (the 1970s), "20 世纪 40 年代", 90年代
_HAN_DECADE = re.compile(
    r"(?:(?<!\d)(?P<c>1\d|2[01])\s?世纪\s?)?(?<!\d)(?P<d>\d)0\s?年代(?!码|价|表)"
)


@functools.lru_cache(maxsize=64)
def _asked_dates(question: str) -> frozenset[str]:
    """The dates a question names itself (read once per question, not per sentence)."""
    asked = {fold(m.group(0)) for m in _DATE.finditer(question)}
    asked |= {m.group(0)[:4] for m in _YEAR.finditer(question)}
    return frozenset(asked | {key for key, _, _ in _relative_dates(question)})


# asked which quarter, decade or month: only a date of that grain answers ("在哪个季度"
# answered with 去年, last year, from a sentence without the quarter)
_ASKED_GRAIN = (
    (
        "quarter",
        re.compile(
            r"\b(?:which|what)\s+quarter\b|\b(?:kuartal|triwulan)(?:\s+ke)?\s+(?:apa|berapa)\b"
            r"|(?:哪个|哪一个|什么|哪一)季度|第几季度|\bquý\s+(?:nào|mấy)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "decade",
        re.compile(
            r"\b(?:which|what)\s+decade\b|\bdekade\s+(?:apa|berapa)\b|(?:哪个|哪一个|什么|哪一)年代"
            r"|\bthập\s+(?:niên|kỷ)\s+nào\b",
            re.IGNORECASE,
        ),
    ),
    (
        "month",
        re.compile(
            r"\b(?:which|what)\s+month\b|\bbulan\s+(?:apa|berapa)\b"
            r"|(?:哪个|哪一个|什么|哪一)月份?(?![亮球饼光])|几月|\btháng\s+(?:nào|mấy)\b",
            re.IGNORECASE,
        ),
    ),
)
_MONTH = re.compile(rf"\b(?:{_MONTHS})\b|\d\s?月", re.IGNORECASE)


@functools.lru_cache(maxsize=64)
def asked_grain(question: str) -> str | None:
    """ "quarter", "decade" or "month" when the question asks which one, else None."""
    return next((grain for grain, rx in _ASKED_GRAIN if rx.search(question)), None)


def _of_grain(value: Value, grain: str) -> bool:
    if grain == "quarter":
        return value.key.startswith("~quarter")
    if grain == "decade":
        return bool(_DECADE.search(value.text, 4) or "年代" in value.text)
    return bool(_MONTH.search(value.text))


def date_values(sentence: str, question: str) -> list[Value]:
    grain = asked_grain(question)
    found = _date_values(sentence, question)
    return [v for v in found if _of_grain(v, grain)] if grain else found


_BARE_YEAR = re.compile(r"\d{4}\s?年")


def _date_values(sentence: str, question: str) -> list[Value]:
    asked = _asked_dates(question)
    out: list[Value] = []
    taken: list[tuple[int, int]] = []
    for m in _DATE.finditer(sentence):
        text = m.group(0).strip()
        if fold(text) in asked or (_BARE_YEAR.fullmatch(text) and text[:4] in asked):
            continue  # (the year the question names, written 2024年, answers nothing)
        end = m.end() + (text.endswith("年") and sentence[m.end() : m.end() + 1] == "代")
        out.append(Value(sentence[m.start() : end].strip(), m.start(), end, fold(text)))
        taken.append((m.start(), end))
    for m in _YEAR.finditer(sentence):
        year = m.group(0)[:4]
        if year in asked or any(a <= m.start() < b for a, b in taken):
            continue
        # a decade: "1990an", "the 1990s", "1990年代" (not the year 1990)
        decade = _DECADE.match(sentence, m.end()) if not m.group(0).endswith("年") else None
        end = decade.end() if decade else m.end()
        out.append(Value(sentence[m.start() : end].strip(), m.start(), end, year))
        taken.append((m.start(), end))
    for m in _HAN_DECADE.finditer(sentence):
        # 90年代: of the last century; 00年代, 10年代: of this one
        century = int(m.group("c")) if m.group("c") else 20 if m.group("d") > "1" else 21
        year = f"{century - 1}{m.group('d')}0"
        if year in asked or any(x < m.end() and m.start() < y for x, y in taken):
            continue
        out.append(Value(m.group(0), m.start(), m.end(), year))
        taken.append((m.start(), m.end()))
    for key, a, b in _relative_dates(sentence):
        if key.startswith("~quarter") and _YEAR.search(sentence, max(0, a - 8), b + 12):
            continue  # "Q4 2023", 2023年第四季度: the year it names answers when
        if key in asked or any(x < b and a < y for x, y in taken):
            continue
        out.append(Value(sentence[a:b].strip(), a, b, key))
    return sorted(out, key=lambda v: v.start)


def _generic(word: str, asked: set[str]) -> bool:
    w = fold(word.strip(".,'’"))
    if w in asked or w in STOPWORDS or generic(word):
        return True
    parts = tokenize(word)
    return bool(parts) and all(t in asked for t in parts)  # "Character.AI" when asked


def _name_values(sentence: str, question: str, aliases: Collection[str] = ()) -> list[Value]:
    """Runs of capitalised words the question does not hold, split at the words it does
    hold ("Meta Llama 3.1" -> "Llama 3.1") or spells otherwise (`aliases`: "CEO Antropis
    Dario Amodei" -> "Dario Amodei"); a first name right before an asked surname ("Mark"
    of "Mark Zuckerberg") and generic acronyms ("CEO", "AI") are no answer."""
    asked = set(tokenize(question)) | {fold(w) for w in re.findall(r"\w+", question)}
    asked |= set(aliases)
    label = _LABEL.match(sentence)
    body = label.end() if label else 0
    if asks_speaker(question):
        speakers: list[Value] = []
        if label:
            # "Name, Org", "Name (Org)", "Name dari/of/from Org": the name
            # "Ali Ghodsi, Databricks: ..." names a speaker; "Kita harus ingat: ..."
            # ("we must remember: ...") is a sentence that has a colon
            who = speaker_name(label.group("label"))
            a = label.start("label")
            if who:
                speakers.append(Value(who, a, a + len(who), fold(who)))
        for m in ATTRIBUTION_RE.finditer(sentence):
            a, who = m.start("who"), m.group("who").rstrip(".")
            speakers.append(Value(who, a, a + len(who), fold(who)))
        return speakers
    person = bool(_WHO.search(question))
    nobody_numbered = bool(_ASKS_PERSON.search(question))
    words = re.findall(r"[^\W\d_]+", sentence[body:])
    if len(words) >= 8 and sum(w[0].isupper() for w in words) > 0.6 * len(words):
        return []  # a headline in title case: every word is capitalised
    out: list[Value] = []
    for m in _NAME_RUN.finditer(sentence, body):
        words = list(re.finditer(r"\S+", m.group(0)))
        groups: list[list[re.Match[str]]] = [[]]
        # per group: the word the question holds that it follows, if any
        after_asked: list[re.Match[str] | None] = [None]
        for i, w in enumerate(words):
            if _generic(w.group(0), asked):
                held = fold(w.group(0).strip(".,'’")) in asked
                if i > 0 and held and groups[-1]:
                    groups[-1].pop()  # "Mark" before "Zuckerberg": the asked person
                groups.append([])
                after_asked.append(w if held else None)
            else:
                groups[-1].append(w)
        for group, follows in zip(groups, after_asked, strict=True):
            if not group or (len(group) == 1 and group[0].group(0)[0].isdigit()):
                continue
            if person and follows and len(group) == 1:
                continue  # asked who leads Apple: "Apple Intelligence" is its product
            a = m.start() + group[0].start()
            if follows is not None and len(group) == 1:
                # one word after a word the question holds is that name's end: asked
                # which Apple platform, "Apple Intelligence", not "Intelligence"; asked
                # where the Rhine flows, "Rhine Gorge" (XQuAD name values right +1)
                a = m.start() + follows.start()
            text = sentence[a : m.start() + group[-1].end()].rstrip(".,'’")
            before = sentence[body:a].rstrip(" •*-–—\"'“‘(\n")
            opens = not before or before[-1] in ".:;!?。：；！？"  # a sentence starts here
            looks_like_name = sum(c.isupper() for c in text) > 1 or any(c.isdigit() for c in text)
            if opens and len(group) == 1 and not looks_like_name:
                continue  # the capital every sentence starts with
            if len(text) < 2 or not any(c.isalpha() for c in text):
                continue
            if nobody_numbered and any(c.isdigit() for c in text):
                continue  # asked who: "SIGGRAPH 2024", "Llama 3.1", "GPT-4" are nobody
            if nobody_numbered and len(group) == 1 and text.isupper() and len(text) > 3:
                continue  # ... nor a word in capitals: SIGGRAPH, NVIDIA (a name is not)
            out.append(Value(text, a, a + len(text), fold(text)))
    return out


def values_in(
    sentence: str, kind: AnswerType, question: str, aliases: Collection[str] = ()
) -> list[Value]:
    """The values of the asked-for kind that `sentence` states and `question` does not.
    `aliases`: other spellings of the question's names (Antropis for Anthropic), which
    are no answer either."""
    if kind == "number":
        return _number_values(sentence, question)
    if kind == "date":
        return date_values(sentence, question)
    if kind == "name":
        return _name_values(sentence, question, aliases)
    return []


def agrees(value: Value, other: Sequence[Value], kind: AnswerType) -> bool:
    if kind == "name":
        return any(value.key in o.key or o.key in value.key for o in other)
    if kind == "date":
        if relative(value):  # a relative date agrees with the same one only
            return any(value.key == o.key for o in other)
        return any(
            value.key == o.key or (value.key[:4] == o.key[:4] and not relative(o)) for o in other
        )
    return any(value.key == o.key for o in other)


# "how many H100s", "berapa banyak GPU", "多少个H100": the thing counted
_COUNTED = re.compile(
    r"\bhow\s+(?:many|much)\s+(?P<en>[^\W\d_][\w-]*|[\w-]*\d[\w-]*)"
    # "berapa banyak GPU", and bare "berapa GPU" (on how many GPUs), but not "berapa
    # harga" (how much is the price) or "berapa lama" (how long): a measure, no count
    rf"|{_BARE_BERAPA}(?:(?:banyak|jumlah)(?:nya)?\s+)?(?!{_MEASURES})(?P<id>[\w-]+)"
    r"|多少(?:个|块|台|张|名|位|家|件|种|次)?(?P<zh>[A-Za-z0-9][\w-]*)",
    re.IGNORECASE,
)
COUNTED_REACH = 40  # characters after a number where the thing it counts may stand


def counted(question: str) -> str | None:
    """The term a how-many question counts ("h100" of "how many H100s"), folded; None
    when it asks for no count or names nothing after "how many" ("how many are there")."""
    word = counted_word(question)
    return tokenize(word)[0] if word else None


def counted_word(question: str) -> str | None:
    """`counted`, as the question writes it ("H100s")."""
    m = _COUNTED.search(question)
    if not m:
        return None
    # (a Chinese noun is not looked for: 多少次瘟疫 ~ 次 was measured to lose as much
    # as it found on XQuAD zh-zh)
    word = m.group("en") or m.group("id") or m.group("zh") or ""
    terms = tokenize(word)
    return word if terms and terms[0] not in STOPWORDS and len(terms[0]) > 2 else None


def _is_noun(word: str, noun: str) -> bool:
    """Is `word` the counted `noun` (folded), or its other number (parameters ~
    parameter, nation ~ nations)?"""
    return any(
        t == noun or (len(t) >= 4 and (noun.startswith(t) or t.startswith(noun)))
        for t in tokenize(word)
    )


def counts(value: Value, sentence: str, noun: str) -> bool:
    """Is `value` a count of `noun`: does the noun follow it closely ("16.000 GPU NVIDIA
    H100", "340,000个Nvidia的H100")?"""
    return _is_noun(sentence[value.end : value.end + COUNTED_REACH], noun)
