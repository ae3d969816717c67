"""Static reading of user modules: compile errors, fixtures, requested fixtures, plugins."""

from __future__ import annotations

from textwrap import dedent

import pytest

from testyard.services.code_analysis import (
    CodeSyntaxError,
    FixtureInfo,
    check_compiles,
    find_fixtures,
    find_plugin_imports,
    find_requested_fixtures,
)

# --- check_compiles ------------------------------------------------------------------


def test_valid_code_compiles() -> None:
    check_compiles("import pytest\n\ndef test_x():\n    assert True\n", "tests/test_x.py")


def test_syntax_error_names_line_and_column() -> None:
    code = "x = 1\ny = 2\nif x y:\n    pass\n"
    with pytest.raises(SyntaxError) as python:
        compile(code, "tests/test_x.py", "exec")
    column = python.value.offset  # where Python points differs between versions
    with pytest.raises(CodeSyntaxError) as info:
        check_compiles(code, "tests/test_x.py")
    assert (info.value.line, info.value.column) == (3, column)
    assert info.value.message == f"invalid syntax (line 3, column {column})"
    assert str(info.value) == info.value.message


def test_python_message_is_kept() -> None:
    with pytest.raises(CodeSyntaxError) as info:
        check_compiles("def f()\n    pass\n", "x.py")
    assert info.value.message == "expected ':' (line 1, column 8)"


def test_indentation_error() -> None:
    with pytest.raises(CodeSyntaxError) as info:
        check_compiles("def f():\n    x = 1\n      y = 2\n", "x.py")
    assert info.value.line == 3
    assert info.value.message.startswith("unexpected indent (line 3")


def test_tab_error() -> None:
    with pytest.raises(CodeSyntaxError) as info:
        check_compiles("if True:\n        x = 1\n\ty = 2\n", "x.py")
    assert info.value.line == 3
    assert "inconsistent use of tabs and spaces" in info.value.message


def test_null_byte_has_no_position() -> None:
    with pytest.raises(CodeSyntaxError) as info:
        check_compiles("x = 1\x00\n", "x.py")
    assert info.value.line is None
    assert info.value.column is None
    assert "null bytes" in info.value.message


@pytest.mark.parametrize("code", ["-" * 100_000 + "1", "x = " + "a." * 5_000 + "b"])
def test_too_deep_nesting_is_a_syntax_error(code: str) -> None:
    with pytest.raises(CodeSyntaxError) as info:
        check_compiles(code, "x.py")
    assert info.value.line is None


def test_warnings_in_user_code_are_not_errors() -> None:
    # The suite runs with -W error: a SyntaxWarning/DeprecationWarning would become a
    # SyntaxError if check_compiles did not silence the user's warnings.
    check_compiles("import re\nX = re.compile('\\d')\nassert 1 is 1\n", "x.py")


def test_analysis_of_broken_code_raises_the_same_error() -> None:
    with pytest.raises(CodeSyntaxError):
        find_fixtures("def f(:\n")


# --- find_fixtures -------------------------------------------------------------------


def _one(code: str) -> FixtureInfo:
    [info] = find_fixtures(dedent(code))
    return info


@pytest.mark.parametrize(
    "code",
    [
        "import pytest\n@pytest.fixture\ndef db(): ...\n",
        "import pytest\n@pytest.fixture()\ndef db(): ...\n",
        "from pytest import fixture\n@fixture\ndef db(): ...\n",
        "from pytest import fixture\n@fixture(scope='function')\ndef db(): ...\n",
        "from pytest import fixture as fx\n@fx\ndef db(): ...\n",
        "import pytest as pt\n@pt.fixture\ndef db(): ...\n",
        "import pytest as pt\n@pt.fixture()\ndef db(): ...\n",
        "from pytest import *\n@fixture\ndef db(): ...\n",
        "import pytest_asyncio\n@pytest_asyncio.fixture\nasync def db(): ...\n",
        "from pytest_asyncio import fixture\n@fixture()\nasync def db(): ...\n",
        "import pytest\n@pytest.yield_fixture\ndef db(): ...\n",
        "import pytest\n@pytest.fixture\nasync def db(): ...\n",
        "import pytest\n@other\n@pytest.fixture\ndef db(): ...\n",
    ],
)
def test_decorator_forms(code: str) -> None:
    info = _one(code)
    assert info == FixtureInfo(
        name="db",
        scope="function",
        scope_callable=None,
        autouse=False,
        params=None,
        requests=[],
        line=code.count("\n", 0, code.index("def ")) + 1,
    )


@pytest.mark.parametrize(
    "code",
    [
        "def db(): ...\n",
        "@fixture\ndef db(): ...\n",  # `fixture` from nowhere known
        "from other_lib import fixture\n@fixture\ndef db(): ...\n",
        "import pytest\n@pytest.mark.skip\ndef db(): ...\n",
        "import pytest\ndef outer():\n    @pytest.fixture\n    def db(): ...\n",
    ],
)
def test_not_fixtures(code: str) -> None:
    assert find_fixtures(code) == []


def test_name_overrides_function_name() -> None:
    info = _one("""
        import pytest
        @pytest.fixture(name="db")
        def db_fixture(): ...
    """)
    assert info.name == "db"


@pytest.mark.parametrize("scope", ["session", "package", "module", "class", "function"])
def test_literal_scope(scope: str) -> None:
    info = _one(f"import pytest\n@pytest.fixture(scope={scope!r})\ndef db(): ...\n")
    assert (info.scope, info.scope_callable, info.has_known_scope) == (scope, None, True)


def test_unknown_literal_scope_is_reported_as_written() -> None:
    info = _one("import pytest\n@pytest.fixture(scope='modul')\ndef db(): ...\n")
    assert info.scope == "modul"
    assert not info.has_known_scope


@pytest.mark.parametrize(
    ("expression", "callable_text"),
    [
        ("determine_scope", "determine_scope"),
        ("scopes.pick", "scopes.pick"),
        ("lambda fixture_name, config: 'session'", "lambda fixture_name, config: 'session'"),
    ],
)
def test_dynamic_scope(expression: str, callable_text: str) -> None:
    info = _one(f"import pytest\n@pytest.fixture(scope={expression})\ndef db(): ...\n")
    assert (info.scope, info.scope_callable) == ("dynamic", callable_text)
    assert info.has_known_scope


@pytest.mark.parametrize(
    ("value", "autouse"),
    [("True", True), ("False", False), ("settings.AUTO", False)],
)
def test_autouse(value: str, autouse: bool) -> None:
    info = _one(f"import pytest\n@pytest.fixture(autouse={value})\ndef db(): ...\n")
    assert info.autouse is autouse


@pytest.mark.parametrize(
    ("value", "params"),
    [
        ("[1, 'two', (3, 4)]", ["1", "'two'", "(3, 4)"]),
        ("('sqlite', 'postgres')", ["'sqlite'", "'postgres'"]),
        ("[]", []),
        ("[pytest.param(1, id='one'), *MORE]", ["pytest.param(1, id='one')", "*MORE"]),
        ("DATABASES", ["*DATABASES"]),
        ("range(3)", ["*range(3)"]),
        ("A if B else C", ["*(A if B else C)"]),
        ("None", None),
    ],
)
def test_params(value: str, params: list[str] | None) -> None:
    info = _one(f"import pytest\n@pytest.fixture(params={value})\ndef db(request): ...\n")
    assert info.params == params


def test_multiline_params_keep_their_source_text() -> None:
    info = _one("""
        import pytest
        @pytest.fixture(params=[
            {"name": "ü",
             "size": 1},
            2,
        ])
        def db(request): ...
    """)
    assert info.params == ['{"name": "ü",\n     "size": 1}', "2"]


def test_requests_chain() -> None:
    fixtures = find_fixtures(
        dedent("""
            import pytest

            @pytest.fixture
            def engine(tmp_path, request, *args, **kwargs): ...

            @pytest.fixture
            def session(engine, /, db, *, user, retries=3, timeout: int = 1): ...

            @pytest.fixture
            def client(session, defaulted=None): ...
        """)
    )
    assert [(f.name, f.requests) for f in fixtures] == [
        ("engine", ["tmp_path", "request"]),
        ("session", ["db", "user"]),  # positional-only and defaulted ones are not requests
        ("client", ["session"]),
    ]


def test_methods_of_top_level_classes() -> None:
    fixtures = find_fixtures(
        dedent("""
            import pytest

            class TestThing:
                @pytest.fixture(scope="class")
                def thing(self, db): ...

                @pytest.fixture
                @staticmethod
                def helper(db): ...

                @pytest.fixture
                @classmethod
                async def other(cls, request): ...

                def not_a_fixture(self): ...
        """)
    )
    assert [(f.name, f.scope, f.requests) for f in fixtures] == [
        ("thing", "class", ["db"]),
        ("helper", "function", ["db"]),
        ("other", "function", ["request"]),
    ]


def test_fixtures_are_ordered_by_line() -> None:
    fixtures = find_fixtures(
        dedent("""
            import pytest

            @pytest.fixture
            def first(): ...

            class Plugin:
                @pytest.fixture
                def second(self): ...

            @pytest.fixture
            def third(): ...
        """)
    )
    assert [(f.name, f.line) for f in fixtures] == [("first", 5), ("second", 9), ("third", 12)]


def test_many_params_are_read_quickly() -> None:
    elements = ", ".join(str(n) for n in range(20_000))
    code = "import pytest\n" + "# padding\n" * 20_000
    code += f"@pytest.fixture(params=[{elements}])\ndef n(request): ...\n"
    [info] = find_fixtures(code)
    assert info.params is not None
    assert len(info.params) == 20_000


# --- find_requested_fixtures ---------------------------------------------------------


def _requested(code: str) -> dict[str, list[str]]:
    return find_requested_fixtures(dedent(code))


def test_top_level_tests_request_their_arguments() -> None:
    assert _requested("""
        def test_a(db, client): ...
        async def test_b(request): ...
        def test_c(): ...
        def helper(db): ...
        def test_d(db, retries=3, *args, **kwargs): ...
    """) == {"test_a": ["db", "client"], "test_b": ["request"], "test_c": [], "test_d": ["db"]}


def test_class_methods_drop_self_and_skip_classes_with_init() -> None:
    assert _requested("""
        class TestA:
            def test_x(self, db): ...
            @staticmethod
            def test_static(db): ...
            def helper(self, db): ...

            class TestNested:
                def test_y(self, client): ...

        class TestWithInit:
            def __init__(self): ...
            def test_z(self, db): ...

        class Helpers:
            def test_w(self, db): ...
    """) == {
        "TestA::test_x": ["db"],
        "TestA::test_static": ["db"],
        "TestA::TestNested::test_y": ["client"],
    }


def test_usefixtures_on_function_class_and_module() -> None:
    assert _requested("""
        import pytest
        from pytest import mark

        pytestmark = [pytest.mark.usefixtures("module_fx"), pytest.mark.slow]

        @pytest.mark.usefixtures("a", "b")
        def test_f(db): ...

        @mark.usefixtures("class_fx")
        class TestC:
            pytestmark = pytest.mark.usefixtures("class_mark_fx")

            @pytest.mark.usefixtures("db")
            def test_m(self, db): ...
    """) == {
        "test_f": ["a", "b", "module_fx", "db"],
        "TestC::test_m": ["db", "class_fx", "class_mark_fx", "module_fx"],
    }


def test_parametrized_names_are_not_fixtures() -> None:
    assert _requested("""
        import pytest

        @pytest.mark.parametrize("a,b", [(1, 2)])
        @pytest.mark.parametrize(("c", "d"), [(1, 2)])
        @pytest.mark.parametrize(argnames=" e , f ", argvalues=[(1, 2)])
        def test_f(a, b, c, d, e, f, db): ...

        @pytest.mark.parametrize("x", [1])
        class TestC:
            def test_m(self, x, client): ...

        @pytest.mark.parametrize("db", ["sqlite"], indirect=True)
        def test_indirect(db): ...

        @pytest.mark.parametrize("db, n", [("sqlite", 1)], indirect=["db"])
        def test_some_indirect(db, n): ...

        @pytest.mark.parametrize("n", [1], indirect=False)
        def test_direct(n): ...
    """) == {
        "test_f": ["db"],
        "TestC::test_m": ["client"],
        "test_indirect": ["db"],
        "test_some_indirect": ["db"],
        "test_direct": [],
    }


def test_module_pytestmark_parametrize_applies_to_every_test() -> None:
    assert _requested("""
        import pytest as pt
        pytestmark = pt.mark.parametrize("backend", ["a", "b"])
        def test_f(backend, db): ...
    """) == {"test_f": ["db"]}


def test_a_fixture_named_test_is_not_a_test() -> None:
    assert (
        _requested("""
        import pytest
        @pytest.fixture
        def test_data(): ...
    """)
        == {}
    )


# --- find_plugin_imports -------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "plugins"),
    [
        ("pytest_plugins = 'fixtures.db'", ["fixtures.db"]),
        ("pytest_plugins = 'a, b'", ["a", "b"]),
        ("pytest_plugins = ['a', 'b.c']", ["a", "b.c"]),
        ("pytest_plugins = ('a',)", ["a"]),
        ("pytest_plugins: list[str] = ['a']", ["a"]),
        ("pytest_plugins = ['a']\npytest_plugins += ['b']", ["a", "b"]),
        ("pytest_plugins = ['a']\npytest_plugins = ['b']", ["b"]),
        ("pytest_plugins = PLUGINS", []),
        ("pytest_plugins = []", []),
        ("def f():\n    pytest_plugins = ['a']", []),
        ("x = 1", []),
    ],
)
def test_plugin_imports(code: str, plugins: list[str]) -> None:
    assert find_plugin_imports(code) == plugins
