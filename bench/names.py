"""Plausible Chinese names, industries, ownership types and headcounts for synthetic employers
and grassroots unions. Every choice is drawn from the caller's ``random.Random``."""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from itertools import accumulate

# Characters that make up trade names (字号) such as 恒达, 鑫盛, 博远.
TRADE_CHARS = (
    "恒达华鑫盛泰瑞丰宏远新源兴隆嘉誉博创宇通顺安康荣汇德正天海金星光明阳升辉腾飞龙凤祥和"
    "美佳优信诚合力联众益志鸿富强锦程启航中宝利景骏昊晟铭睿卓越润泽永发振邦旭东方圆"
)


def words(text: str) -> tuple[str, ...]:
    """Space-separated words as a tuple (long vocabularies stay readable)."""
    return tuple(text.split())


ROADS = words(
    "人民路 解放路 建设路 中山路 和平路 新华路 胜利路 工业大道 科技路 创业路 文化路 "
    "长江路 黄河路 朝阳路 东风路 青年路 光明路 滨河路 学府路 迎宾大道 发展大道 振兴路 "
    "育才路 府前街 北京路 幸福路"
)

# Industry words of enterprise names by GB/T 4754 section.
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "A": words("农业科技 生态农业 畜牧养殖 林业发展 水产养殖 农业开发"),
    "B": words("矿业 煤业 石材开采 砂石"),
    "C": words(
        "机械制造 电子科技 精密机械 纺织 服饰 食品 塑料制品 化工 新材料 汽车零部件 "
        "家具 五金制品 印刷包装 医疗器械 电气设备 光电科技 制药"
    ),
    "D": words("电力 燃气 供水 新能源 热力"),
    "E": words("建筑工程 建设工程 装饰工程 市政工程 路桥工程 安装工程"),
    "F": words("商贸 贸易 百货 超市 医药连锁 汽车销售 农资 电子商务"),
    "G": words("物流 运输 快递服务 货运 客运 供应链管理"),
    "H": words("餐饮管理 酒店管理 食府 宾馆 餐饮服务"),
    "I": words("信息技术 网络科技 软件 数据科技 通信技术 智能科技"),
    "J": words("小额贷款 融资担保 投资管理 保险代理"),
    "K": words("房地产开发 物业服务 置业 物业管理"),
    "L": words("商务咨询 人力资源 广告传媒 企业管理 劳务服务 会展服务"),
    "M": words("检测技术 工程设计 生物科技 环境科技 勘察设计"),
    "N": words("环境卫生 园林绿化 水务 环保工程"),
    "O": words("家政服务 汽车维修 保洁服务 洗涤服务"),
    "P": words("教育咨询 职业技能培训"),
    "Q": words("健康管理 养老服务 康复医疗"),
    "R": words("文化传媒 体育发展 影视 旅游开发"),
}

# Share of each section among enterprises (roughly as in the national economic census).
ENTERPRISE_SECTIONS = {
    "F": 25,
    "C": 16,
    "L": 12,
    "M": 7,
    "E": 7,
    "I": 6,
    "A": 4,
    "G": 4,
    "H": 4,
    "K": 4,
    "O": 3,
    "R": 2,
    "J": 1.5,
    "N": 1,
    "D": 1,
    "P": 1,
    "Q": 1,
    "B": 0.5,
}

# (ownership, share, USCC authority + category, median headcount, spread of log headcount)
OWNERSHIPS: tuple[tuple[str, float, str, float, float], ...] = (
    ("private", 62.0, "91", 15, 1.1),
    ("individual", 12.0, "92", 3, 0.6),
    ("joint_stock", 6.0, "91", 120, 1.2),
    ("state", 4.0, "91", 300, 1.2),
    ("collective", 2.0, "91", 30, 1.0),
    ("hmt", 1.5, "91", 200, 1.1),
    ("foreign", 1.5, "91", 200, 1.1),
    ("institution", 5.0, "12", 80, 0.9),
    ("government", 3.0, "11", 60, 0.6),
    ("social_org", 2.5, "51", 8, 0.8),
    ("other", 0.5, "91", 10, 1.0),
)
MAX_HEADCOUNT = 60_000

ENTERPRISE_FORMS = {
    "private": ("有限公司", "有限公司", "有限公司", "有限责任公司"),
    "joint_stock": ("股份有限公司",),
    "state": ("有限责任公司", "集团有限公司"),
    "collective": ("厂", "合作社", "有限公司"),
    "hmt": ("有限公司",),
    "foreign": ("有限公司",),
    "other": ("有限公司", "合伙企业（有限合伙）"),
}

# Individual businesses: (shop word, section).
SHOPS = (
    ("便利店", "F"),
    ("小吃店", "H"),
    ("面馆", "H"),
    ("理发店", "O"),
    ("汽车修理部", "O"),
    ("五金店", "F"),
    ("服装店", "F"),
    ("快餐店", "H"),
    ("水果店", "F"),
    ("家电维修部", "O"),
)
# Public institutions: (name pattern on the county name, section).
INSTITUTIONS = (
    ("人民医院", "Q"),
    ("中医院", "Q"),
    ("妇幼保健院", "Q"),
    ("疾病预防控制中心", "Q"),
    ("第{n}中学", "P"),
    ("实验小学", "P"),
    ("第{n}小学", "P"),
    ("职业技术学校", "P"),
    ("农业技术推广中心", "M"),
    ("图书馆", "R"),
    ("水利工作站", "N"),
    ("融媒体中心", "R"),
)
GOVERNMENT_BODIES = words(
    "人力资源和社会保障局 市场监督管理局 教育局 财政局 住房和城乡建设局 "
    "交通运输局 卫生健康委员会 农业农村局 民政局 应急管理局 自然资源局"
)
NUMERALS = "一二三四五六七八九"

JOINT_THEMES = words(
    "小微企业 快递行业 外卖配送行业 商贸城 工业园区 物流园 商务楼宇 "
    "餐饮行业 家政服务业 网约车行业 货车司机 建筑行业"
)
JOINT_SECTIONS = ("F", "G", "G", "F", "C", "G", "L", "H", "O", "G", "G", "E")

_SECTION_KEYS = tuple(ENTERPRISE_SECTIONS)
_SECTION_CUM = tuple(accumulate(ENTERPRISE_SECTIONS.values()))
_OWNERSHIP_CUM = tuple(accumulate(o[1] for o in OWNERSHIPS))
_NAME_SUFFIXES = (
    "特别行政区",
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "自治州",
    "自治县",
    "地区",
    "林区",
    "特区",
    "省",
    "市",
    "县",
    "区",
    "盟",
    "旗",
)


def short_place(name: str) -> str:
    """ "深圳市" -> "深圳", "浦东新区" -> "浦东新"; the name itself when too short to cut."""
    for suffix in _NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True)
class Place:
    """Where a host federation sits: names used in employer names and addresses."""

    full: str  # 广东省深圳市南山区 (for addresses)
    city: str  # 深圳市 (or the county or municipality name when there is no city union)
    county: str  # 南山区 (or the city name for a city without counties)
    city_short: str = ""  # 深圳
    county_short: str = ""  # 南山

    def __post_init__(self) -> None:
        object.__setattr__(self, "city_short", short_place(self.city))
        object.__setattr__(self, "county_short", short_place(self.county))


@dataclass(frozen=True)
class EmployerDraft:
    name: str
    section: str
    ownership: str
    uscc_head: str  # authority and category characters of the USCC
    headcount: int


TRADE_NAMES = tuple(a + b for a in TRADE_CHARS for b in TRADE_CHARS if a != b)


def trade_name(rng: random.Random) -> str:
    return rng.choice(TRADE_NAMES)


def address(rng: random.Random, place: Place) -> str:
    return f"{place.full}{rng.choice(ROADS)}{rng.randint(1, 999)}号"


def mobile_phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def _headcount(rng: random.Random, median: float, spread: float) -> int:
    value = int(rng.lognormvariate(math.log(median), spread))
    return max(1, min(value, MAX_HEADCOUNT))


def employer(rng: random.Random, place: Place) -> EmployerDraft:
    """One employer: an ownership type, then a name and an industry that fit it."""
    kind, _share, head, median, spread = OWNERSHIPS[
        _bisect(_OWNERSHIP_CUM, rng.random() * _OWNERSHIP_CUM[-1])
    ]
    headcount = _headcount(rng, median, spread)
    if kind == "individual":
        shop, section = rng.choice(SHOPS)
        surname = rng.choice("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐")
        name = f"{place.county_short}{surname}记{shop}"
        return EmployerDraft(name, section, kind, head, headcount)
    if kind == "institution":
        pattern, section = rng.choice(INSTITUTIONS)
        name = place.county + pattern.format(n=rng.choice(NUMERALS))
        return EmployerDraft(name, section, kind, head, headcount)
    if kind == "government":
        return EmployerDraft(
            place.county + rng.choice(GOVERNMENT_BODIES), "S", kind, head, headcount
        )
    if kind == "social_org":
        section = rng.choice(("C", "F", "E", "I", "G"))
        word = rng.choice(INDUSTRY_WORDS[section])
        if rng.random() < 0.5:
            return EmployerDraft(f"{place.city}{word}行业协会", "S", kind, "51", headcount)
        return EmployerDraft(
            f"{place.county}{trade_name(rng)}社会工作服务中心", "O", kind, "52", headcount
        )
    section = _SECTION_KEYS[_bisect(_SECTION_CUM, rng.random() * _SECTION_CUM[-1])]
    word = rng.choice(INDUSTRY_WORDS[section])
    form = rng.choice(ENTERPRISE_FORMS[kind])
    trade = trade_name(rng)
    if kind in ("hmt", "foreign"):
        name = f"{trade}{word}（{place.city_short}）{form}"
    elif rng.random() < 0.5:
        name = f"{place.city}{trade}{word}{form}"
    else:
        name = f"{place.city_short}{trade}{word}{form}"
    return EmployerDraft(name, section, kind, head, headcount)


def joint_union_name(place: Place, index: int) -> tuple[str, str]:
    """Name and main section of the ``index``-th joint union of a county."""
    theme = JOINT_THEMES[index % len(JOINT_THEMES)]
    round_no = index // len(JOINT_THEMES)
    suffix = "" if round_no == 0 else f"第{round_no + 1}"
    section = JOINT_SECTIONS[index % len(JOINT_SECTIONS)]
    return f"{place.county}{theme}{suffix}联合工会委员会", section


def _bisect(cumulative: tuple[float, ...], x: float) -> int:
    return min(bisect.bisect_right(cumulative, x), len(cumulative) - 1)
