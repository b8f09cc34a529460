"""`local up`'s limit options: a bad one is one clear line, and nothing starts."""

from __future__ import annotations

import pytest

from breakwater import cli


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--scale", "10"], "--scale and --quota need --aws-limits"),
        (["--aws-limits", "--quota", "lambda.nope=3"], "quota 'lambda.nope': unknown"),
        (["--aws-limits", "--scale", "0"], "scale: must be a positive number"),
    ],
)
def test_bad_limit_options_are_one_clear_line(args, problem, capsys):
    code = cli.main(["local", "up", "--port", "1", *args])

    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert len(err) == 1 and problem in err[0], err
