from django.db import models


class RegionLevel(models.TextChoices):
    PROVINCE = "province", "省级"
    CITY = "city", "地级"
    COUNTY = "county", "县级"
    TOWNSHIP = "township", "乡级"


class UnionLevel(models.TextChoices):
    NATIONAL = "national", "全国"
    PROVINCE = "province", "省级"
    CITY = "city", "市级"
    COUNTY = "county", "县级"
    TOWNSHIP = "township", "乡镇（街道）"
    GRASSROOTS = "grassroots", "基层"


LEVEL_RANK = {
    UnionLevel.NATIONAL: 0,
    UnionLevel.PROVINCE: 1,
    UnionLevel.CITY: 2,
    UnionLevel.COUNTY: 3,
    UnionLevel.TOWNSHIP: 4,
    UnionLevel.GRASSROOTS: 5,
}

# A regional federation sits on a region of the matching level.
REGION_LEVEL_FOR_UNION = {
    UnionLevel.PROVINCE: RegionLevel.PROVINCE,
    UnionLevel.CITY: RegionLevel.CITY,
    UnionLevel.COUNTY: RegionLevel.COUNTY,
    UnionLevel.TOWNSHIP: RegionLevel.TOWNSHIP,
}


class UnionKind(models.TextChoices):
    FEDERATION = "federation", "地方总工会"
    INDUSTRY = "industry", "产业工会"
    JOINT = "joint", "联合基层工会"
    GRASSROOTS = "grassroots", "基层工会"


# The levels each kind of union may stand at.
KIND_LEVELS = {
    UnionKind.FEDERATION: {
        UnionLevel.NATIONAL,
        UnionLevel.PROVINCE,
        UnionLevel.CITY,
        UnionLevel.COUNTY,
        UnionLevel.TOWNSHIP,
    },
    UnionKind.INDUSTRY: {
        UnionLevel.NATIONAL,
        UnionLevel.PROVINCE,
        UnionLevel.CITY,
        UnionLevel.COUNTY,
    },
    UnionKind.JOINT: {UnionLevel.TOWNSHIP, UnionLevel.GRASSROOTS},
    UnionKind.GRASSROOTS: {UnionLevel.GRASSROOTS},
}


class UnionStatus(models.TextChoices):
    ACTIVE = "active", "存续"
    MERGED = "merged", "已合并"
    DISSOLVED = "dissolved", "已撤销"


class EmployerStatus(models.TextChoices):
    ACTIVE = "active", "存续"
    MOVED_AWAY = "moved_away", "迁出"
    DEREGISTERED = "deregistered", "注销"


class IndustrySection(models.TextChoices):
    """GB/T 4754-2017 门类."""

    A = "A", "A 农、林、牧、渔业"
    B = "B", "B 采矿业"
    C = "C", "C 制造业"
    D = "D", "D 电力、热力、燃气及水生产和供应业"
    E = "E", "E 建筑业"
    F = "F", "F 批发和零售业"
    G = "G", "G 交通运输、仓储和邮政业"
    H = "H", "H 住宿和餐饮业"
    I = "I", "I 信息传输、软件和信息技术服务业"  # noqa: E741
    J = "J", "J 金融业"
    K = "K", "K 房地产业"
    L = "L", "L 租赁和商务服务业"
    M = "M", "M 科学研究和技术服务业"
    N = "N", "N 水利、环境和公共设施管理业"
    O = "O", "O 居民服务、修理和其他服务业"  # noqa: E741
    P = "P", "P 教育"
    Q = "Q", "Q 卫生和社会工作"
    R = "R", "R 文化、体育和娱乐业"
    S = "S", "S 公共管理、社会保障和社会组织"
    T = "T", "T 国际组织"


class OwnershipType(models.TextChoices):
    STATE = "state", "国有企业"
    COLLECTIVE = "collective", "集体企业"
    PRIVATE = "private", "私营企业"
    JOINT_STOCK = "joint_stock", "股份制企业"
    HMT = "hmt", "港澳台商投资企业"
    FOREIGN = "foreign", "外商投资企业"
    INSTITUTION = "institution", "事业单位"
    GOVERNMENT = "government", "机关"
    SOCIAL_ORG = "social_org", "社会组织"
    INDIVIDUAL = "individual", "个体工商户"
    OTHER = "other", "其他"
