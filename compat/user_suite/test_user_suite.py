"""A user's own test suite, in an environment where the provider is installed.

Without the emulator's distribution the unrelated test passes and nothing of the emulator loads
(the provider registers no pytest plugin); with it, the emulator's fixtures serve the second test.
"""


def test_unrelated() -> None:
    assert sorted([3, 1, 2]) == [1, 2, 3]


def test_uses_the_emulator(sm_eval_aws_env: object) -> None:
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="user-suite")
    assert "user-suite" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
