"""User errors: every kind is a StylefuseError and carries exit status 2."""

from __future__ import annotations

import pytest

from stylefuse import errors


@pytest.mark.parametrize("cls", [errors.StylefuseError, errors.ImageReadError, errors.ImageWriteError,
                                 errors.WeightsError, errors.OptionError])
def test_every_user_error_exits_with_status_2(cls) -> None:
    error = cls("what went wrong; how to fix it")
    assert isinstance(error, errors.StylefuseError) and error.exit_code == 2
    assert str(error) == "what went wrong; how to fix it"
