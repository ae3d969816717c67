"""What testyard can tell about a stored pytest module without running it.

Cases and fixture modules are user code. Importing them would run that code inside the
server, so everything here reads the syntax tree only (standard library ``ast``, no
database). The rules mirror pytest's own where they can be read statically: which
decorators make a fixture, which arguments a test requests, which names a
``parametrize`` mark supplies instead of a fixture.

Every analysis function parses first and raises :class:`CodeSyntaxError` when the code
does not compile, exactly like :func:`check_compiles`.
"""

from __future__ import annotations

import ast
import re
import threading
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

FIXTURE_SCOPES = frozenset({"session", "package", "module", "class", "function"})
DYNAMIC_SCOPE = "dynamic"

_FIXTURE_DECORATORS = frozenset(
    {"pytest.fixture", "pytest.yield_fixture", "pytest_asyncio.fixture", "_pytest.fixtures.fixture"}
)
_STAR_EXPORTS = {"pytest": ("fixture", "yield_fixture", "mark"), "pytest_asyncio": ("fixture",)}
_Function = ast.FunctionDef | ast.AsyncFunctionDef
_LINE_END = re.compile(r"\r\n|\r|\n")

# warnings.catch_warnings swaps process-wide state; the lock keeps two of our own
# threads from restoring each other's filters.
_COMPILE_LOCK = threading.Lock()


class CodeSyntaxError(Exception):
    """The code does not compile.

    ``message`` is ready to show a user ("invalid syntax (line 3, column 7)"); ``line``
    and ``column`` are 1-based, or None when Python gives no position (null bytes,
    nesting too deep for the parser).
    """

    def __init__(self, message: str, line: int | None, column: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True)
class FixtureInfo:
    """One fixture a module defines, as its decorator and signature read.

    ``scope`` is the literal given (unknown literals are kept as written, see
    ``has_known_scope``) or ``"dynamic"`` when it is an expression; then
    ``scope_callable`` holds its source text, e.g. ``"determine_scope"``.
    ``params`` holds the source text of each element of a literal list or tuple; for any
    other expression it is the one-element list ``["*EXPR"]``, which is exactly how the
    same params would be written as a list literal. ``requests`` are the fixtures the
    function asks for (mandatory arguments, ``self``/``cls`` of methods left out).
    ``line`` is the line of the ``def``, not of the decorator.
    """

    name: str
    scope: str
    scope_callable: str | None
    autouse: bool
    params: list[str] | None
    requests: list[str]
    line: int

    @property
    def has_known_scope(self) -> bool:
        """False for a literal scope pytest would reject, such as ``"modul"``."""
        return self.scope in FIXTURE_SCOPES or self.scope == DYNAMIC_SCOPE


def check_compiles(code: str, filename: str) -> None:
    """Raise CodeSyntaxError unless ``compile(code, filename, "exec")`` succeeds."""
    with _compiling():
        compile(code, filename, "exec", dont_inherit=True)


def find_fixtures(code: str) -> list[FixtureInfo]:
    """Fixtures defined by top-level functions and by methods of top-level classes."""
    tree = _parse(code)
    aliases = _import_aliases(tree)
    source = _Source(code)
    found = []
    for func, bound in _functions(tree):
        decorator = _fixture_decorator(func, aliases)
        if decorator is not None:
            found.append(_fixture_info(source, func, decorator, bound=bound))
    return sorted(found, key=lambda info: info.line)


def find_requested_fixtures(code: str) -> dict[str, list[str]]:
    """The fixtures each test of a test module requests, keyed ``test_x`` or ``TestA::test_x``.

    Tests are collected the way pytest does by default: ``test*`` functions, ``test*``
    methods of ``Test*`` classes (nested ones too) that define neither ``__init__`` nor
    ``__new__``. Names from ``usefixtures`` marks come first, as in pytest, then the
    arguments; names a direct ``parametrize`` mark supplies are not fixtures and are left
    out. Marks count on the function, its classes and the module's ``pytestmark``.
    """
    tree = _parse(code)
    aliases = _import_aliases(tree)
    module_marks = _marks(_pytestmark(tree.body), aliases)
    requested: dict[str, list[str]] = {}
    for stmt in tree.body:
        if isinstance(stmt, _Function) and _is_test(stmt, aliases):
            requested[stmt.name] = _test_requests(stmt, [module_marks], aliases, bound=False)
        elif isinstance(stmt, ast.ClassDef):
            _collect_class(stmt, "", [module_marks], aliases, requested)
    return requested


def find_plugin_imports(code: str) -> list[str]:
    """Module names of the top-level ``pytest_plugins`` assignment.

    A string is split on commas, as pytest does; non-literal values cannot be read and
    are ignored. A later assignment replaces an earlier one, ``+=`` extends it.
    """
    plugins: list[str] = []
    for stmt in _parse(code).body:
        if isinstance(stmt, ast.AugAssign) and _is_name(stmt.target, "pytest_plugins"):
            plugins += _plugin_names(stmt.value)
        elif (value := _assigned(stmt, "pytest_plugins")) is not None:
            plugins = _plugin_names(value)
    return list(dict.fromkeys(plugins))


# --- parsing -------------------------------------------------------------------------


@contextmanager
def _compiling() -> Iterator[None]:
    """Translate every way compilation fails into CodeSyntaxError.

    Warnings are silenced: a ``SyntaxWarning`` about the user's code is not the server's
    business, and under ``-W error`` Python would turn it into a SyntaxError.
    """
    with _COMPILE_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        except SyntaxError as exc:  # also IndentationError and TabError
            raise _syntax_error(exc) from exc
        except ValueError as exc:  # null bytes, on Pythons that do not say SyntaxError
            raise CodeSyntaxError(str(exc), None, None) from exc
        except (MemoryError, RecursionError) as exc:  # the parser's stack ran out
            raise CodeSyntaxError("code is nested too deeply to compile", None, None) from exc


def _syntax_error(exc: SyntaxError) -> CodeSyntaxError:
    line = exc.lineno if exc.lineno and exc.lineno > 0 else None
    column = exc.offset if line and exc.offset and exc.offset > 0 else None
    message = exc.msg or "invalid syntax"
    if line and column:
        message = f"{message} (line {line}, column {column})"
    elif line:
        message = f"{message} (line {line})"
    return CodeSyntaxError(message, line, column)


def _parse(code: str) -> ast.Module:
    with _compiling():
        return ast.parse(code)


class _Source:
    """Source text of nodes; splits the code once (``ast.get_source_segment`` splits it
    again on every call, which is quadratic for a long ``params`` list)."""

    def __init__(self, code: str) -> None:
        starts = [0, *(m.end() for m in _LINE_END.finditer(code))]
        self._lines = [
            code[a:b].encode() for a, b in zip(starts, [*starts[1:], len(code)], strict=True)
        ]

    def text(self, node: ast.expr) -> str:
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        end = node.end_col_offset if node.end_col_offset is not None else node.col_offset
        if first == last:
            return self._lines[first][node.col_offset : end].decode()
        middle = b"".join(self._lines[first + 1 : last])
        chunks = self._lines[first][node.col_offset :], middle, self._lines[last][:end]
        return b"".join(chunks).decode()


# --- names and decorators ------------------------------------------------------------


def _import_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> full dotted name, from every import in the module.

    ``pytest`` and ``pytest_asyncio`` always resolve to themselves, so ``@pytest.fixture``
    is recognised even when the import is conditional or written in an odd way.
    """
    aliases = {"pytest": "pytest", "pytest_asyncio": "pytest_asyncio"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                head = alias.name.partition(".")[0]
                aliases[alias.asname or head] = alias.name if alias.asname else head
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if alias.name == "*":
                    aliases.update(
                        {n: f"{node.module}.{n}" for n in _STAR_EXPORTS.get(node.module, ())}
                    )
                else:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _resolve(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """``pt.fixture`` -> ``pytest.fixture`` given ``import pytest as pt``; None otherwise."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _str_value(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _assigned(stmt: ast.stmt, name: str) -> ast.expr | None:
    """The value of ``name = ...`` or ``name: T = ...``; None for any other statement."""
    if isinstance(stmt, ast.Assign) and any(_is_name(t, name) for t in stmt.targets):
        return stmt.value
    if isinstance(stmt, ast.AnnAssign) and _is_name(stmt.target, name):
        return stmt.value
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _strings(node: ast.expr | None) -> list[str]:
    """String constants of a literal list or tuple (a lone string counts as one)."""
    if isinstance(node, ast.List | ast.Tuple):
        return [text for e in node.elts if (text := _str_value(e)) is not None]
    text = _str_value(node)
    return [] if text is None else [text]


def _functions(tree: ast.Module) -> Iterator[tuple[_Function, bool]]:
    """Top-level functions and methods of top-level classes, with "is a method"."""
    for stmt in tree.body:
        if isinstance(stmt, _Function):
            yield stmt, False
        elif isinstance(stmt, ast.ClassDef):
            yield from ((s, True) for s in stmt.body if isinstance(s, _Function))


def _fixture_decorator(func: _Function, aliases: dict[str, str]) -> ast.expr | None:
    for decorator in func.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if _resolve(target, aliases) in _FIXTURE_DECORATORS:
            return decorator
    return None


def _requested_args(func: _Function, *, bound: bool) -> list[str]:
    """Mandatory arguments, as pytest's ``getfuncargnames``: no positional-only ones, no
    ``*args``/``**kwargs``, none with a default, and not the first of a bound method."""
    args = func.args
    positional = [*args.posonlyargs, *args.args]
    mandatory = positional[: len(positional) - len(args.defaults)]
    names = [a.arg for a in args.args if a in mandatory]
    names += [
        a.arg
        for a, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)
        if default is None
    ]
    static = any(_is_name(d, "staticmethod") for d in func.decorator_list)
    if bound and not static and not args.posonlyargs:
        names = names[1:]
    return names


# --- fixtures ------------------------------------------------------------------------


def _fixture_info(
    source: _Source, func: _Function, decorator: ast.expr, *, bound: bool
) -> FixtureInfo:
    keywords = decorator.keywords if isinstance(decorator, ast.Call) else []
    given = {kw.arg: kw.value for kw in keywords if kw.arg}
    scope, scope_callable = _scope(source, given.get("scope"))
    autouse = given.get("autouse")
    return FixtureInfo(
        name=_str_value(given.get("name")) or func.name,
        scope=scope,
        scope_callable=scope_callable,
        autouse=isinstance(autouse, ast.Constant) and bool(autouse.value),
        params=_params(source, given.get("params")),
        requests=_requested_args(func, bound=bound),
        line=func.lineno,
    )


def _scope(source: _Source, node: ast.expr | None) -> tuple[str, str | None]:
    if node is None:
        return "function", None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, None
    return DYNAMIC_SCOPE, source.text(node)


def _params(source: _Source, node: ast.expr | None) -> list[str] | None:
    if node is None or (isinstance(node, ast.Constant) and node.value is None):
        return None
    if isinstance(node, ast.List | ast.Tuple):
        return [source.text(e) for e in node.elts]
    text = source.text(node)
    simple = isinstance(node, ast.Name | ast.Attribute | ast.Call | ast.Subscript)
    return [f"*{text}" if simple else f"*({text})"]


# --- tests and marks -----------------------------------------------------------------


@dataclass
class _Marks:
    """What the marks on one node say: fixtures it uses, names parametrize supplies."""

    usefixtures: list[str] = field(default_factory=list)
    parametrized: set[str] = field(default_factory=set)


def _pytestmark(body: list[ast.stmt]) -> list[ast.expr]:
    marks: list[ast.expr] = []
    for stmt in body:
        if (value := _assigned(stmt, "pytestmark")) is not None:
            marks = list(value.elts) if isinstance(value, ast.List | ast.Tuple) else [value]
    return marks


def _marks(exprs: Iterable[ast.expr], aliases: dict[str, str]) -> _Marks:
    marks = _Marks()
    for expr in exprs:
        if not isinstance(expr, ast.Call):
            continue
        target = _resolve(expr.func, aliases)
        if target == "pytest.mark.usefixtures":
            marks.usefixtures += [n for a in expr.args for n in _strings(a)]
        elif target == "pytest.mark.parametrize":
            marks.parametrized.update(_direct_argnames(expr))
    return marks


def _direct_argnames(call: ast.Call) -> list[str]:
    """Argument names a parametrize call supplies itself; ``indirect`` ones stay fixtures."""
    argnames = call.args[0] if call.args else _keyword(call, "argnames")
    names = _strings(argnames)
    if len(names) == 1 and isinstance(argnames, ast.Constant):
        names = names[0].split(",")
    names = [n.strip() for n in names if n.strip()]
    indirect = _keyword(call, "indirect")
    if isinstance(indirect, ast.Constant):
        return [] if indirect.value else names
    if isinstance(indirect, ast.List | ast.Tuple):
        return [n for n in names if n not in _strings(indirect)]
    return names


def _is_test(func: _Function, aliases: dict[str, str]) -> bool:
    return func.name.startswith("test") and _fixture_decorator(func, aliases) is None


def _collect_class(
    cls: ast.ClassDef,
    prefix: str,
    outer: list[_Marks],
    aliases: dict[str, str],
    requested: dict[str, list[str]],
) -> None:
    has_init = any(isinstance(s, _Function) and s.name in ("__init__", "__new__") for s in cls.body)
    if not cls.name.startswith("Test") or has_init:
        return
    prefix = f"{prefix}{cls.name}::"
    scopes = [_marks([*cls.decorator_list, *_pytestmark(cls.body)], aliases), *outer]
    for stmt in cls.body:
        if isinstance(stmt, _Function) and _is_test(stmt, aliases):
            requested[prefix + stmt.name] = _test_requests(stmt, scopes, aliases, bound=True)
        elif isinstance(stmt, ast.ClassDef):
            _collect_class(stmt, prefix, scopes, aliases, requested)


def _test_requests(
    func: _Function, outer: list[_Marks], aliases: dict[str, str], *, bound: bool
) -> list[str]:
    """``outer`` runs from the innermost class out to the module, as pytest walks marks."""
    scopes = [_marks(func.decorator_list, aliases), *outer]
    parametrized = {n for m in scopes for n in m.parametrized}
    names = [n for m in scopes for n in m.usefixtures] + _requested_args(func, bound=bound)
    return [n for n in dict.fromkeys(names) if n not in parametrized]


def _plugin_names(node: ast.expr) -> list[str]:
    text = _str_value(node)
    names = _strings(node) if text is None else text.split(",")
    return [n.strip() for n in names if n.strip()]
