"""The join form and submit of a mass ceremony, made cheap per request: what must not change
while doing so (forms keep their own fields; the ID number is read once and means the same)."""

from __future__ import annotations

import copy

from niangjia.members.forms import JoinForm, PhoneCodeForm


def test_each_join_form_has_its_own_fields_widgets_messages_and_validators():
    first, second = JoinForm(need_code=False), JoinForm(need_code=False)
    assert list(first.fields) == JoinForm.field_order
    for name, field in first.fields.items():
        other, declared = second.fields[name], JoinForm.base_fields[name]
        assert type(field) is type(declared) and field is not other and field is not declared
        assert type(field.widget) is type(declared.widget)
        assert field.widget is not other.widget and field.widget is not declared.widget
        assert field.widget.attrs == declared.widget.attrs
        assert field.widget.attrs is not other.widget.attrs
        assert field.error_messages == declared.error_messages
        assert field.error_messages is not other.error_messages
        assert field.validators == declared.validators
        assert field.validators is not other.validators
        assert field.label == declared.label and field.required == declared.required
    first.fields["name"].widget.attrs["placeholder"] = "改过"
    first.fields["name"].validators.clear()
    assert second.fields["name"].widget.attrs["placeholder"] == "与证件一致"
    assert JoinForm.base_fields["name"].widget.attrs["placeholder"] == "与证件一致"
    assert second.fields["name"].validators and JoinForm.base_fields["name"].validators


def test_a_field_deep_copied_on_its_own_is_a_light_copy_too():
    # Forms extending PhoneCodeForm in other modules copy its fields one by one.
    declared = PhoneCodeForm.base_fields["phone"]
    field = copy.deepcopy(declared)
    assert field is not declared and field.widget is not declared.widget
    assert field.widget.attrs == declared.widget.attrs
    assert field.widget.attrs is not declared.widget.attrs
