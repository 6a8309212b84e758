"""The indicator registry: every figure niangjia publishes, with its meaning.

Each ``Indicator`` has a code, a Chinese name and unit, a definition in words, how it is
computed, and the dimensions it can be cut by (besides the union subtree and the period, which
every indicator has). The pages, the API and the annual return read figures only through
these codes; the "指标说明" page lists this registry as it stands, so every number on a page
can be traced to its meaning.

How an indicator is evaluated from the stored measures (``niangjia.stats.sources``):

- ``STORED``: one stored measure (optionally one of its cuts, ``filter``);
- ``SUM``: a signed sum of other indicators for the same period (``terms``);
- ``RATIO``: one indicator divided by another, as a percentage;
- ``OVERDUE``: pending applications whose due date has passed (by the day it is read).

Stocks are figures at a moment (the current value; for a past period the value at its end,
where it can be derived: see ``history``); flows count what happened in a period.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from niangjia.members.choices import EmploymentForm, GigOccupation, Household, MemberStatus
from niangjia.orgs.choices import IndustrySection, UnionKind, UnionLevel
from niangjia.relief.choices import (
    ArchiveLevel,
    AssistanceType,
    Category,
    ExitKind,
    FileState,
    FundSource,
    HardshipCause,
)

STOCK = "stock"
FLOW = "flow"
RATIO = "ratio"
KIND_LABELS = {STOCK: "时点数", FLOW: "时期数", RATIO: "比率"}

STORED = "stored"
SUM = "sum"
DIVIDE = "divide"
OVERDUE = "overdue"

GROUP_ORGS = "组织建设"
GROUP_MEMBERS = "会员发展"
GROUP_JOINING = "入会办理"
GROUP_RELIEF = "困难职工帮扶"


@dataclass(frozen=True)
class Dimension:
    code: str
    name: str
    choices: Mapping[str, str]


def _choices(text_choices: type) -> dict[str, str]:
    return {str(value): str(label) for value, label in text_choices.choices}  # type: ignore[attr-defined]


DIMENSIONS: dict[str, Dimension] = {
    d.code: d
    for d in (
        Dimension("level", "工会层级", _choices(UnionLevel)),
        Dimension("kind", "工会类型", _choices(UnionKind)),
        Dimension(
            "section",
            "行业门类",
            {str(value): str(label)[2:] for value, label in IndustrySection.choices},
        ),
        Dimension(
            "status",
            "会籍状态",
            {
                MemberStatus.ACTIVE: MemberStatus.ACTIVE.label,
                MemberStatus.TRANSFERRING: MemberStatus.TRANSFERRING.label,
                MemberStatus.RESERVED: MemberStatus.RESERVED.label,
            },
        ),
        Dimension("household", "户籍类型", _choices(Household)),
        Dimension("employment_form", "就业形态", _choices(EmploymentForm)),
        Dimension("gig_occupation", "新就业形态职业", _choices(GigOccupation)),
        Dimension(
            "to_status",
            "退会原因",
            {MemberStatus.LEFT: "退会", MemberStatus.DECEASED: "去世"},
        ),
        Dimension("category", "困难类别", {**_choices(Category), "none": "未定类别"}),
        Dimension("cause", "主要致困原因", _choices(HardshipCause)),
        Dimension("archive_level", "档案级别", _choices(ArchiveLevel)),
        Dimension("file_state", "档案状态", _choices(FileState)),
        Dimension("exit_kind", "解困脱困类型", _choices(ExitKind)),
        Dimension("assistance_type", "帮扶类型", _choices(AssistanceType)),
        Dimension(
            "fund_source", "资金来源", {**_choices(FundSource), "none": "未动用资金（实物）"}
        ),
    )
}

# Dimensions every indicator has; listed on the definitions page.
COMMON_DIMENSIONS = (
    ("工会", "本工会及全部下级工会（产业工会含另属于它的基层工会，同一工会只计一次）"),
    ("地区", "下级地方总工会所在的行政区划（用于地图和逐级下钻）"),
    (
        "期间",
        "月度、季度、年度（1 月 1 日至 12 月 31 日）、统计年度（上年 10 月 1 日至当年 9 月 30 日）",
    ),
)


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    unit: str
    group: str
    kind: str
    definition: str
    computation: str
    dimensions: tuple[str, ...] = ()
    evaluate: str = STORED
    measure: str = ""
    filter: str = ""
    terms: tuple[tuple[str, int], ...] = ()
    numerator: str = ""
    denominator: str = ""
    # A stock whose value at the end of a past period can be derived from its flows:
    # the current value less the net change after the period (``terms`` of that flow).
    history: str = ""
    # Stored in 1/scale of the unit (money in fen, shown in yuan).
    scale: int = 1

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def dimension_list(self) -> list[Dimension]:
        return [DIMENSIONS[code] for code in self.dimensions]


def formation_computation() -> str:
    from niangjia.stats.sources import formation_min_staff

    n = formation_min_staff()
    return (
        f"{n} 人以上已建会单位数 ÷ {n} 人以上单位数 × 100%，保留一位小数。"
        f"N = {n} 由设置 STATS_FORMATION_MIN_STAFF 给出"
    )


INDICATORS: list[Indicator] = [
    # --- 组织建设
    Indicator(
        code="unions",
        name="工会数",
        unit="个",
        group=GROUP_ORGS,
        kind=STOCK,
        definition="本工会及其全部下级工会中存续的工会个数（含本工会；已合并、已撤销的不计）。",
        computation="统计状态为“存续”的工会，每个工会计 1；另属产业工会的基层工会在产业工会及其上级各计一次，在同时包含两条隶属关系的上级只计一次。",
        dimensions=("level", "kind"),
        measure="unions",
    ),
    Indicator(
        code="grassroots_unions",
        name="基层工会数",
        unit="个",
        group=GROUP_ORGS,
        kind=STOCK,
        definition="存续的基层工会个数，含企业、机关事业单位的基层工会和基层层级的联合基层工会。",
        computation="工会数中层级为“基层”的部分。",
        measure="unions",
        filter="level=grassroots",
    ),
    Indicator(
        code="employers",
        name="用人单位数",
        unit="家",
        group=GROUP_ORGS,
        kind=STOCK,
        definition="登记在本工会及下级工会的存续用人单位（迁出、注销的不计）。",
        computation="按单位的管理工会（登记所在工会）归属统计，每家计 1。",
        dimensions=("section",),
        measure="employers",
    ),
    Indicator(
        code="employers_organised",
        name="已建会单位数",
        unit="家",
        group=GROUP_ORGS,
        kind=STOCK,
        definition="已由本工会或下级基层工会（联合基层工会）覆盖的存续用人单位。",
        computation="按覆盖该单位的基层工会归属统计，每家计 1。",
        dimensions=("section",),
        measure="employers_organised",
    ),
    Indicator(
        code="employers_sized",
        name="应建会单位数",
        unit="家",
        group=GROUP_ORGS,
        kind=STOCK,
        definition="职工人数达到建会规模（N 人及以上，N 见建会率）的存续用人单位。",
        computation="用人单位数中职工人数 ≥ N 的部分，按管理工会归属。",
        dimensions=("section",),
        measure="employers_sized",
    ),
    Indicator(
        code="employers_organised_sized",
        name="应建会单位中已建会数",
        unit="家",
        group=GROUP_ORGS,
        kind=STOCK,
        definition="职工人数达到建会规模（N 人及以上）且已建会的存续用人单位。",
        computation="已建会单位数中职工人数 ≥ N 的部分，按覆盖的基层工会归属。",
        dimensions=("section",),
        measure="employers_organised_sized",
    ),
    Indicator(
        code="formation_rate",
        name="建会率",
        unit="%",
        group=GROUP_ORGS,
        kind=RATIO,
        definition="应建会（N 人及以上）的用人单位中已经建立工会的比例。",
        computation="",  # filled in by computation_of(): N comes from the settings
        dimensions=("section",),
        evaluate=DIVIDE,
        numerator="employers_organised_sized",
        denominator="employers_sized",
    ),
    Indicator(
        code="covered_headcount",
        name="已建会单位职工数",
        unit="人",
        group=GROUP_ORGS,
        kind=STOCK,
        definition="已建会的存续用人单位登记的职工人数之和，是入会率的分母。",
        computation="对已建会单位的“职工人数”求和，按覆盖的基层工会归属。",
        dimensions=("section",),
        measure="covered_headcount",
    ),
    # --- 会员发展
    Indicator(
        code="members",
        name="会员数",
        unit="人",
        group=GROUP_MEMBERS,
        kind=STOCK,
        definition="持有会籍的会员：在会、转接中（计在转出工会，直至转入工会接收）和保留会籍的会员；已退会、已故的不计。",
        computation="按会员所在工会统计，每人计 1（实名制，一人一条会员记录）。过去某期的期末数 = 当前数 − 该期之后各月的会员净增。",
        dimensions=("status", "household", "employment_form", "gig_occupation"),
        measure="members",
        history="members_net",
    ),
    Indicator(
        code="migrant_members",
        name="农民工会员数",
        unit="人",
        group=GROUP_MEMBERS,
        kind=STOCK,
        definition="户籍类型为农村户籍的会员。",
        computation="会员数中户籍类型为“农村户籍”的部分。",
        measure="members",
        filter="household=rural",
    ),
    Indicator(
        code="gig_members",
        name="新就业形态会员数",
        unit="人",
        group=GROUP_MEMBERS,
        kind=STOCK,
        definition="就业形态为新就业形态的会员（快递员、外卖配送员、网约车司机、货车司机、家政服务员等）。",
        computation="会员数中就业形态为“新就业形态”的部分，可按职业细分。",
        dimensions=("gig_occupation",),
        measure="members",
        filter="employment_form=gig",
    ),
    Indicator(
        code="members_covered",
        name="已建会单位会员数",
        unit="人",
        group=GROUP_MEMBERS,
        kind=STOCK,
        definition="基层工会和联合基层工会中标准劳动关系的会员，即在已建会单位工作的会员；是入会率的分子。",
        computation="会员数中所在工会为基层工会或联合基层工会、就业形态为“标准劳动关系”的部分。",
        measure="members_covered",
    ),
    Indicator(
        code="membership_rate",
        name="入会率",
        unit="%",
        group=GROUP_MEMBERS,
        kind=RATIO,
        definition="已建会单位的职工中已经入会的比例。",
        computation="已建会单位会员数 ÷ 已建会单位职工数 × 100%，保留一位小数。",
        evaluate=DIVIDE,
        numerator="members_covered",
        denominator="covered_headcount",
    ),
    Indicator(
        code="joins",
        name="入会人数",
        unit="人",
        group=GROUP_MEMBERS,
        kind=FLOW,
        definition="期间内新入会（含曾经退会后重新入会）的人数，按入会日期计入期间。",
        computation="统计会籍记录中的“入会”记录，计在入会的工会。",
        measure="joins",
    ),
    Indicator(
        code="transfers_in",
        name="转入人数",
        unit="人",
        group=GROUP_MEMBERS,
        kind=FLOW,
        definition="期间内经会籍转接转入的会员人数，按转入工会接收的日期计入期间。",
        computation="统计会籍记录中的“转入”记录，计在转入工会；下级工会之间的转接在共同的上级同时计入转入和转出。",
        measure="transfers_in",
    ),
    Indicator(
        code="transfers_out",
        name="转出人数",
        unit="人",
        group=GROUP_MEMBERS,
        kind=FLOW,
        definition="期间内经会籍转接转出并已被转入工会接收的会员人数，按接收日期计入期间（待接收的仍计为转出工会的会员）。",
        computation="统计会籍记录中的“转入”记录，计在该会员此前转出的工会。",
        measure="transfers_out",
    ),
    Indicator(
        code="leavings",
        name="退会人数",
        unit="人",
        group=GROUP_MEMBERS,
        kind=FLOW,
        definition="期间内会籍终止（退会、去世）的人数，按会籍状态变更日期计入期间。",
        computation="统计会籍记录中由在会、转接中或保留会籍变为已退会、已故的记录，计在会员所在工会。",
        dimensions=("to_status",),
        measure="leavings",
    ),
    Indicator(
        code="members_net",
        name="会员净增",
        unit="人",
        group=GROUP_MEMBERS,
        kind=FLOW,
        definition="期间内会员数的增减。",
        computation="入会人数 + 转入人数 − 转出人数 − 退会人数。",
        evaluate=SUM,
        terms=(("joins", 1), ("transfers_in", 1), ("transfers_out", -1), ("leavings", -1)),
    ),
    # --- 入会办理
    Indicator(
        code="applications_pending",
        name="待审批入会申请",
        unit="份",
        group=GROUP_JOINING,
        kind=STOCK,
        definition="已提交、尚未批准或驳回的入会申请。",
        computation="统计状态为“待审批”的入会申请，计在申请加入的工会。",
        measure="applications_pending",
    ),
    Indicator(
        code="applications_overdue",
        name="超期未审批入会申请",
        unit="份",
        group=GROUP_JOINING,
        kind=STOCK,
        definition="超过审批时限（提交后 JOIN_APPROVAL_WORKDAYS 个工作日）仍待审批的入会申请。",
        computation="待审批入会申请中办理期限早于当天的部分，按查看当天计算。",
        evaluate=OVERDUE,
        measure="applications_pending",
    ),
    # --- 困难职工帮扶
    Indicator(
        code="hardship_files",
        name="在档困难职工",
        unit="户",
        group=GROUP_RELIEF,
        kind=STOCK,
        definition="已建档立卡、在档的困难职工家庭（公示期满建档后，至解困脱困前）。",
        computation="统计状态为“在档”的困难职工档案，计在办理初审的工会。过去某期的期末数 = 当前数 − 该期之后各月的在档净增。",
        dimensions=("category", "cause", "archive_level"),
        measure="hardship_files",
        history="hardship_net",
    ),
    Indicator(
        code="hardship_files_state",
        name="困难职工档案（按状态）",
        unit="户",
        group=GROUP_RELIEF,
        kind=STOCK,
        definition="各状态的困难职工档案：办理中（草稿、已申请、初审、入户调查、审核、公示）、在档、已解困脱困、已销档、未通过。",
        computation="按档案当前状态统计，计在办理初审的工会。",
        dimensions=("file_state",),
        measure="hardship_files_state",
    ),
    Indicator(
        code="hardship_filed",
        name="新建档户数",
        unit="户",
        group=GROUP_RELIEF,
        kind=FLOW,
        definition="期间内建档立卡（公示期满进入在档）的困难职工家庭，按建档日期计入期间。",
        computation="统计建档日期在期间内的档案（含此后已解困脱困、销档的）。",
        measure="hardship_filed",
    ),
    Indicator(
        code="hardship_exits",
        name="解困脱困户数",
        unit="户",
        group=GROUP_RELIEF,
        kind=FLOW,
        definition="期间内确认解困或脱困的困难职工家庭，按解困脱困日期计入期间。",
        computation="统计解困脱困日期在期间内的档案，可按脱困、解困细分。",
        dimensions=("exit_kind",),
        measure="hardship_exits",
    ),
    Indicator(
        code="hardship_relapses",
        name="返困户数",
        unit="户",
        group=GROUP_RELIEF,
        kind=FLOW,
        definition="期间内发现返困、重新建档申请的已解困脱困家庭，按发现返困的日期计入期间。",
        computation="统计关联了原档案的返困重新建档申请，按其申请日期。",
        measure="hardship_relapses",
    ),
    Indicator(
        code="hardship_net",
        name="在档净增",
        unit="户",
        group=GROUP_RELIEF,
        kind=FLOW,
        definition="期间内在档困难职工户数的增减。",
        computation="新建档户数 − 解困脱困户数。",
        evaluate=SUM,
        terms=(("hardship_filed", 1), ("hardship_exits", -1)),
    ),
    Indicator(
        code="hardship_files_during",
        name="期内在档户数",
        unit="户",
        group=GROUP_RELIEF,
        kind=FLOW,
        definition="期间内任何时候在档的困难职工家庭：期间内解困脱困的，加上期末仍在档的。",
        computation="解困脱困户数 + 期末在档困难职工户数。",
        evaluate=SUM,
        terms=(("hardship_exits", 1), ("hardship_files", 1)),
    ),
    Indicator(
        code="exit_rate",
        name="解困脱困率",
        unit="%",
        group=GROUP_RELIEF,
        kind=RATIO,
        definition="期间内在档的困难职工家庭中已经解困脱困的比例。",
        computation="解困脱困户数 ÷ 期内在档户数 × 100%，保留一位小数。",
        evaluate=DIVIDE,
        numerator="hardship_exits",
        denominator="hardship_files_during",
    ),
    Indicator(
        code="assistance_amount",
        name="帮扶金额",
        unit="元",
        group=GROUP_RELIEF,
        kind=FLOW,
        definition="期间内已发放的帮扶救助金额，含实物折价（送温暖、金秋助学、生活救助等）。",
        computation="对状态为“已发放”的帮扶记录的金额与实物折价求和，按帮扶日期计入期间，计在困难职工档案所在的工会；可按帮扶类型、资金来源细分。",
        dimensions=("assistance_type", "fund_source"),
        measure="assistance_amount",
        scale=100,
    ),
    Indicator(
        code="assistance_times",
        name="帮扶人次",
        unit="人次",
        group=GROUP_RELIEF,
        kind=FLOW,
        definition="期间内已发放的帮扶救助次数，一户每得到一次帮扶计一人次（走访慰问按次计，不按人计）。",
        computation="统计状态为“已发放”的帮扶记录条数，按帮扶日期计入期间；可按帮扶类型、资金来源细分。",
        dimensions=("assistance_type", "fund_source"),
        measure="assistance_times",
    ),
    Indicator(
        code="fund_balance",
        name="帮扶资金余额",
        unit="元",
        group=GROUP_RELIEF,
        kind=STOCK,
        definition="本工会及下级工会管理的帮扶资金的当前余额。",
        computation="对各项帮扶资金的余额求和（资金台账每笔收支后的余额），计在管理资金的工会；可按资金来源细分。",
        dimensions=("fund_source",),
        measure="fund_balance",
        scale=100,
    ),
]

BY_CODE: dict[str, Indicator] = {i.code: i for i in INDICATORS}


def register(indicator: Indicator, *, dimensions: tuple[Dimension, ...] = ()) -> None:
    """Later modules (relief …) add their indicators and dimensions through here."""
    for dimension in dimensions:
        DIMENSIONS.setdefault(dimension.code, dimension)
    if indicator.code not in BY_CODE:
        INDICATORS.append(indicator)
        BY_CODE[indicator.code] = indicator


def get(code: str) -> Indicator:
    return BY_CODE[code]


def computation_of(indicator: Indicator) -> str:
    if indicator.code == "formation_rate":
        return formation_computation()
    return indicator.computation


def measures_of(indicator: Indicator) -> set[str]:
    """The stored measures an indicator is computed from."""
    if indicator.evaluate == DIVIDE:
        return measures_of(get(indicator.numerator)) | measures_of(get(indicator.denominator))
    if indicator.evaluate == SUM:
        return {m for code, _sign in indicator.terms for m in measures_of(get(code))}
    measures = {indicator.measure}
    if indicator.history:
        measures |= measures_of(get(indicator.history))
    return measures


def groups() -> list[tuple[str, list[Indicator]]]:
    ordered: dict[str, list[Indicator]] = {}
    for indicator in INDICATORS:
        ordered.setdefault(indicator.group, []).append(indicator)
    return list(ordered.items())
