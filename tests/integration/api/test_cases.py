"""Cases: default and explicit paths, code that compiles, search, versions, copies."""

from __future__ import annotations

import re
from typing import Any

from tests.factories import PASSING_TEST, make_case, make_plan, make_project, public_case
from tests.support.api import Api

BAD_PATHS = [
    "../test_a.py",
    "tests/../test_a.py",
    "tests/./test_a.py",
    "/tmp/test_a.py",
    "/test_a.py",
    "C:/tests/test_a.py",
    "tests\\test_a.py",
    "..\\test_a.py",
    "tests//test_a.py",
    "tests/",
    "tests/login.py",
    "tests/conftest.py",
    "tests/test_a.txt",
    "tests/test_a.py/",
    "tests/test-a.py",
    "tests/test_a.py ",
    " tests/test_a.py",
    ".tests/test_a.py",
    "tests/.test_a.py",
    "tests/__init__.py",
    "tests/test_a.b.py",
    "1tests/test_a.py",
    "class/test_a.py",
    "tests/test_\x00.py",
    "tests/test_a\n.py",
    "tests/test_a.py\n",
    "tests/\ttest_a.py",
    "tests/test_\u00e9.py",
    "t\u00e9sts/test_a.py",
    "tests/\u6d4b\u8bd5/test_a.py",
    "tests/test_\u200ba.py",
    "tests/test_\uff41.py",
    "x/" * 20 + "test_a.py",
    "tests/test_" + "a" * 300 + ".py",
]


def cases_path(pid: int) -> str:
    return f"/projects/{pid}/cases"


def listing(api: Api, pid: int, query: str = "") -> dict[str, Any]:
    result: dict[str, Any] = api.get(f"{cases_path(pid)}{query}")
    return result


def names(api: Api, pid: int, query: str = "") -> list[str]:
    return [c["name"] for c in listing(api, pid, query)["items"]]


def test_create_get_update_delete(admin: Api) -> None:
    pid = make_project(admin)["id"]
    created = admin.post(
        cases_path(pid),
        {
            "name": "Login works",
            "description": "happy path",
            "code": PASSING_TEST,
            "tags": ["smoke", "auth"],
        },
    )
    assert created["name"] == "Login works" and created["description"] == "happy path"
    assert created["path"] == "tests/test_login_works.py"
    assert created["code"] == PASSING_TEST
    assert created["tags"] == ["auth", "smoke"]
    assert created["version"] == 1 and created["author"]["username"] == "admin"
    cid = created["id"]
    assert created["problems"] == []
    assert admin.get(f"{cases_path(pid)}/{cid}") == public_case(created)

    updated = admin.patch(
        f"{cases_path(pid)}/{cid}", {"name": "Login still works", "tags": ["smoke"]}
    )
    assert updated["name"] == "Login still works" and updated["tags"] == ["smoke"]
    assert updated["path"] == "tests/test_login_works.py"  # a rename keeps the path
    assert updated["version"] == 2 and updated["code"] == PASSING_TEST
    assert admin.get(f"{cases_path(pid)}/{cid}") == public_case(updated)

    admin.delete(f"{cases_path(pid)}/{cid}")
    assert admin.expect(404, "GET", f"{cases_path(pid)}/{cid}")["error"] == "not_found"
    assert listing(admin, pid)["total"] == 0


def test_default_path_is_derived_from_the_name(admin: Api) -> None:
    pid = make_project(admin)["id"]
    assert make_case(admin, pid, name="Login works")["path"] == "tests/test_login_works.py"
    assert make_case(admin, pid, name="Login works")["path"] == "tests/test_login_works_2.py"
    assert make_case(admin, pid, name="login  WORKS!")["path"] == "tests/test_login_works_3.py"

    chinese = make_case(admin, pid, name="\u767b\u5f55\u6d4b\u8bd5")
    assert chinese["name"] == "\u767b\u5f55\u6d4b\u8bd5"
    assert chinese["path"].isascii()
    assert re.fullmatch(r"tests/test_[a-z0-9_]+\.py", chinese["path"]), chinese["path"]
    assert make_case(admin, pid, name="\u767b\u5f55\u6d4b\u8bd5")["path"] != chinese["path"]

    for odd in ["\U0001f600\U0001f680", "class", "--", "1 2 3", "x" * 200]:
        path = make_case(admin, pid, name=odd)["path"]
        assert re.fullmatch(r"tests/test_[a-z0-9_]+\.py", path), (odd, path)
    # An explicit path is used as given, and a taken default path is skipped.
    make_case(admin, pid, name="Other", path="tests/api/test_checkout.py")
    make_case(admin, pid, name="x", path="tests/test_checkout.py")
    assert make_case(admin, pid, name="Checkout")["path"] == "tests/test_checkout_2.py"
    paths = [c["path"] for c in listing(admin, pid, "?per_page=200")["items"]]
    assert len(paths) == len(set(paths))


def test_explicit_path_is_validated(admin: Api) -> None:
    pid = make_project(admin)["id"]
    case = make_case(admin, pid, path="tests/api/test_ok.py")
    for bad in BAD_PATHS:
        body = admin.expect(422, "POST", cases_path(pid), json={"name": "Bad", "path": bad})
        assert body["error"] == "invalid" and body["field"] == "path", repr(bad)
        body = admin.expect(422, "PATCH", f"{cases_path(pid)}/{case['id']}", json={"path": bad})
        assert body["field"] == "path", repr(bad)
    assert listing(admin, pid)["items"] == [case]
    for good in [
        "test_root.py",
        "tests/api/v2/test_x.py",
        "tests/login_test.py",
        "tests/data_dir/test_a.py",
        "Tests/test_Upper.py",
    ]:
        assert make_case(admin, pid, path=good)["path"] == good


def test_duplicate_path_is_409(admin: Api) -> None:
    pid = make_project(admin)["id"]
    first = make_case(admin, pid, path="tests/test_a.py")
    second = make_case(admin, pid, path="tests/test_b.py")
    body = admin.expect(409, "POST", cases_path(pid), json={"name": "A", "path": "tests/test_a.py"})
    assert body["error"] == "conflict" and body["field"] == "path"
    assert "tests/test_a.py" in body["message"]
    body = admin.expect(
        409, "PATCH", f"{cases_path(pid)}/{second['id']}", json={"path": "tests/test_a.py"}
    )
    assert body["field"] == "path"
    assert listing(admin, pid)["items"] == [first, second]
    # Its own path is not a conflict; another project has its own paths.
    assert (
        admin.patch(f"{cases_path(pid)}/{first['id']}", {"path": "tests/test_a.py"})["version"] == 2
    )
    other = make_project(admin)["id"]
    assert make_case(admin, other, path="tests/test_a.py")["path"] == "tests/test_a.py"


def test_syntax_error_is_422_with_position_and_nothing_is_saved(admin: Api) -> None:
    pid = make_project(admin)["id"]
    broken = "def test_a():\n    assert (1 +\n"
    body = admin.expect(422, "POST", cases_path(pid), json={"name": "Broken", "code": broken})
    assert body["error"] == "syntax_error" and body["field"] == "code"
    assert (body["line"], body["column"]) == (2, 12)
    assert "never closed" in body["message"]
    assert listing(admin, pid)["total"] == 0

    case = make_case(admin, pid, name="Good")
    body = admin.expect(
        422,
        "PATCH",
        f"{cases_path(pid)}/{case['id']}",
        json={"name": "Renamed", "code": "x = 1\nif x > 0\n    pass\n", "version": case["version"]},
    )
    assert body["error"] == "syntax_error"
    assert (body["line"], body["column"]) == (2, 9)
    assert admin.get(f"{cases_path(pid)}/{case['id']}") == case


def test_filters_by_keyword_tag_and_code(admin: Api) -> None:
    pid = make_project(admin)["id"]
    make_case(
        admin,
        pid,
        name="Login works",
        description="Checks the LOGIN page",
        tags=["smoke", "auth"],
        code="def test_a(token):\n    assert token\n",
    )
    make_case(admin, pid, name="Logout", tags=["auth"], code="def test_b():\n    pass\n")
    make_case(
        admin,
        pid,
        name="Checkout",
        description="pays with a login-less card",
        tags=["smoke"],
        code="def test_c():\n    assert '%d' % 1 == '1'\n",
    )
    make_case(admin, pid, name="Discount 100%", code="def test_d():\n    a_b = 1\n")
    make_case(admin, pid, name="price_total", code="def test_e(a, b):\n    x = a+b // 2\n")
    make_case(admin, pid, name="Delete test", description="100 percent")

    assert names(admin, pid, "?q=login") == ["Login works", "Checkout"]
    assert names(admin, pid, "?q=LOGIN") == ["Login works", "Checkout"]
    assert names(admin, pid, "?q=log") == ["Login works", "Logout", "Checkout"]
    assert names(admin, pid, "?q=nothing-like-this") == []
    assert names(admin, pid, "?tag=auth") == ["Login works", "Logout"]
    assert names(admin, pid, "?tag=smoke") == ["Login works", "Checkout"]
    assert names(admin, pid, "?tag=sm") == []  # tags match whole
    assert names(admin, pid, "?code=assert token") == ["Login works"]
    assert names(admin, pid, "?code=ASSERT Token") == ["Login works"]  # on every backend
    assert names(admin, pid, "?code=def test_") == names(admin, pid)
    assert len(names(admin, pid)) == 6
    assert names(admin, pid, "?q=login&tag=auth") == ["Login works"]
    assert names(admin, pid, "?q=log&tag=auth&code=pass") == ["Logout"]
    assert names(admin, pid, "?q=checkout&tag=auth") == []
    listed = listing(admin, pid, "?tag=smoke&code=assert")
    assert [c["name"] for c in listed["items"]] == ["Login works", "Checkout"]
    assert listed["total"] == 2

    # LIKE wildcards in the search are plain characters.
    assert names(admin, pid, "?q=100%25") == ["Discount 100%"]
    assert names(admin, pid, "?q=%25") == ["Discount 100%"]
    assert names(admin, pid, "?q=e_t") == ["price_total"]
    assert names(admin, pid, "?q=_") == ["price_total"]
    assert names(admin, pid, "?code=%25d") == ["Checkout"]
    assert names(admin, pid, "?code=a_b") == ["Discount 100%"]
    assert names(admin, pid, "?code=/") == ["price_total"]  # SQLAlchemy's escape character
    assert names(admin, pid, "?code=%5C") == []
    assert names(admin, pid, "?tag=%25") == []


def test_search_looks_in_name_description_code_and_tags(admin: Api) -> None:
    pid = make_project(admin)["id"]
    make_case(admin, pid, name="Login works", code="def test_a():\n    pass\n")
    make_case(admin, pid, name="Logout", description="Ends the LOGIN session")
    make_case(admin, pid, name="Checkout", code="def test_c():\n    assert login_token\n")
    make_case(admin, pid, name="Payments", tags=["web-login", "smoke"])
    make_case(admin, pid, name="Discount 100%", tags=["price_rules"])
    make_case(admin, pid, name="Refunds", code="def test_r():\n    pass\n")

    everywhere = ["Login works", "Logout", "Checkout", "Payments"]
    assert names(admin, pid, "?search=login") == everywhere
    assert names(admin, pid, "?search=LOGIN") == everywhere
    assert names(admin, pid, "?search=smoke") == ["Payments"]  # a tag, in part or whole
    assert names(admin, pid, "?search=SMO") == ["Payments"]
    assert names(admin, pid, "?search=assert login") == ["Checkout"]
    assert names(admin, pid, "?search=nothing-like-this") == []
    # It combines with the other filters, and LIKE wildcards are plain characters.
    assert names(admin, pid, "?search=login&tag=smoke") == ["Payments"]
    assert names(admin, pid, "?search=log&code=login_token") == ["Checkout"]
    assert names(admin, pid, "?search=100%25") == ["Discount 100%"]
    assert names(admin, pid, "?search=e_r") == ["Discount 100%"]
    listed = listing(admin, pid, "?search=login&per_page=2")
    assert listed["total"] == 4
    assert len(listed["items"]) == 2


def test_pagination_and_order(admin: Api) -> None:
    pid = make_project(admin)["id"]
    for name in ["b", "d", "a", "e", "c"]:
        make_case(admin, pid, name=name)

    first = listing(admin, pid, "?per_page=2")
    assert (first["total"], first["page"], first["per_page"]) == (5, 1, 2)
    assert [c["name"] for c in first["items"]] == ["b", "d"]  # by id by default
    assert names(admin, pid, "?per_page=2&page=2") == ["a", "e"]
    assert names(admin, pid, "?per_page=2&page=3") == ["c"]
    beyond = listing(admin, pid, "?per_page=2&page=4")
    assert beyond["items"] == [] and beyond["total"] == 5
    assert names(admin, pid, "?order=name") == ["a", "b", "c", "d", "e"]
    assert names(admin, pid, "?order=-name") == ["e", "d", "c", "b", "a"]
    assert names(admin, pid, "?order=-name&per_page=2&page=2") == ["c", "b"]
    assert listing(admin, pid)["per_page"] == 50

    for query, field in [
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("per_page=-1", "per_page"),
        ("per_page=201", "per_page"),
        ("page=x", "page"),
        ("order=code", "order"),
        ("order=-password", "order"),
    ]:
        body = admin.expect(422, "GET", f"{cases_path(pid)}?{query}")
        assert body["error"] == "invalid" and body["field"] == field, query


def test_copy(admin: Api) -> None:
    pid = make_project(admin)["id"]
    original = make_case(
        admin,
        pid,
        name="Login works",
        description="d",
        tags=["smoke", "auth"],
        path="tests/auth/test_login.py",
    )
    copy = admin.post(f"{cases_path(pid)}/{original['id']}/copy")
    assert copy["id"] != original["id"]
    assert copy["name"] == "Login works (copy)"
    assert copy["path"] not in (original["path"], "")
    assert re.fullmatch(r"tests/test_[a-z0-9_]+\.py", copy["path"])
    for key in ("code", "description", "tags"):
        assert copy[key] == original[key], key
    assert copy["version"] == 1

    again = admin.post(f"{cases_path(pid)}/{original['id']}/copy")
    assert again["name"] == "Login works (copy)"
    assert again["path"] not in (original["path"], copy["path"])
    named = admin.post(
        f"{cases_path(pid)}/{original['id']}/copy",
        {"name": "Login v2", "path": "tests/auth/test_login_v2.py"},
    )
    assert (named["name"], named["path"]) == ("Login v2", "tests/auth/test_login_v2.py")
    body = admin.expect(
        409, "POST", f"{cases_path(pid)}/{original['id']}/copy", json={"path": original["path"]}
    )
    assert body["field"] == "path"
    assert listing(admin, pid)["total"] == 4
    assert admin.get(f"{cases_path(pid)}/{original['id']}") == original


def test_update_with_a_stale_version_is_409_and_changes_nothing(admin: Api) -> None:
    pid = make_project(admin)["id"]
    case = make_case(admin, pid, name="Original", tags=["a"])
    path = f"{cases_path(pid)}/{case['id']}"

    saved = admin.patch(path, {"code": "def test_new():\n    pass\n", "version": 1})
    assert saved["version"] == 2
    stale = {"name": "Mine", "code": "def test_mine():\n    pass\n", "tags": ["b"], "version": 1}
    body = admin.expect(409, "PATCH", path, json=stale)
    assert body["error"] == "conflict" and body["field"] == "version"
    assert admin.get(path) == public_case(saved)
    body = admin.expect(409, "PATCH", path, json={**stale, "version": 3})  # from the future
    assert body["field"] == "version"

    current = admin.patch(path, {**stale, "version": 2})
    assert current["version"] == 3
    assert (current["name"], current["tags"]) == ("Mine", ["b"])
    assert current["code"] == stale["code"]
    assert admin.get(path) == public_case(current)
    assert admin.patch(path, {"description": "no version given"})["version"] == 4


def test_tags_are_validated(admin: Api) -> None:
    pid = make_project(admin)["id"]
    case = make_case(admin, pid, tags=["smoke"])
    path = f"{cases_path(pid)}/{case['id']}"
    bad_tags = [
        ["two words"],
        ["a,b"],
        [""],
        ["   "],
        ["x" * 51],
        ["tab\there"],
        ["ok", "bell\x07"],
        [f"t{n}" for n in range(21)],
    ]
    for tags in bad_tags:
        body = admin.expect(422, "POST", cases_path(pid), json={"name": "T", "tags": tags})
        assert body["error"] == "invalid" and body["field"] == "tags", tags
        body = admin.expect(422, "PATCH", path, json={"tags": tags})
        assert body["field"] == "tags", tags
    assert listing(admin, pid)["items"] == [case]

    twenty = [f"t{n:02}" for n in range(20)]
    assert admin.patch(path, {"tags": twenty})["tags"] == twenty
    cleaned = admin.patch(path, {"tags": [" api ", "api", "UI", "\u767b\u5f55"]})["tags"]
    assert cleaned == ["UI", "api", "\u767b\u5f55"]  # trimmed, unique, sorted
    assert names(admin, pid, "?tag=api") == [case["name"]]
    assert admin.patch(path, {"tags": []})["tags"] == []
    # Tags come back sorted, in the answer to a change as in every later read.
    admin.patch(path, {"tags": ["smoke"]})
    in_order = ["alpha", "smoke", "zeta"]
    assert admin.patch(path, {"tags": ["zeta", "smoke", "alpha"]})["tags"] == in_order
    assert admin.get(path)["tags"] == in_order


def test_deleting_a_case_removes_it_from_every_plan(admin: Api) -> None:
    pid = make_project(admin)["id"]
    a, b, c = (make_case(admin, pid)["id"] for _ in range(3))
    first = make_plan(admin, pid, case_ids=[a, b, c])
    second = make_plan(admin, pid, case_ids=[b, a])
    third = make_plan(admin, pid, case_ids=[c])

    admin.delete(f"{cases_path(pid)}/{b}")
    plans = f"/projects/{pid}/plans"
    assert admin.get(f"{plans}/{first['id']}")["case_ids"] == [a, c]
    assert admin.get(f"{plans}/{second['id']}")["case_ids"] == [a]
    assert admin.get(f"{plans}/{third['id']}")["case_ids"] == [c]
    # The plan's list stays usable: adding and reordering see only the cases left.
    body = admin.post(f"{plans}/{first['id']}/cases", {"case_ids": [c]}, status=422)
    assert body["field"] == "case_ids"
    assert admin.put(f"{plans}/{first['id']}/cases", {"case_ids": [c, a]})["case_ids"] == [c, a]


def test_unknown_case_is_404(admin: Api) -> None:
    pid = make_project(admin)["id"]
    other = make_project(admin)["id"]
    foreign = make_case(admin, other)
    for cid in (999999, foreign["id"]):
        for method, suffix, json in [
            ("GET", "", None),
            ("PATCH", "", {"name": "x"}),
            ("DELETE", "", None),
            ("POST", "/copy", None),
        ]:
            body = admin.expect(404, method, f"{cases_path(pid)}/{cid}{suffix}", json=json)
            assert body["error"] == "not_found", (method, cid)
    assert admin.expect(404, "GET", cases_path(999999))["error"] == "not_found"
    assert listing(admin, other)["items"] == [foreign]
    assert listing(admin, pid)["total"] == 0
