"""Writes of hardship relief, one function per use case, by subdomain:

- ``files``: application, first check, survey, review, publicity and objections, filing,
  edits, attachments, reveals, annual review, closing;
- ``plans``: the household plan and its measures;
- ``assistance``: record, approve, second approval, pay;
- ``funds``: funds, money received, allocations down the tree, the ledger;
- ``batches``: disbursement batches;
- ``exits``: income checks, exit proposal and confirmation, relapse re-checks;
- ``rules``: thresholds, category and assistance rules, the eligibility self-check;
- ``purge``: closed files past their ten years.

Every name is importable from here: ``from niangjia.relief import services``;
``services.file_apply(...)``.
"""

from niangjia.relief.services.assistance import (
    assistance_approve,
    assistance_create,
    assistance_pay,
    assistance_payment_fail,
    assistance_reject,
    assistance_second_approve,
)
from niangjia.relief.services.batches import (
    BatchCriteria,
    PostResult,
    batch_approve,
    batch_cancel,
    batch_create,
    batch_payment_fail,
    batch_payment_retry,
    batch_post,
    batch_reconcile,
)
from niangjia.relief.services.common import Conflict
from niangjia.relief.services.exits import (
    exit_confirm,
    exit_proposal,
    income_check_record,
    relapse_check,
)
from niangjia.relief.services.files import (
    AlreadyOnFile,
    FileData,
    PersonData,
    attachment_add,
    attachment_open,
    file_annual_review,
    file_apply,
    file_close,
    file_file,
    file_first_check,
    file_note,
    file_reject,
    file_reveal,
    file_review,
    file_submit,
    file_survey,
    file_update,
    objection_add,
    objection_resolve,
    publicity_start,
)
from niangjia.relief.services.funds import (
    InsufficientFunds,
    fund_allocate,
    fund_create,
    fund_receive,
)
from niangjia.relief.services.plans import measure_add, measure_update, plan_save
from niangjia.relief.services.purge import files_purge
from niangjia.relief.services.rules import (
    SelfCheck,
    assistance_rule_set,
    category_rule_add,
    eligibility_check,
    threshold_set,
)

__all__ = [
    "AlreadyOnFile",
    "BatchCriteria",
    "Conflict",
    "FileData",
    "InsufficientFunds",
    "PersonData",
    "PostResult",
    "SelfCheck",
    "assistance_approve",
    "assistance_create",
    "assistance_pay",
    "assistance_payment_fail",
    "assistance_reject",
    "assistance_rule_set",
    "assistance_second_approve",
    "attachment_add",
    "attachment_open",
    "batch_approve",
    "batch_cancel",
    "batch_create",
    "batch_payment_fail",
    "batch_payment_retry",
    "batch_post",
    "batch_reconcile",
    "category_rule_add",
    "eligibility_check",
    "exit_confirm",
    "exit_proposal",
    "file_annual_review",
    "file_apply",
    "file_close",
    "file_file",
    "file_first_check",
    "file_note",
    "file_reject",
    "file_reveal",
    "file_review",
    "file_submit",
    "file_survey",
    "file_update",
    "files_purge",
    "fund_allocate",
    "fund_create",
    "fund_receive",
    "income_check_record",
    "measure_add",
    "measure_update",
    "objection_add",
    "objection_resolve",
    "plan_save",
    "publicity_start",
    "relapse_check",
    "threshold_set",
]
