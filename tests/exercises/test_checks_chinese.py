"""Checks on Chinese answers: length in characters, labels without spaces, full-width numbers, zh vs en."""

from __future__ import annotations

import pytest

from sandbox.exercises.checks import codes_in, numbers_in, numbers_outcome, run_checks
from sandbox.exercises.languages import detect_language, words
from sandbox.exercises.schema import Checks

CASES = [
    # (checks, answer, first reference, passes?, words in the learner's sentence)
    ({"labels": ["正面", "负面"]}, "这条评论是负面的。", ["负面"], True, ""),
    ({"labels": ["正面", "负面"]}, "负面", ["负面"], True, ""),
    ({"labels": ["正面", "负面"]}, "正面", ["负面"], False, "says '正面', but this case should be labelled '负面'"),
    ({"labels": ["正面", "负面"]}, "既有正面也有负面", ["负面"], False, "more than one label"),
    ({"labels": ["正面", "负面"]}, "中性", ["负面"], False, "names none of them"),
    ({"labels": ["positive", "negative"]}, "情感：negative", ["negative"], True, ""),
    ({"contains": ["延误"]}, "您的包裹因天气原因延误两天。", [], True, ""),
    ({"contains": ["延误"]}, "您的包裹已送达。", [], False, "must mention '延误'"),
    ({"not_contains": ["诊断"]}, "请尽快就医，由医生诊断。", [], False, "must not mention '诊断'"),
    ({"max_words": 10}, "您的订单已发货，预计明天送达。", [], False, "had 13 Chinese characters; at most 10"),
    ({"max_words": 15}, "您的订单已发货，预计明天送达。", [], True, ""),
    ({"min_words": 5}, "好的", [], False, "had 2 Chinese characters; at least 5 are needed"),
    ({"max_words": 5}, "请检查 iPhone 15 的屏幕", [], False, "8 words and Chinese characters"),
    ({"language": "zh"}, "请检查 iPhone 15 Pro Max 的屏幕是否有划痕。", [], True, ""),
    (
        {"language": "zh"},
        "Your parcel is delayed by two days. 延误",
        [],
        False,
        "must be in Chinese, but it looks like English",
    ),
    ({"language": "en"}, "您的包裹延误了 two days", [], False, "must be in English, but it looks like Chinese"),
    ({"language": "zh"}, "お荷物は明日届きます。", [], False, "looks like Japanese"),
]


@pytest.mark.parametrize(("checks", "answer", "expected", "passes", "says"), CASES)
def test_checks_read_chinese_answers(checks, answer, expected, passes, says) -> None:
    outcomes = run_checks(answer, Checks.model_validate(checks), {}, expected)
    assert all(o.passed for o in outcomes) == passes, [o.message for o in outcomes]
    if says:
        assert says in " ".join(o.message for o in outcomes)


@pytest.mark.parametrize(
    ("answer", "reference", "passes", "says"),
    [
        ("订单号是４５８２１。", "订单号：45821", True, ""),
        ("订单号45821", "订单号是 45821", True, ""),
        ("预计3天后送达", "预计 3 天送达", True, ""),
        ("预计30天后送达", "预计 3 天送达", False, "has the number 3, but your answer says 30"),
        ("货号ＢＸ－２２１０已发货", "货号 BX-2210", True, ""),
        ("货号BX2210已发货", "货号 BX-2210", False, "has the code BX-2210"),
        ("金额 1，250 元", "金额 1250 元", True, ""),
    ],
)
def test_numbers_in_chinese_text_are_compared_as_numbers(answer, reference, passes, says) -> None:
    outcome = numbers_outcome(answer, reference)
    assert outcome.passed == passes, outcome.message
    assert says in outcome.message


def test_the_pieces_count_as_a_chinese_teacher_counts() -> None:
    assert words("请把报告交给我") == list("请把报告交给我")
    assert words("Check the iPhone 15 屏幕") == ["Check", "the", "iPhone", "15", "屏", "幕"]
    assert numbers_in("订单号45821，3天后") == ["45821", "3"]
    assert codes_in("订单BX-2210与A07") == ["BX-2210", "A07"]
    assert detect_language("这条评论是负面的") == "zh" and detect_language("The review is negative.") == "en"
