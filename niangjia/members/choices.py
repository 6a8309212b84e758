from django.db import models


class IdType(models.TextChoices):
    RESIDENT = "resident", "居民身份证"
    HK_MACAU_PERMIT = "hk_macau_permit", "港澳居民居住证"
    TAIWAN_PERMIT = "taiwan_permit", "台湾居民居住证"
    PASSPORT = "passport", "护照"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class Education(models.TextChoices):
    PRIMARY = "primary", "小学及以下"
    JUNIOR = "junior", "初中"
    SENIOR = "senior", "高中/中专/技校"
    COLLEGE = "college", "大专"
    BACHELOR = "bachelor", "本科"
    POSTGRADUATE = "postgraduate", "研究生"


class Household(models.TextChoices):
    URBAN = "urban", "城镇户籍"
    RURAL = "rural", "农村户籍"


class EmploymentForm(models.TextChoices):
    STANDARD = "standard", "标准劳动关系"
    GIG = "gig", "新就业形态"


class GigOccupation(models.TextChoices):
    COURIER = "courier", "快递员"
    DELIVERY_RIDER = "delivery_rider", "外卖配送员"
    RIDE_HAILING = "ride_hailing", "网约车司机"
    TRUCK_DRIVER = "truck_driver", "货车司机"
    DOMESTIC = "domestic", "家政服务员"
    OTHER = "other", "其他新就业形态"


class MemberStatus(models.TextChoices):
    ACTIVE = "active", "在会"
    TRANSFERRING = "transferring", "转接中"
    RESERVED = "reserved", "保留会籍"
    LEFT = "left", "已退会"
    DECEASED = "deceased", "已故"


# Statuses in which a person holds a membership (the "one active membership" rule).
HOLDING_STATUSES = (MemberStatus.ACTIVE, MemberStatus.TRANSFERRING, MemberStatus.RESERVED)


class ReserveReason(models.TextChoices):
    RETIRED = "retired", "退休"
    UNEMPLOYED = "unemployed", "失业"
    EMPLOYER_CLOSED = "employer_closed", "单位关闭"


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已驳回"
    WITHDRAWN = "withdrawn", "已撤回"


class ApplicationChannel(models.TextChoices):
    QR = "qr", "扫码入会"
    ONLINE = "online", "网上入会"
    CEREMONY = "ceremony", "集中入会仪式"
    CADRE = "cadre", "工会代录"


class TransferStatus(models.TextChoices):
    RELEASED = "released", "待接收"
    ACCEPTED = "accepted", "已接收"
    REFUSED = "refused", "已拒收"
    CANCELLED = "cancelled", "已撤销"


# GB/T 3304 names of China's ethnic groups (民族), with their two-digit codes.
ETHNIC_GROUPS = [
    ("01", "汉族"),
    ("02", "蒙古族"),
    ("03", "回族"),
    ("04", "藏族"),
    ("05", "维吾尔族"),
    ("06", "苗族"),
    ("07", "彝族"),
    ("08", "壮族"),
    ("09", "布依族"),
    ("10", "朝鲜族"),
    ("11", "满族"),
    ("12", "侗族"),
    ("13", "瑶族"),
    ("14", "白族"),
    ("15", "土家族"),
    ("16", "哈尼族"),
    ("17", "哈萨克族"),
    ("18", "傣族"),
    ("19", "黎族"),
    ("20", "傈僳族"),
    ("21", "佤族"),
    ("22", "畲族"),
    ("23", "高山族"),
    ("24", "拉祜族"),
    ("25", "水族"),
    ("26", "东乡族"),
    ("27", "纳西族"),
    ("28", "景颇族"),
    ("29", "柯尔克孜族"),
    ("30", "土族"),
    ("31", "达斡尔族"),
    ("32", "仫佬族"),
    ("33", "羌族"),
    ("34", "布朗族"),
    ("35", "撒拉族"),
    ("36", "毛南族"),
    ("37", "仡佬族"),
    ("38", "锡伯族"),
    ("39", "阿昌族"),
    ("40", "普米族"),
    ("41", "塔吉克族"),
    ("42", "怒族"),
    ("43", "乌孜别克族"),
    ("44", "俄罗斯族"),
    ("45", "鄂温克族"),
    ("46", "德昂族"),
    ("47", "保安族"),
    ("48", "裕固族"),
    ("49", "京族"),
    ("50", "塔塔尔族"),
    ("51", "独龙族"),
    ("52", "鄂伦春族"),
    ("53", "赫哲族"),
    ("54", "门巴族"),
    ("55", "珞巴族"),
    ("56", "基诺族"),
    ("97", "其他"),
    ("98", "外国血统中国籍人士"),
]
