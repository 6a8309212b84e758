"""Test helpers importable by every app's tests: the persona tree, factories and the
scoped-access cases (see ``permissions``). Nothing here is used outside tests."""
