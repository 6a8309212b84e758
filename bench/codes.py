"""Fast makers of valid codes for synthetic rows: GB 32100 USCCs (with a GB 11714
organisation code inside) and treebeard materialised-path steps."""

from __future__ import annotations

# GB 32100: the 31 characters a USCC may use (no I, O, Z, S, V), and the weights of the
# first 17 positions for the check character.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}

# GB 11714: weights of the eight body characters of an organisation code.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUE = {c: (int(c) if c.isdigit() else ord(c) - ord("A") + 10) for c in USCC_ALPHABET}

# Serial numbers are spread over every 8-character body by an affine bijection modulo 31^8,
# so consecutive serials give unrelated-looking codes and distinct serials distinct codes.
SERIAL_SPACE = len(USCC_ALPHABET) ** 8
_SERIAL_MULTIPLIER = 617_673_396_283
assert _SERIAL_MULTIPLIER % len(USCC_ALPHABET) != 0  # coprime with 31^8: a bijection
assert USCC_ALPHABET.index("X") == 29 and USCC_WEIGHTS[8:] == (20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    """The 18th character of a USCC (same result as ``stdnum.cn.uscc.calc_check_digit``)."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total) % 31]


def org_code_check_char(body8: str) -> str:
    """The 9th character of a GB 11714 organisation code."""
    check = 11 - sum(_ORG_VALUE[c] * w for c, w in zip(body8, ORG_CODE_WEIGHTS, strict=True)) % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def org_code_body(serial: int, offset: int = 0) -> str:
    """Eight characters for ``serial``; distinct serials (below 31^8) give distinct bodies."""
    n = (serial * _SERIAL_MULTIPLIER + offset) % SERIAL_SPACE
    chars = []
    for _ in range(8):
        n, digit = divmod(n, 31)
        chars.append(USCC_ALPHABET[digit])
    return "".join(reversed(chars))


_ORG_VALUE_OF_INDEX = tuple(_ORG_VALUE[c] for c in USCC_ALPHABET)


class UsccMaker:
    """Makes USCCs ``<authority><category><region><organisation code><check>`` quickly:
    the weighted sum of the fixed eight-character head is computed once per head, and the
    organisation code's digits and both check characters in one unrolled pass."""

    def __init__(self, offset: int = 0) -> None:
        self.offset = offset % SERIAL_SPACE
        self._head_sums: dict[str, int] = {}

    def make(self, head: str, serial: int) -> str:
        """``head`` is the authority and category (two characters) and the six-digit region."""
        head_sum = self._head_sums.get(head)
        if head_sum is None:
            if len(head) != 8 or any(c not in _USCC_VALUE for c in head):
                raise ValueError(f"USCC head must be 8 USCC characters, got {head!r}")
            head_sum = sum(_USCC_VALUE[c] * w for c, w in zip(head, USCC_WEIGHTS[:8], strict=True))
            self._head_sums[head] = head_sum
        n = (serial * _SERIAL_MULTIPLIER + self.offset) % SERIAL_SPACE
        n, d7 = divmod(n, 31)
        n, d6 = divmod(n, 31)
        n, d5 = divmod(n, 31)
        n, d4 = divmod(n, 31)
        n, d3 = divmod(n, 31)
        n, d2 = divmod(n, 31)
        d0, d1 = divmod(n, 31)
        v = _ORG_VALUE_OF_INDEX
        org = (
            11
            - (
                3 * v[d0]
                + 7 * v[d1]
                + 9 * v[d2]
                + 10 * v[d3]
                + 5 * v[d4]
                + 8 * v[d5]
                + 4 * v[d6]
                + 2 * v[d7]
            )
            % 11
        )
        d8 = 29 if org == 10 else 0 if org == 11 else org  # "X" is index 29 of the alphabet
        total = head_sum + (
            20 * d0 + 29 * d1 + 25 * d2 + 13 * d3 + 8 * d4 + 24 * d5 + 10 * d6 + 30 * d7 + 28 * d8
        )
        a = USCC_ALPHABET
        return "".join(
            (
                head,
                a[d0],
                a[d1],
                a[d2],
                a[d3],
                a[d4],
                a[d5],
                a[d6],
                a[d7],
                a[d8],
                a[(31 - total) % 31],
            )
        )


# --- treebeard materialised paths (steplen 4 over 0-9A-Z, as orgs.models.Union)

PATH_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
STEPLEN = 4
MAX_CHILDREN = len(PATH_ALPHABET) ** STEPLEN - 1


def path_step(position: int) -> str:
    """The path segment of the ``position``-th child (1-based), as treebeard numbers them."""
    if not 1 <= position <= MAX_CHILDREN:
        raise ValueError(f"a node holds at most {MAX_CHILDREN} children, not {position}")
    chars = []
    n = position
    while n:
        n, digit = divmod(n, len(PATH_ALPHABET))
        chars.append(PATH_ALPHABET[digit])
    return "".join(reversed(chars)).rjust(STEPLEN, PATH_ALPHABET[0])
