"""Forms of the export pages. The rules (reason length, who may approve) are the services';
their ValidationError goes back onto the fields (``niangjia.orgs.forms.add_service_errors``)."""

from __future__ import annotations

from typing import Any

from django import forms

MASKED = "masked"
CLEAR = "clear"


class ExportForm(forms.Form):
    """The export page: masked or in clear (for those who may reveal), and the reason."""

    masked = forms.ChoiceField(
        label="号码",
        choices=[(MASKED, "隐去证件号码和手机号码（默认）"), (CLEAR, "完整号码（明文）")],
        initial=MASKED,
        widget=forms.RadioSelect,
        required=False,
    )
    reason = forms.CharField(
        label="导出明文的理由",
        max_length=200,
        required=False,
        help_text="导出明文时必填，至少 4 个字，如“办理会员互助保障理赔核对”。",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, may_unmask: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages["max_length"] = (
            "导出明文的理由最多 200 个字，当前 %(show_value)d 个"
        )
        if not may_unmask:
            del self.fields["masked"]
            del self.fields["reason"]

    @property
    def unmasked(self) -> bool:
        return bool(getattr(self, "cleaned_data", {}).get("masked") == CLEAR)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="审批结果",
        choices=[("approve", "批准"), ("reject", "驳回")],
        widget=forms.RadioSelect,
        error_messages={"required": "请选择“审批结果”", "invalid_choice": "请选择“审批结果”"},
    )
    reason = forms.CharField(
        label="审批意见",
        max_length=200,
        required=False,
        help_text="驳回时必填。",
        error_messages={"max_length": "审批意见最多 200 个字，当前 %(show_value)d 个"},
    )
