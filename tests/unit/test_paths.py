"""Paths of cases and fixture modules: what is refused and why, and default case paths."""

from __future__ import annotations

from typing import Literal

import pytest

from testyard.services.paths import (
    PathError,
    default_case_path,
    is_conftest,
    module_dir,
    validate_relative_path,
)

Kind = Literal["case", "fixture"]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("test_login.py", "case"),
        ("tests/test_login.py", "case"),
        ("tests/api/login_test.py", "case"),
        ("tests/test_.py", "case"),
        ("a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/test_x.py", "case"),  # 16 segments
        ("conftest.py", "fixture"),
        ("tests/api/conftest.py", "fixture"),
        ("fixtures/db.py", "fixture"),
        ("plugins/Db_Fixtures2.py", "fixture"),
    ],
)
def test_valid_paths_are_returned_unchanged(path: str, kind: Kind) -> None:
    assert validate_relative_path(path, kind=kind) == path


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "path must not be empty"),
        ("../x.py", "path must not contain '..' segments"),
        ("a/../test_b.py", "path must not contain '..' segments"),
        ("./test_x.py", "path must not contain '.' segments"),
        ("tests/./test_x.py", "path must not contain '.' segments"),
        ("/etc/test_x.py", "path must be relative, not start with '/'"),
        ("/test_x.py", "path must be relative, not start with '/'"),
        ("a\\test_b.py", "path must use '/' as separator, not '\\'"),
        ("..\\test_x.py", "path must use '/' as separator, not '\\'"),
        ("a//test_b.py", "path must not contain empty segments ('//')"),
        ("tests/", "path must name a file, not end with '/'"),
        ("C:/test_x.py", "path must not start with a drive letter"),
        ("c:test_x.py", "path must not start with a drive letter"),
        (".hidden.py", "hidden names are not allowed: '.hidden.py' starts with '.'"),
        ("tests/.test_x.py", "hidden names are not allowed: '.test_x.py' starts with '.'"),
        (".git/test_x.py", "hidden names are not allowed: '.git' starts with '.'"),
        ("tests/te st.py", "'te st.py' may contain only ASCII letters"),
        ("tests/test_x.py ", "'test_x.py ' may contain only ASCII letters"),
        ("tests/te\x00st.py", "'te\\x00st.py' may contain only ASCII letters"),
        ("tests/test_x.py\n", "'test_x.py\\n' may contain only ASCII letters"),
        ("tests/\x1b[31mtest.py", "may contain only ASCII letters"),
        ("tests/测试.py", "'测试.py' may contain only ASCII letters"),
        ("tests/tést_x.py", "may contain only ASCII letters"),
        ("-rf/test_x.py", "'-rf' may contain only ASCII letters"),
        ("x" * 10_000, "path must be at most 255 characters, not 10000"),
        ("a/" * 125 + "test_x.py", "path must be at most 255 characters, not 259"),
        ("a/" * 16 + "test_x.py", "path must have at most 16 segments"),
        ("tests/test_x.txt", "file name 'test_x.txt' must end with '.py'"),
        ("tests/test_x.PY", "file name 'test_x.PY' must end with '.py'"),
        ("tests/test_x", "file name 'test_x' must end with '.py'"),
        ("tests/__init__.py", "'__init__.py' is neither a case nor a fixture module"),
        ("__init__.py", "'__init__.py' is neither a case nor a fixture module"),
        ("my-tests/test_x.py", "directory 'my-tests' must be a Python name"),
        ("tests.v2/test_x.py", "directory 'tests.v2' must be a Python name"),
        ("2024/test_x.py", "directory '2024' must be a Python name"),
        ("class/test_x.py", "directory 'class' must be a Python name"),
        ("tests/test-x.py", "module name 'test-x' must be a Python name"),
        ("tests/test.x.py", "module name 'test.x' must be a Python name"),
    ],
)
def test_bad_paths(path: str, message: str) -> None:
    kinds: tuple[Kind, ...] = ("case", "fixture")
    for kind in kinds:
        with pytest.raises(PathError) as info:
            validate_relative_path(path, kind=kind)
        assert message in str(info.value)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("tests/conftest.py", "a case must not be named 'conftest.py'"),
        ("tests/login.py", "case file name 'login.py' must match 'test_*.py' or '*_test.py'"),
        ("tests/Test_login.py", "case file name 'Test_login.py' must match"),
        ("tests/testlogin.py", "case file name 'testlogin.py' must match"),
    ],
)
def test_bad_case_paths(path: str, message: str) -> None:
    with pytest.raises(PathError, match="^" + message.replace("*", r"\*").replace(".", r"\.")):
        validate_relative_path(path, kind="case")


@pytest.mark.parametrize("path", ["tests/test_db.py", "fixtures/db_test.py", "test_.py"])
def test_fixture_modules_must_not_look_like_tests(path: str) -> None:
    name = path.rpartition("/")[2]
    with pytest.raises(PathError, match=f"fixture module '{name}' would be collected"):
        validate_relative_path(path, kind="fixture")


def test_path_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        validate_relative_path("../x.py", kind="case")


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("Login works", "tests/test_login_works.py"),
        ("User can't log in (wrong password)!", "tests/test_user_can_t_log_in_wrong_password.py"),
        ("登录测试", "tests/test_deng_lu_ce_shi.py"),
        ("Über-Test: «Login» #2", "tests/test_uber_test_login_2.py"),
        ("!!!", "tests/test_case.py"),
        ("😀", "tests/test_case.py"),
        ("", "tests/test_case.py"),
        ("2fa login", "tests/test_2fa_login.py"),
        ("123", "tests/test_123.py"),
        ("snake_case-and-kebab", "tests/test_snake_case_and_kebab.py"),
    ],
)
def test_default_case_path(name: str, path: str) -> None:
    assert default_case_path(name) == path


def test_default_case_path_of_a_long_name_is_valid() -> None:
    path = default_case_path("word " * 200)
    assert validate_relative_path(path, kind="case") == path
    assert len(path.removeprefix("tests/test_").removesuffix(".py")) <= 60


@pytest.mark.parametrize(
    ("name", "stem_length"),
    [("x" * 1000, 60), ("测" * 1000, 59), ("a-" * 500, 59)],  # a cut "_" is dropped
)
def test_default_case_path_is_capped(name: str, stem_length: int) -> None:
    path = default_case_path(name)
    assert len(path.removeprefix("tests/test_").removesuffix(".py")) == stem_length
    assert validate_relative_path(path, kind="case") == path


@pytest.mark.parametrize(
    ("path", "directory", "conftest"),
    [
        ("conftest.py", "", True),
        ("tests/conftest.py", "tests", True),
        ("tests/api/test_x.py", "tests/api", False),
        ("test_x.py", "", False),
        ("tests/my_conftest.py", "tests", False),
    ],
)
def test_module_dir_and_is_conftest(path: str, directory: str, conftest: bool) -> None:
    assert module_dir(path) == directory
    assert is_conftest(path) is conftest
