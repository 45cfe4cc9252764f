import datetime as dt
import uuid

import pytest

from domain.tickets import (TicketDraft, TicketValidationError, TransitionError, normalize_phone,
                      validate)
from domain.workdays import SHANGHAI, HolidayCalendar


def at(y, m, d, h=10, minute=0):
    return dt.datetime(y, m, d, h, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize("raw, expected", [
    ("13805331234", "13805331234"),
    ("138 0533 1234", "13805331234"),
    ("+86 138-0533-1234", "13805331234"),
    ("008613805331234", "13805331234"),
    ("0533-2181234", "0533-2181234"),
    ("053321812345", "0533-21812345"),
    ("010-12345678", "010-12345678"),
    ("(021)87654321", "021-87654321"),
])
def test_valid_phone_numbers_are_normalised(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw, fragment", [
    ("", "empty"),
    ("   ", "empty"),
    ("12805331234", "invalid mobile"),
    ("1380533123", "invalid mobile"),
    ("2181234", "area code"),
    ("0533-21812", "invalid landline"),
    ("010-1234567", "invalid landline"),
    ("138abc31234", "not a phone number"),
])
def test_invalid_phone_numbers_explain_why(raw, fragment):
    with pytest.raises(ValueError, match=fragment):
        normalize_phone(raw)


def draft(**overrides):
    base = dict(ticket_type="投诉", content="楼道漏水", caller_number="13805331234", unit_code="ZD")
    base.update(overrides)
    return TicketDraft(**base)


def test_validate_trims_and_normalises():
    checked = validate(draft(content="  楼道漏水  ", caller_number="138-0533-1234"))
    assert checked.content == "楼道漏水"
    assert checked.caller_number == "13805331234"


def test_validate_collects_every_bad_field():
    with pytest.raises(TicketValidationError) as info:
        validate(draft(ticket_type="闲聊", content=" ", caller_number="123",
                       caller_name="名" * 33, urgency="很急"))
    assert set(info.value.errors) == {"ticket_type", "content", "caller_number", "caller_name", "urgency"}
    assert "上限32字" in info.value.errors["caller_name"]


def test_overlong_content_is_refused_with_its_length():
    with pytest.raises(TicketValidationError, match="2001字"):
        validate(draft(content="漏" * 2001))
    assert validate(draft(content="漏" * 2000)).content == "漏" * 2000


def test_direct_handling_needs_a_kb_article_and_dispatch_needs_a_unit():
    with pytest.raises(TicketValidationError, match="kb_article_id"):
        validate(draft(ticket_type="咨询", handling_mode="直办", unit_code=None))
    with pytest.raises(TicketValidationError, match="unit_code"):
        validate(draft(unit_code=None))
    assert validate(draft(ticket_type="咨询", handling_mode="直办", kb_article_id="kb-1"))


def test_naive_acceptance_time_is_refused():
    with pytest.raises(TicketValidationError, match="accepted_at"):
        validate(draft(accepted_at=dt.datetime(2026, 11, 23, 10, 0)))


def test_calendar_weekends_holidays_and_makeup_days():
    cal = HolidayCalendar.load()
    assert cal.is_workday(dt.date(2026, 11, 23))  # Monday
    assert not cal.is_workday(dt.date(2026, 11, 21))  # Saturday
    assert not cal.is_workday(dt.date(2026, 10, 5))  # National Day holiday, a Monday
    assert cal.is_workday(dt.date(2026, 10, 10))  # make-up working Saturday
    assert not cal.is_workday(dt.date(2026, 2, 17))  # Spring Festival
    assert cal.is_workday(dt.date(2026, 2, 14))  # make-up working Saturday


def test_consultation_is_due_next_working_day(rules):
    # Friday → Monday, skipping the weekend
    assert rules.deadline("咨询", "一般", at(2026, 11, 20)) == at(2026, 11, 23, 23, 59).replace(second=59)
    # accepted on a Sunday: first working day after it
    assert rules.deadline("咨询", "一般", at(2026, 11, 22)).date() == dt.date(2026, 11, 23)


def test_complaint_deadline_crosses_national_day(rules):
    # 2026-09-30 (Wed): Oct 1-7 off, Oct 8 Thu (1), Oct 9 Fri (2), Oct 10 make-up Sat (3)
    assert rules.deadline("投诉", "一般", at(2026, 9, 30)).date() == dt.date(2026, 10, 10)
    # Spring Festival: 2026-02-13 Fri → Feb 14 make-up Sat (1), Feb 15-23 off, Feb 24 (2), Feb 25 (3)
    assert rules.deadline("投诉", "一般", at(2026, 2, 13)).date() == dt.date(2026, 2, 25)


def test_urgent_is_due_the_same_day_but_never_in_under_two_hours(rules):
    assert rules.deadline("求助", "紧急", at(2026, 11, 23, 9)) == at(2026, 11, 23, 23, 59).replace(second=59)
    late = rules.deadline("求助", "紧急", at(2026, 11, 23, 23, 0))
    assert late == at(2026, 11, 24, 1, 0)


def test_deadline_days_come_from_the_settings_file(tmp_path):
    from domain.settings import load_settings
    from domain.tickets import TicketRules
    path = tmp_path / "hotline.toml"
    path.write_text("[tickets]\ndeadline_days = { \"建议\" = 10 }\nurgent_min_hours = 4\n", encoding="utf-8")
    custom = TicketRules.from_settings(load_settings(path).tickets)
    assert custom.deadline("建议", "一般", at(2026, 11, 23)).date() == dt.date(2026, 12, 7)
    assert custom.deadline("咨询", "一般", at(2026, 11, 23)).date() == dt.date(2026, 11, 24)  # default kept
    assert custom.deadline("求助", "紧急", at(2026, 11, 23, 22, 0)) == at(2026, 11, 24, 2, 0)


def test_transitions(rules):
    rules.check_transition("受理", "已派单")
    rules.check_transition("已派单", "退单")
    rules.check_transition("退单", "已派单")
    rules.check_transition("受理", "直办结")
    with pytest.raises(TransitionError, match="不能从“受理”变为“已办结”"):
        rules.check_transition("受理", "已办结")
    with pytest.raises(TransitionError):
        rules.check_transition("已归档", "办理中")
    with pytest.raises(TransitionError, match="未知状态"):
        rules.check_transition("受理", "完成")


def test_initial_statuses(rules):
    assert rules.initial_statuses(draft()) == ("受理", "已派单")
    assert rules.initial_statuses(draft(handling_mode="直办", kb_article_id="x")) == ("受理", "直办结")
    assert rules.initial_statuses(draft(ticket_type="咨询", unit_code=None)) == ("受理",)


def test_idempotency_keys_are_unique_per_draft():
    assert draft().idempotency_key != draft().idempotency_key
    key = uuid.uuid4()
    assert draft(idempotency_key=key).idempotency_key == key


@pytest.mark.parametrize("field, value, message", [
    ("content", "楼道灯坏了\x00", "NUL"),
    ("content", "楼道灯坏了\ud800", "代理项"),
    ("caller_name", 12345, "须为文本"),
    ("category_code", ["010201"], "须为文本"),
    ("unit_code", "Z" * 65, "超长"),
    ("seat_id", 2**31, "正整数"),
    ("call_id", "7", "正整数"),
    ("seat_id", True, "正整数"),
    ("accepted_at", dt.datetime(1, 1, 1, tzinfo=SHANGHAI), "不合理"),
    ("accepted_at", dt.datetime(9999, 12, 31, tzinfo=SHANGHAI), "不合理"),
    ("accepted_at", "2026-11-23", "须为时间"),
    ("idempotency_key", "abc", "UUID"),
    ("ticket_type", None, "须为文本"),
])
def test_bad_values_are_a_validation_error_naming_the_field(field, value, message):
    fields = dict(ticket_type="投诉", content="楼道灯坏了", caller_number="13805331234", unit_code="ZD")
    fields[field] = value
    with pytest.raises(TicketValidationError) as refused:
        validate(TicketDraft(**fields))
    assert message in refused.value.errors[field]
