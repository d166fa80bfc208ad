"""A user's own test suite, unrelated to this provider, in an environment where it is installed.

The provider's pytest plugin loads in every session there: without the ``emulator`` extra the
unrelated test must still pass, and a test that asks for the emulator is skipped with the
command that installs the extra.
"""


def test_unrelated() -> None:
    assert sorted([3, 1, 2]) == [1, 2, 3]


def test_uses_the_emulator(sm_eval_aws_env: object) -> None:
    raise AssertionError("skipped without the emulator extra, so never reached")
