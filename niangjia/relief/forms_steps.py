"""The workflow steps of a household file, each a small form posting to one service.

``STEPS`` lists them by the slug in their address (``/relief/files/<pk>/step/<slug>/``): the
states a step applies to, who may take it (any cadre who may change the file, or only the
county worker service centre and above), its form, and how it calls the service. The file's
page shows the steps ``available_steps`` finds for the user, each with its own form; every
form carries the file's ``version`` so that a stale page is answered with a conflict.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from niangjia.accounts.models import User
from niangjia.relief.choices import (
    ArchiveLevel,
    Category,
    ExitKind,
    FileState,
    ObjectionState,
    WatchState,
)
from niangjia.relief.forms import DATE_INPUT, chinese_messages, money_field
from niangjia.relief.models import HardshipFile, Objection, RelapseCheck
from niangjia.relief.services import exits as exit_services
from niangjia.relief.services import files as file_services

MONTH_INPUT = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")


class StepForm(forms.Form):
    """A step's form: Chinese messages, the file's version, the file it acts on."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, file: HardshipFile, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("version", file.version)
        super().__init__(*args, **kwargs)
        self.file = file
        chinese_messages(self)

    @property
    def started_version(self) -> int | None:
        value = self.cleaned_data.get("version")
        return int(value) if value is not None else None


def _note(label: str, *, required: bool = False, limit: int = 200) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=limit,
        required=required,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _day(label: str, *, required: bool = False) -> forms.DateField:
    return forms.DateField(
        label=label, required=required, widget=DATE_INPUT, help_text="留空为今天"
    )


class PlainForm(StepForm):
    pass


class NoteForm(StepForm):
    note = _note("意见")


class SurveyForm(StepForm):
    surveyed_on = _day("入户调查日期")
    consent_signed = forms.BooleanField(
        label="职工已签署家庭经济状况核对授权书",
        required=False,
        help_text="未取得授权不能完成入户调查；请将签字的授权书作为材料上传",
    )
    consent_on = _day("签署授权日期")
    note = _note("调查情况")


class ReviewForm(StepForm):
    category = forms.ChoiceField(label="困难类别", choices=Category.choices)
    category_reason = forms.CharField(
        label="类别调整理由",
        max_length=200,
        required=False,
        help_text="与系统建议的类别不同时必填",
    )
    archive_level = forms.ChoiceField(label="档案级别", choices=ArchiveLevel.choices)
    reviewed_on = _day("审核日期")
    note = _note("审核意见")

    def __init__(self, *args: Any, file: HardshipFile, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("category", file.category or file.category_proposed)
        kwargs["initial"].setdefault("archive_level", file.archive_level)
        super().__init__(*args, file=file, **kwargs)
        proposed = file.get_category_proposed_display()
        self.fields["category"].help_text = (
            f"系统按收入测算建议：{proposed}" if proposed else "按收入测算不符合认定标准"
        )


class RejectForm(StepForm):
    reason = _note("不予通过的原因", required=True)


class PublicityForm(StepForm):
    days = forms.IntegerField(
        label="公示天数",
        initial=7,
        min_value=0,
        max_value=30,
        help_text="一般为 7 天，公示期满且无未处理异议方可建档",
    )
    starts_on = _day("公示开始日期")


class ObjectionForm(StepForm):
    received_on = _day("收到日期")
    raised_by = forms.CharField(label="异议人", max_length=50, required=False)
    content = _note("异议内容", required=True, limit=500)


class ResolveForm(StepForm):
    objection = forms.IntegerField(widget=forms.HiddenInput)
    upheld = forms.TypedChoiceField(
        label="处理结果",
        choices=[("0", "异议不成立，继续公示"), ("1", "异议成立，退回重新审核")],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        initial="0",
    )
    resolution = _note("处理意见", required=True, limit=500)

    def clean_objection(self) -> Objection:
        pk = self.cleaned_data["objection"]
        objection = Objection.objects.filter(pk=pk, file=self.file).first()
        if objection is None:
            raise ValidationError("该异议不存在")
        return objection


class FileForm(StepForm):
    filed_on = _day("建档日期")


class IncomeForm(StepForm):
    month = forms.DateField(
        label="月份",
        widget=MONTH_INPUT,
        input_formats=["%Y-%m", "%Y-%m-%d"],
        help_text="核查的是哪个月的收入",
    )
    income_per_head = money_field("家庭月人均收入（元）")
    public_support_per_head = money_field("人均政府救助（元）", help_text="低保金等")
    union_aid_per_head = money_field("人均工会常态化帮扶（元）")
    note = _note("说明")

    def __init__(self, *args: Any, file: HardshipFile, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("month", timezone.localdate().replace(day=1))
        super().__init__(*args, file=file, **kwargs)
        self.fields["month"].error_messages["invalid"] = "“月份”请按“年-月”填写，如 2025-06"


class ExitForm(StepForm):
    note = _note("说明")


class RelapseForm(StepForm):
    check = forms.IntegerField(widget=forms.HiddenInput)
    income_per_head = money_field("家庭月人均收入（元）")
    checked_on = _day("回访日期")
    note = _note("回访情况")

    def clean_check(self) -> RelapseCheck:
        check = RelapseCheck.objects.filter(
            pk=self.cleaned_data["check"], watch__file=self.file
        ).first()
        if check is None:
            raise ValidationError("该次回访不存在")
        return check


class TimelineNoteForm(StepForm):
    text = _note("备注", required=True, limit=500)


# --- The steps


@dataclass(frozen=True)
class Step:
    slug: str
    title: str  # the card's heading
    button: str
    states: frozenset[str]
    form: type[StepForm]
    run: Callable[[User, HardshipFile, StepForm], str]  # the success message
    review_level: bool = False  # county worker service centre and above only
    danger: bool = False
    when: Callable[[HardshipFile, Any], bool] | None = None  # extra condition on the page


def _submit(user: User, file: HardshipFile, form: StepForm) -> str:
    file_services.file_submit(file=file, acting_user=user, version=form.started_version)
    return "已提交申请，等待基层工会初审"


def _first_check(user: User, file: HardshipFile, form: StepForm) -> str:
    file_services.file_first_check(
        file=file, acting_user=user, note=form.cleaned_data["note"], version=form.started_version
    )
    return "基层工会初审已通过，下一步：入户调查"


def _survey(user: User, file: HardshipFile, form: StepForm) -> str:
    d = form.cleaned_data
    file_services.file_survey(
        file=file,
        acting_user=user,
        consent_signed=d["consent_signed"],
        surveyed_on=d.get("surveyed_on"),
        consent_on=d.get("consent_on"),
        note=d["note"],
        version=form.started_version,
    )
    return "入户调查已完成，核对授权已记录，下一步：县级审核"


def _review(user: User, file: HardshipFile, form: StepForm) -> str:
    d = form.cleaned_data
    file = file_services.file_review(
        file=file,
        acting_user=user,
        category=d["category"],
        archive_level=d["archive_level"],
        category_reason=d["category_reason"],
        reviewed_on=d.get("reviewed_on"),
        note=d["note"],
        version=form.started_version,
    )
    return f"县级审核已通过，认定为{file.get_category_display()}，下一步：公示"


def _reject(user: User, file: HardshipFile, form: StepForm) -> str:
    file_services.file_reject(
        file=file,
        acting_user=user,
        reason=form.cleaned_data["reason"],
        version=form.started_version,
    )
    return "已办理不予通过，申请人可凭手机号查询原因"


def _publicity(user: User, file: HardshipFile, form: StepForm) -> str:
    d = form.cleaned_data
    file = file_services.publicity_start(
        file=file,
        acting_user=user,
        days=d["days"],
        starts_on=d.get("starts_on"),
        version=form.started_version,
    )
    return f"已开始公示，至 {file.publicity_ends_on:%Y-%m-%d} 结束"


def _objection(user: User, file: HardshipFile, form: StepForm) -> str:
    d = form.cleaned_data
    file_services.objection_add(
        file=file,
        acting_user=user,
        content=d["content"],
        raised_by=d["raised_by"],
        received_on=d.get("received_on"),
    )
    return "已登记公示异议，处理后方可建档"


def _resolve(user: User, file: HardshipFile, form: StepForm) -> str:
    d = form.cleaned_data
    objection = file_services.objection_resolve(
        objection=d["objection"], upheld=d["upheld"], resolution=d["resolution"], acting_user=user
    )
    if objection.state == ObjectionState.UPHELD:
        return "异议成立，档案已退回重新审核"
    return "异议不成立，公示继续"


def _file(user: User, file: HardshipFile, form: StepForm) -> str:
    file = file_services.file_file(
        file=file,
        acting_user=user,
        filed_on=form.cleaned_data.get("filed_on"),
        version=form.started_version,
    )
    return f"已建档立卡（{file.get_archive_level_display()}），年度复核期限 {file.review_due_on:%Y-%m-%d}"


def _annual_review(user: User, file: HardshipFile, form: StepForm) -> str:
    file = file_services.file_annual_review(
        file=file, acting_user=user, note=form.cleaned_data["note"], version=form.started_version
    )
    return f"年度复核已完成，下次复核期限 {file.review_due_on:%Y-%m-%d}"


def _income(user: User, file: HardshipFile, form: StepForm) -> str:
    d = form.cleaned_data
    month: datetime.date = d["month"]
    exit_services.income_check_record(
        file=file,
        month=month.replace(day=1),
        income_per_head=d["income_per_head"],
        public_support_per_head=d["public_support_per_head"] or Decimal(0),
        union_aid_per_head=d["union_aid_per_head"] or Decimal(0),
        note=d["note"],
        acting_user=user,
    )
    file.refresh_from_db()
    if file.exit_proposed_kind:
        return (
            f"已登记 {month:%Y年%m月} 收入核查。系统建议：{file.get_exit_proposed_kind_display()}，"
            "请核实后确认"
        )
    return f"已登记 {month:%Y年%m月} 收入核查"


def _exit(user: User, file: HardshipFile, form: StepForm) -> str:
    file = exit_services.exit_confirm(
        file=file, acting_user=user, note=form.cleaned_data["note"], version=form.started_version
    )
    return f"已确认{file.get_exit_kind_display()}，纳入返困监测；请于 {file.close_due_on:%Y-%m-%d} 前销档"


def _close(user: User, file: HardshipFile, form: StepForm) -> str:
    file_services.file_close(file=file, acting_user=user, version=form.started_version)
    return "已销档，档案保存 10 年"


def _relapse(user: User, file: HardshipFile, form: StepForm) -> str:
    d = form.cleaned_data
    check = exit_services.relapse_check(
        check=d["check"],
        income_per_head=d["income_per_head"],
        checked_on=d.get("checked_on"),
        note=d["note"],
        acting_user=user,
    )
    if check.relapsed:
        return "回访收入低于当地低保标准，已返困并重新建档，请按程序重新初审和入户调查"
    return "回访已登记，收入高于当地低保标准，继续监测"


def _note_step(user: User, file: HardshipFile, form: StepForm) -> str:
    file_services.file_note(file=file, acting_user=user, text=form.cleaned_data["text"])
    return "备注已记入时间线"


def _has_proposal(file: HardshipFile, page: Any) -> bool:
    return bool(file.exit_proposed_kind)


def _has_open_objection(file: HardshipFile, page: Any) -> bool:
    return bool(page.open_objections)


def _watching(file: HardshipFile, page: Any) -> bool:
    return page.next_relapse_check is not None


BEFORE_FILING = frozenset(
    {
        FileState.DRAFT,
        FileState.APPLIED,
        FileState.FIRST_CHECKED,
        FileState.SURVEYED,
        FileState.REVIEWED,
        FileState.PUBLICITY,
    }
)

STEPS: dict[str, Step] = {
    step.slug: step
    for step in (
        Step("submit", "提交申请", "提交申请", frozenset({FileState.DRAFT}), PlainForm, _submit),
        Step(
            "first-check",
            "基层工会初审",
            "初审通过",
            frozenset({FileState.APPLIED}),
            NoteForm,
            _first_check,
        ),
        Step(
            "survey",
            "入户调查",
            "完成入户调查",
            frozenset({FileState.FIRST_CHECKED}),
            SurveyForm,
            _survey,
        ),
        Step(
            "review",
            "县级审核",
            "审核通过",
            frozenset({FileState.SURVEYED}),
            ReviewForm,
            _review,
            review_level=True,
        ),
        Step(
            "publicity",
            "公示",
            "开始公示",
            frozenset({FileState.REVIEWED}),
            PublicityForm,
            _publicity,
            review_level=True,
        ),
        Step(
            "objection",
            "登记公示异议",
            "登记异议",
            frozenset({FileState.PUBLICITY}),
            ObjectionForm,
            _objection,
        ),
        Step(
            "resolve",
            "处理公示异议",
            "提交处理意见",
            frozenset({FileState.PUBLICITY}),
            ResolveForm,
            _resolve,
            review_level=True,
            when=_has_open_objection,
        ),
        Step(
            "file",
            "建档立卡",
            "建档",
            frozenset({FileState.PUBLICITY}),
            FileForm,
            _file,
            review_level=True,
        ),
        Step(
            "income",
            "收入核查",
            "登记收入",
            frozenset({FileState.FILED}),
            IncomeForm,
            _income,
        ),
        Step(
            "exit",
            "确认解困脱困",
            "确认",
            frozenset({FileState.FILED}),
            ExitForm,
            _exit,
            when=_has_proposal,
        ),
        Step(
            "annual-review",
            "年度复核",
            "完成复核",
            frozenset({FileState.FILED}),
            NoteForm,
            _annual_review,
        ),
        Step("close", "销档", "销档", frozenset({FileState.EXITED}), PlainForm, _close),
        Step(
            "relapse-check",
            "返困监测回访",
            "登记回访",
            frozenset({FileState.EXITED, FileState.CLOSED}),
            RelapseForm,
            _relapse,
            when=_watching,
        ),
        Step(
            "reject",
            "不予通过",
            "不予通过",
            BEFORE_FILING,
            RejectForm,
            _reject,
            danger=True,
        ),
        Step(
            "note",
            "备注",
            "记入时间线",
            frozenset(FileState.values),
            TimelineNoteForm,
            _note_step,
        ),
    )
}


@dataclass
class StepEntry:
    step: Step
    form: StepForm
    open: bool = False  # shown unfolded (the step just tried, or the main next step)


def available_steps(
    *,
    file: HardshipFile,
    page: Any,
    can_change: bool,
    can_review: bool,
    bound: tuple[str, StepForm] | None = None,
) -> list[StepEntry]:
    """The steps ``file`` admits now, for a user who may change it (and review it)."""
    if not can_change:
        return []
    entries = []
    for step in STEPS.values():
        if file.state not in step.states or (step.review_level and not can_review):
            continue
        if step.when is not None and not step.when(file, page):
            continue
        if bound is not None and bound[0] == step.slug:
            entries.append(StepEntry(step, bound[1], open=True))
        else:
            entries.append(StepEntry(step, _initial_form(step, file, page)))
    if not any(entry.open for entry in entries):
        # The step the file waits for: the exit the system proposes, an overdue annual
        # review, else the next step of the workflow.
        overdue = bool(file.review_due_on and file.review_due_on < timezone.localdate())
        preferred = ["exit", *(["annual-review"] if overdue else [])]
        slugs = [e.step.slug for e in entries]
        chosen = next((slug for slug in preferred if slug in slugs), None)
        for entry in entries:
            if chosen is not None and entry.step.slug != chosen:
                continue
            if entry.step.slug not in ("note", "reject", "objection", "annual-review") or (
                entry.step.slug == chosen
            ):
                entry.open = True
                break
    return entries


def _initial_form(step: Step, file: HardshipFile, page: Any) -> StepForm:
    initial: dict[str, Any] = {}
    if step.slug == "relapse-check" and page.next_relapse_check is not None:
        initial["check"] = page.next_relapse_check.pk
    if step.slug == "resolve" and page.open_objections:
        initial["objection"] = page.open_objections[0].pk
    return step.form(file=file, initial=initial)


__all__ = ["STEPS", "ExitKind", "Step", "StepEntry", "WatchState", "available_steps"]
