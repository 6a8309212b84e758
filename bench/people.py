"""Synthetic workers for the member benchmarks: millions of distinct, valid resident ID
numbers (GB 11643), distinct mobile phones and plausible Chinese names, made fast.

Distinctness is by construction, not by remembering what was issued: a person's index is
mapped by an affine bijection onto (birth date, sequence number) pairs, so two indexes never
share the last eleven digits before the check digit, whatever region code each one gets. The
same holds for phones. Nothing here imports Django.
"""

from __future__ import annotations

import csv
import datetime
import random
from functools import lru_cache
from pathlib import Path

from bench.names import words

REGIONS_CSV = Path(__file__).resolve().parent.parent / "niangjia" / "orgs" / "data" / "regions.csv"

# GB 11643: weights of the first 17 digits and the check characters by sum mod 11.
RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RIC_CHECK = "10X98765432"

# Birth dates from 1962-01-01 over BIRTH_DAYS days (to late 2005: workers aged 18 to 62),
# each with 1,000 sequence numbers (odd for men, even for women).
BIRTH_START = datetime.date(1962, 1, 1)
BIRTH_DAYS = 16_000
ID_SPACE = BIRTH_DAYS * 1_000
_ID_MULTIPLIER = 9_369_319  # coprime with 16,000,000 = 2^10 * 5^6: a bijection
_ID_OFFSET = 4_711_863

PHONE_PREFIXES = words(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 "
    "173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 198 199"
)
PHONE_SPACE = 100_000_000
_PHONE_MULTIPLIER = 73_939_133  # coprime with 10^8
assert _ID_MULTIPLIER % 2 and _ID_MULTIPLIER % 5
assert _PHONE_MULTIPLIER % 2 and _PHONE_MULTIPLIER % 5

# The most common surnames, roughly by frequency, and characters of given names.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜"
    "叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶"
    "贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文"
)
_SURNAME_WEIGHTS = tuple(max(1.0, 80.0 / (rank + 1)) for rank in range(len(SURNAMES)))
GIVEN_CHARS_FEMALE = "芳娜敏静丽艳娟秀霞桂英玉兰萍红婷雪琳晶欣怡佳慧颖倩梅琴云莉燕丹妍"
GIVEN_CHARS_MALE = "伟强磊军洋勇杰涛明超刚建文辉力鹏飞斌宇浩凯健俊帆帅旭宁志国海波林峰亮成东鑫"
GIVEN_CHARS = GIVEN_CHARS_FEMALE + GIVEN_CHARS_MALE


def check_digit(first17: str) -> str:
    """The 18th character of a resident ID number (same as ``stdnum.cn.ric``)."""
    total = sum(int(c) * w for c, w in zip(first17, RIC_WEIGHTS, strict=True))
    return RIC_CHECK[total % 11]


@lru_cache(maxsize=1)
def county_codes() -> tuple[str, ...]:
    """The county-level region codes of the 31 mainland provinces (GB/T 2260)."""
    with REGIONS_CSV.open(encoding="utf-8") as fh:
        return tuple(
            row["code"]
            for row in csv.DictReader(fh)
            if row["level"] == "county" and "11" <= row["code"][:2] <= "65"
        )


class IdMaker:
    """Valid 18-digit ID numbers for person indexes 0 … ID_SPACE-1, distinct per index.

    The weighted sums of the region and birth-date parts are cached, so one number costs a
    few dictionary look-ups and string joins.
    """

    def __init__(self) -> None:
        self._region_sums: dict[str, int] = {}
        self._dates: list[tuple[str, int, datetime.date]] = []
        for day in range(BIRTH_DAYS):
            date = BIRTH_START + datetime.timedelta(days=day)
            text = date.strftime("%Y%m%d")
            weighted = sum(int(c) * w for c, w in zip(text, RIC_WEIGHTS[6:14], strict=True))
            self._dates.append((text, weighted, date))
        self._seqs = [
            (f"{s:03d}", sum(int(c) * w for c, w in zip(f"{s:03d}", RIC_WEIGHTS[14:], strict=True)))
            for s in range(1_000)
        ]

    def make(self, index: int, region: str) -> tuple[str, datetime.date, str]:
        """(ID number, birth date, sex "M"/"F") of person ``index`` born in ``region``."""
        if not 0 <= index < ID_SPACE:
            raise ValueError(f"person index {index} outside 0…{ID_SPACE - 1}")
        n = (index * _ID_MULTIPLIER + _ID_OFFSET) % ID_SPACE
        day, seq = divmod(n, 1_000)
        region_sum = self._region_sums.get(region)
        if region_sum is None:
            region_sum = sum(int(c) * w for c, w in zip(region, RIC_WEIGHTS[:6], strict=True))
            self._region_sums[region] = region_sum
        date_text, date_sum, date = self._dates[day]
        seq_text, seq_sum = self._seqs[seq]
        check = RIC_CHECK[(region_sum + date_sum + seq_sum) % 11]
        return f"{region}{date_text}{seq_text}{check}", date, "M" if seq % 2 else "F"


def phone(index: int) -> str:
    """A mobile number for person ``index``; distinct indexes give distinct numbers."""
    prefix_count = len(PHONE_PREFIXES)
    group, slot = divmod(index, prefix_count)
    if group >= PHONE_SPACE:
        raise ValueError(f"person index {index} too large for distinct phones")
    body = (group * _PHONE_MULTIPLIER + slot * 7_919) % PHONE_SPACE
    return f"{PHONE_PREFIXES[slot]}{body:08d}"


def name(rng: random.Random, sex: str = "") -> str:
    """A plausible name; ``sex`` ("M"/"F", as in the ID number) picks fitting characters."""
    chars = GIVEN_CHARS_MALE if sex == "M" else GIVEN_CHARS_FEMALE if sex == "F" else GIVEN_CHARS
    surname = rng.choices(SURNAMES, weights=_SURNAME_WEIGHTS)[0]
    given = rng.choice(chars)
    if rng.random() < 0.7:
        given += rng.choice(chars)
    return surname + given
