"""Chinese answers scored by an embedder that reads Chinese (real models: MiniLM and USE multilingual v3)."""

from __future__ import annotations

import pytest

from sandbox.exercises.schema import Exercise
from sandbox.grading import exercise_language, grade, score_output

from ..conftest import FakeGenerator

ASKED = "从这条消息中找出订单号，只回答数字：请把报告马上交给我。"
UNRELATED = "请您尽快把报告交给我，谢谢。"
PARAPHRASE = ("请您尽快把报告交给我，谢谢。", "请马上把报告交给我。")

DELAY = Exercise.model_validate(
    {
        "id": "delay-notice",
        "title": "物流延误通知",
        "task": "t",
        "threshold": 0.5,
        "cases": [{"input": "订单 A 因暴雨延误两天", "expect": ["您的包裹因暴雨延误两天，给您带来不便，敬请谅解。"]}],
    }
)


def _similarity(embedder, a: str, b: str) -> float:
    first, second = embedder.embed([a, b])
    return sum(x * y for x, y in zip(first, second, strict=True))


def test_english_only_minilm_scores_unrelated_chinese_as_close_and_the_multilingual_one_does_not(real_embedder) -> None:
    minilm, use = real_embedder.for_language("en"), real_embedder.for_language("zh")
    assert (minilm.name, use.name) == ("all-minilm-l6-v2", "use-multilingual-v3")
    assert _similarity(minilm, ASKED, UNRELATED) > 0.6, "MiniLM reads Chinese as unknown tokens"
    unrelated = _similarity(use, ASKED, UNRELATED)
    paraphrase = _similarity(use, *PARAPHRASE)
    far = _similarity(use, "包裹已损坏", "今天天气很好")
    assert paraphrase > unrelated + 0.2 and far < 0.3, (paraphrase, unrelated, far)
    assert _similarity(use, "负面", "negative") > 0.7, "Chinese and English with one meaning are close"


def test_a_chinese_exercise_is_graded_by_the_multilingual_embedder(real_embedder, settings) -> None:
    assert exercise_language(DELAY) == "zh"
    good = score_output(DELAY, 0, "因为暴雨，您的包裹会延误两天，请您谅解。", real_embedder, settings)
    off_topic = score_output(DELAY, 0, "今天的天气很好，我们去公园散步吧。", real_embedder, settings)
    assert good.passed and not off_topic.passed, (good.similarity, off_topic.similarity)
    verdict = grade(DELAY, "{input}", FakeGenerator(["您的包裹因暴雨延误两天。"]), real_embedder, settings)
    assert (verdict.embedder, verdict.passed) == ("use-multilingual-v3", True)


def test_english_exercises_stay_on_minilm_with_the_same_scores(real_embedder, settings) -> None:
    english = DELAY.model_copy(
        update={"cases": [DELAY.cases[0].model_copy(update={"expect": ["Your parcel is late."]})]}
    )
    assert exercise_language(english) == "en"
    result = score_output(english, 0, "The parcel will arrive late.", real_embedder, settings)
    minilm = real_embedder.for_language("en")
    assert result.similarity == pytest.approx(
        max(0.0, _similarity(minilm, "The parcel will arrive late.", "Your parcel is late.")), abs=1e-9
    )
    verdict = grade(english, "{input}", FakeGenerator(["Your parcel is late."]), real_embedder, settings)
    assert verdict.embedder == "all-minilm-l6-v2"
    spanish = english.model_copy(update={"language": "es"})
    assert exercise_language(spanish) == "es"
    assert grade(spanish, "{input}", FakeGenerator(["Su paquete llega tarde."]), real_embedder, settings).embedder == (
        "use-multilingual-v3"
    ), "a declared language the main embedder does not read goes to the multilingual one"


def test_a_text_gets_the_same_vector_alone_or_beside_others(real_embedder) -> None:
    use = real_embedder.for_language("zh")
    alone = use.embed(["您的包裹延误两天。"])[0]
    beside = use.embed(["一段很长很长的别的文字，用来凑数。" * 5, "您的包裹延误两天。"])[1]
    assert alone == beside
