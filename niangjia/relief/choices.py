"""Choices of hardship relief: the national file form's fixed lists, the workflow's states and
the kinds of assistance, funds and ledger entries."""

from __future__ import annotations

from django.db import models

# --- The household file (困难职工档案)


class FileState(models.TextChoices):
    """Where a household file stands. The workflow::

        draft ─▶ applied ─▶ first_checked ─▶ surveyed ─▶ reviewed ─▶ publicity ─▶ filed
                    │              │              │            │            │          │
                    └──────────────┴──── rejected ┴────────────┴────────────┘          ▼
                                                                         exited ─▶ closed

    ``draft``: a cadre started entering it; ``applied``: the worker (phone page) or a cadre
    submitted it; ``first_checked``: the grassroots union checked it; ``surveyed``: the household
    was visited and the worker's consent to check the household's finances recorded;
    ``reviewed``: the county worker service centre approved it; ``publicity``: names published
    for objections; ``filed``: on file at its archive level, assistance may be paid;
    ``exited``: out of hardship (脱困 or 解困), watched for relapse; ``closed``: closed within 30
    working days of the exit, kept 10 years. A relapse opens a new file linked to the old one.
    """

    DRAFT = "draft", "草稿"
    APPLIED = "applied", "已申请"
    FIRST_CHECKED = "first_checked", "基层已初审"
    SURVEYED = "surveyed", "已入户调查"
    REVIEWED = "reviewed", "县级已审核"
    PUBLICITY = "publicity", "公示中"
    FILED = "filed", "在档"
    EXITED = "exited", "已解困脱困"
    CLOSED = "closed", "已销档"
    REJECTED = "rejected", "未通过"


# A person may be in one open file only (FilePerson.is_open follows these states).
OPEN_STATES = frozenset(
    {
        FileState.DRAFT,
        FileState.APPLIED,
        FileState.FIRST_CHECKED,
        FileState.SURVEYED,
        FileState.REVIEWED,
        FileState.PUBLICITY,
        FileState.FILED,
    }
)
# States in which the household's data may still be edited.
EDITABLE_STATES = frozenset(
    {
        FileState.DRAFT,
        FileState.APPLIED,
        FileState.FIRST_CHECKED,
        FileState.SURVEYED,
        FileState.REVIEWED,
        FileState.FILED,
    }
)


class FileChannel(models.TextChoices):
    WORKER = "worker", "职工申请"
    CADRE = "cadre", "工会代录"
    RELAPSE = "relapse", "返困重新建档"


class Category(models.TextChoices):
    DEEP = "deep", "深度困难"
    RELATIVE = "relative", "相对困难"
    ACCIDENT = "accident", "意外致困"


class ArchiveLevel(models.TextChoices):
    """Which federation keeps and funds the file."""

    NATIONAL = "national", "全国级"
    PROVINCE = "province", "省级"
    CITY = "city", "市级"
    COUNTY = "county", "县级"


class HardshipCause(models.TextChoices):
    """The ten national codes of the hardship cause (致困原因)."""

    ILLNESS = "01", "因病"
    DISABILITY = "02", "因残"
    EDUCATION = "03", "因子女教育"
    DISASTER = "04", "因灾"
    ACCIDENT = "05", "因意外事故"
    UNEMPLOYMENT = "06", "因下岗失业"
    LOW_INCOME = "07", "因收入低"
    SINGLE_PARENT = "08", "因单亲"
    ELDERLY_CARE = "09", "因赡养老人"
    OTHER = "10", "其他"


class ExitKind(models.TextChoices):
    # Income per head above the threshold for 6 consecutive months.
    OUT = "out", "脱困"
    # Public support plus regular union aid lift the household to the threshold.
    RELIEVED = "relieved", "解困"


class PoliticalStatus(models.TextChoices):
    """GB/T 4762, the codes a trade-union form uses."""

    CPC_MEMBER = "01", "中共党员"
    CPC_PROBATIONARY = "02", "中共预备党员"
    LEAGUE_MEMBER = "03", "共青团员"
    DEMOCRATIC_PARTY = "04", "民主党派成员"
    NON_PARTISAN = "12", "无党派人士"
    MASSES = "13", "群众"


class Health(models.TextChoices):
    HEALTHY = "healthy", "健康"
    CHRONIC = "chronic", "患慢性病"
    SERIOUS = "serious", "患重大疾病"
    DISABLED = "disabled", "残疾"
    INCAPACITATED = "incapacitated", "丧失劳动能力"


class DisabilityCategory(models.TextChoices):
    """GB/T 26341 categories of disability."""

    VISUAL = "visual", "视力残疾"
    HEARING = "hearing", "听力残疾"
    SPEECH = "speech", "言语残疾"
    PHYSICAL = "physical", "肢体残疾"
    INTELLECTUAL = "intellectual", "智力残疾"
    MENTAL = "mental", "精神残疾"
    MULTIPLE = "multiple", "多重残疾"


class DisabilityGrade(models.TextChoices):
    GRADE_1 = "1", "一级"
    GRADE_2 = "2", "二级"
    GRADE_3 = "3", "三级"
    GRADE_4 = "4", "四级"


class WorkStatus(models.TextChoices):
    ON_POST = "on_post", "在岗"
    LAID_OFF = "laid_off", "下岗"
    UNEMPLOYED = "unemployed", "失业"
    RETIRED = "retired", "退休"
    SICK_LEAVE = "sick_leave", "病休"
    EARLY_RETIRED = "early_retired", "内退"
    MIGRANT = "migrant", "农民工"


class HousingType(models.TextChoices):
    OWNED = "owned", "自有住房"
    PUBLIC_RENTAL = "public_rental", "公租房（廉租房）"
    PRIVATE_RENTAL = "private_rental", "租住私房"
    BORROWED = "borrowed", "借住亲友住房"
    DORMITORY = "dormitory", "单位宿舍"
    NONE = "none", "无固定住所"


class FloorAreaBand(models.TextChoices):
    """Living floor area per head."""

    UNDER_15 = "lt15", "人均 15 平方米以下"
    FROM_15 = "15_25", "人均 15–25 平方米"
    FROM_25 = "25_35", "人均 25–35 平方米"
    OVER_35 = "ge35", "人均 35 平方米以上"


class EmployerState(models.TextChoices):
    NORMAL = "normal", "正常经营"
    DIFFICULT = "difficult", "生产经营困难"
    SUSPENDED = "suspended", "停产半停产"
    RESTRUCTURING = "restructuring", "破产改制"
    CLOSED = "closed", "关闭注销"


class MaritalStatus(models.TextChoices):
    UNMARRIED = "unmarried", "未婚"
    MARRIED = "married", "已婚"
    DIVORCED = "divorced", "离异"
    WIDOWED = "widowed", "丧偶"


class MedicalInsurance(models.TextChoices):
    EMPLOYEE = "employee", "职工基本医疗保险"
    RESIDENT = "resident", "城乡居民基本医疗保险"
    OTHER = "other", "其他医疗保险"
    NONE = "none", "未参保"


class ModelWorkerType(models.TextChoices):
    NONE = "none", "否"
    NATIONAL = "national", "全国劳动模范"
    PROVINCIAL = "provincial", "省部级劳动模范"
    CITY = "city", "地市级劳动模范"
    MAY_DAY = "may_day", "五一劳动奖章获得者"


class Relation(models.TextChoices):
    SPOUSE = "spouse", "配偶"
    CHILD = "child", "子女"
    PARENT = "parent", "父母"
    PARENT_IN_LAW = "parent_in_law", "配偶父母"
    GRANDCHILD = "grandchild", "孙子女"
    SIBLING = "sibling", "兄弟姐妹"
    OTHER = "other", "其他"


class AttachmentKind(models.TextChoices):
    SURVEY_SHEET = "survey_sheet", "入户调查表"
    CONSENT = "consent", "家庭经济状况核对授权书"
    PROOF = "proof", "证明材料"
    PHOTO = "photo", "照片"
    OTHER = "other", "其他"


class ObjectionState(models.TextChoices):
    OPEN = "open", "待处理"
    UPHELD = "upheld", "异议成立"
    DISMISSED = "dismissed", "异议不成立"


class EventKind(models.TextChoices):
    """The lines of a file's timeline."""

    CREATED = "created", "建立档案"
    APPLIED = "applied", "提交申请"
    FIRST_CHECKED = "first_checked", "基层初审"
    SURVEYED = "surveyed", "入户调查"
    CONSENT = "consent", "签署核对授权"
    REVIEWED = "reviewed", "县级审核"
    PUBLICITY = "publicity", "开始公示"
    OBJECTION = "objection", "收到异议"
    OBJECTION_RESOLVED = "objection_resolved", "异议处理"
    FILED = "filed", "建档立卡"
    REJECTED = "rejected", "审核未通过"
    CHANGED = "changed", "信息变更"
    CATEGORY = "category", "困难类别认定"
    ATTACHMENT = "attachment", "上传材料"
    PLAN = "plan", "帮扶计划"
    MEASURE = "measure", "帮扶措施进展"
    ASSISTANCE = "assistance", "帮扶救助"
    PAYMENT = "payment", "资金发放"
    PAYMENT_FAILED = "payment_failed", "发放失败"
    INCOME = "income", "收入核查"
    REVIEW = "review", "年度复核"
    EXIT_PROPOSED = "exit_proposed", "系统提示可解困脱困"
    EXITED = "exited", "解困脱困"
    RELAPSE_CHECK = "relapse_check", "返困监测回访"
    RELAPSED = "relapsed", "返困"
    CLOSED = "closed", "销档"
    NOTE = "note", "备注"


# --- Assistance


class AssistanceType(models.TextChoices):
    LIVING = "living", "生活救助"
    MEDICAL = "medical", "医疗救助"
    EDUCATION = "education", "金秋助学"
    EMPLOYMENT = "employment", "就业帮扶"
    TRAINING = "training", "技能培训"
    LOAN = "loan", "创业小额借款"
    WARMTH = "warmth", "送温暖"


class AssistanceState(models.TextChoices):
    """``pending`` ─▶ (``second_pending`` when above the rule's threshold) ─▶ ``approved`` ─▶
    ``paid``; or ``rejected``; a paid record whose payment came back is ``failed``."""

    PENDING = "pending", "待审批"
    SECOND_PENDING = "second_pending", "待财务复核"
    APPROVED = "approved", "已审批"
    PAID = "paid", "已发放"
    FAILED = "failed", "发放失败"
    REJECTED = "rejected", "未批准"


# Records that count against caps and cycles (a rejected or failed one does not).
COUNTING_ASSISTANCE_STATES = frozenset(
    {
        AssistanceState.PENDING,
        AssistanceState.SECOND_PENDING,
        AssistanceState.APPROVED,
        AssistanceState.PAID,
    }
)


class Cycle(models.TextChoices):
    """How often one household may receive one type of assistance."""

    YEAR = "year", "每年一次"
    HALF_YEAR = "half_year", "每半年一次"
    QUARTER = "quarter", "每季度一次"
    MONTH = "month", "每月一次"
    ONCE = "once", "在档期间一次"


class MeasureState(models.TextChoices):
    PLANNED = "planned", "未开始"
    IN_PROGRESS = "in_progress", "进行中"
    DONE = "done", "已完成"
    CANCELLED = "cancelled", "已取消"


# --- Funds


class FundSource(models.TextChoices):
    CENTRAL = "central", "中央财政专项资金"
    UNION = "union", "工会经费"
    DONATION = "donation", "社会捐赠"
    CAMPAIGN = "campaign", "送温暖活动资金"


class LedgerKind(models.TextChoices):
    INCOME = "income", "资金到账"
    ALLOCATION_IN = "allocation_in", "上级下拨"
    ALLOCATION_OUT = "allocation_out", "下拨下级"
    PAYMENT = "payment", "帮扶支出"
    REVERSAL = "reversal", "冲回"


class BatchState(models.TextChoices):
    DRAFT = "draft", "草稿"
    APPROVED = "approved", "已审批"
    PAID = "paid", "已发放"
    RECONCILED = "reconciled", "已对账"
    CANCELLED = "cancelled", "已作废"


class PaymentState(models.TextChoices):
    PENDING = "pending", "待发放"
    PAID = "paid", "已发放"
    FAILED = "failed", "发放失败"


# --- Exit and relapse


class WatchState(models.TextChoices):
    WATCHING = "watching", "监测中"
    RELAPSED = "relapsed", "已返困"
    ENDED = "ended", "监测期满"
