from __future__ import annotations

from typing import Any

from django import forms

from niangjia.accounts.choices import Action
from niangjia.imports.choices import ImportKind
from niangjia.orgs.choices import UnionStatus
from niangjia.orgs.forms import RegistryForm, UnionPickerField
from niangjia.orgs.models import Union
from niangjia.orgs.queries import Purpose


class UploadForm(RegistryForm):
    kind = forms.ChoiceField(label="名册类型", choices=ImportKind.choices)
    union = UnionPickerField(
        purpose=Purpose.WITHIN,
        label="导入到工会",
        help_text="会员名册中未写“所在工会”的行、单位名册中未写“管理工会”的行归入此工会；写了的必须是它或它的下级工会",
    )
    file = forms.FileField(
        label="名册文件", help_text="Excel（.xlsx）或 CSV（UTF-8 或 GB18030 编码）"
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["file"].error_messages["required"] = "请选择要上传的名册文件"
        self.fields["file"].error_messages["empty"] = "上传的文件是空的"
        self.setup_picker(
            "union",
            Union.objects.restrict(user, Action.ADD).filter(status=UnionStatus.ACTIVE),
            purpose=Purpose.WITHIN,
        )


class MappingForm(forms.Form):
    """One drop-down per column of the file: which field it holds, or 不导入."""

    def __init__(
        self, *args: Any, headers: list[str], columns: Any, mapping: dict[str, str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "（不导入）")] + [
            (c.key, f"{c.label}{'（必填）' if c.required else ''}") for c in columns
        ]
        self.column_fields: list[tuple[int, str, str]] = []
        for index, header in enumerate(headers):
            name = f"col_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header or f"第 {index + 1} 列",
                choices=choices,
                required=False,
                initial=mapping.get(str(index), ""),
            )
            self.fields[name].error_messages["invalid_choice"] = (
                f"第 {index + 1} 列：请从列表中选择"
            )
            self.column_fields.append((index, header, name))

    def mapping(self) -> dict[int, str]:
        return {
            index: self.cleaned_data[name]
            for index, _header, name in self.column_fields
            if self.cleaned_data.get(name)
        }
