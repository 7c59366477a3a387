"""The Chinese track's references and checks, on hand-written answers scored by the real embedders.

No model here speaks Chinese, so these exercises cannot be solved on the default
model (`check --solve` skips them, saying why); what can be proven here is that
their references and checks judge answers as a teacher would: each good answer
passes, and each bad one (wrong label, wrong number, in English, off the topic,
too long) fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.exercises.catalog import load_catalog
from sandbox.grading import exercise_language, score_output

from ..cli.running import run

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog(ROOT / "exercises")
TRACK = [e.id for e in CATALOG.in_track("chinese")]

ANSWERS = {
    # exercise: [(case, answer, passes)]
    "review-sentiment-zh": [
        (0, "负面", True),
        (0, "负面。", True),
        (0, "这条评论是负面的。", False),  # a sentence where one word was asked
        (1, "正面", True),
        (0, "正面", False),  # wrong label
        (0, "negative", False),  # English
        (0, "这条评论既有正面也有负面的内容，总体来说物流很慢，盒子也坏了。", False),  # two labels, too long
    ],
    "order-number-zh": [
        (0, "48213", True),
        (1, "７０９５２", True),  # full-width digits
        (0, "48231", False),  # wrong number
        (0, "订单号是 48213", False),  # words around it
        (0, "The order number is 48213.", False),  # English
    ],
    "fault-log-device": [
        (0, "CNC-07", True),
        (1, "PR-12。", True),
        (0, "CNC-70", False),  # wrong code
        (0, "二号线 CNC-07 主轴温度过高，已停机。", False),  # the whole log again
        (1, "液压压力不足", False),  # off the question
    ],
    "delay-notice-zh": [
        (0, "您好，受暴雨影响，您的包裹会延误2天送达，非常抱歉。", True),
        (1, "很抱歉，由于运输车辆出了故障，您的包裹将晚1天送到。", True),
        (0, "您好，受暴雨影响，您的包裹会延误3天送达，非常抱歉。", False),  # wrong number
        (0, "Sorry, your parcel is delayed by 2 days because of heavy rain.", False),  # English
        (0, "您好，今天天气很好，欢迎您来我们店里选购新品，非常抱歉。", False),  # off the topic
        (
            0,
            "尊敬的客户您好，非常抱歉地通知您，由于近期本地区持续出现大范围的暴雨天气，道路积水严重，"
            "您的包裹将延误2天送达，给您带来的不便我们深表歉意，感谢您的理解与支持。",
            False,
        ),  # too long
    ],
    "hospital-front-desk": [
        (0, "内科", True),
        (1, "请去外科。", True),
        (0, "外科", False),  # wrong department
        (0, "Internal medicine", False),  # English
        (0, "内科，初步诊断为感冒", False),  # a diagnosis
    ],
    "product-title-zh": [
        (0, "暖途不锈钢保温杯 500毫升长效保温", True),
        (1, "疾风男款透气轻便跑步鞋", True),
        (0, "不锈钢保温杯 500毫升", False),  # no brand
        (0, "Nuantu stainless steel vacuum cup 500ml", False),  # English
        (
            0,
            "暖途保温杯采用优质不锈钢材料制成，容量500毫升，保温时间长达12小时，适合办公室和户外使用",
            False,
        ),  # too long
    ],
    "ticket-category-zh": [
        (0, "退款", True),
        (1, "物流", True),
        (1, "退款", False),  # wrong label
        (0, "refund", False),  # English
        (0, "这个工单属于退款类，也可能和物流有关。", False),  # two labels
    ],
    "meeting-summary-zh": [
        (0, "会议决定由王工负责更换二号线的传送带，周五前完成。", True),
        (1, "李主管负责组织库存重新盘点，20日前完成。", True),
        (0, "The meeting decided Wang will replace the conveyor belt by Friday.", False),  # English
        (0, "大家讨论了很多问题。", False),  # off the point
        (
            0,
            "周一的生产会上大家讨论了二号线效率低的问题，经过讨论，最后决定由王工负责更换传送带，"
            "要求在本周五之前完成这项工作。",
            False,
        ),  # too long
    ],
}


def test_the_chinese_track_has_eight_exercises_all_in_chinese() -> None:
    assert sorted(TRACK) == sorted(ANSWERS)
    assert all(exercise_language(CATALOG.exercises[i]) == "zh" for i in TRACK)


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_good_answers_pass_and_bad_ones_fail(exercise_id, real_embedder, settings) -> None:
    exercise = CATALOG.exercises[exercise_id]
    wrong = []
    for case, answer, passes in ANSWERS[exercise_id]:
        result = score_output(exercise, case, answer, real_embedder, settings)
        if result.passed != passes:
            wrong.append((answer, result.similarity, result.feedback))
    assert wrong == []


def test_score_on_the_command_line_uses_the_multilingual_embedder() -> None:
    good = run(
        "score", "delay-notice-zh", "--case", "0", "--output", "您好，受暴雨影响，您的包裹会延误2天送达，非常抱歉。"
    )
    assert good.returncode == 0, good.stdout + good.stderr
    bad = run("score", "delay-notice-zh", "--case", "0", "--output", "Sorry, your parcel is late.")
    assert bad.returncode == 1
