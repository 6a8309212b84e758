"""The account tests' fixtures (county administrators, ``make_account``) serve here too."""

from niangjia.accounts.tests.conftest import (  # noqa: F401
    county_audit_admin,
    county_security_admin,
    county_system_admin,
    make_account,
)
