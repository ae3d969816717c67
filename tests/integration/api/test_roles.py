"""The role matrix: every project-scoped route, and every admin route, for every role.

A viewer reads, a runner also runs, an editor also edits, an owner also manages members
and deletes the project; an administrator may do everything, member or not. A member
whose role is too low gets 403; someone who is not a member gets 404, so that other
teams' project ids do not leak. ``ROUTES`` is the table: a new route is one line, and
``test_the_table_lists_every_route`` fails until it is there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tests.factories import (
    make_case,
    make_channel,
    make_environment,
    make_fixture_module,
    make_plan,
    make_project,
    make_user,
    make_variable,
    start_run,
    unique,
    wait_for_run,
)
from tests.support.api import PASSWORD, PREFIX, Api
from testyard.api.app import create_app
from testyard.config import Settings

#: Who acts, weakest first: a user who is not a member, each project role, and an
#: administrator who is not a member either.
ACTORS = ["outsider", "viewer", "runner", "editor", "owner", "admin"]
RANK = {actor: rank for rank, actor in enumerate(ACTORS)}


VIEWER, RUNNER, EDITOR, OWNER, ADMIN = "viewer", "runner", "editor", "owner", "admin"
SUCCESS = {"GET": 200, "POST": 201, "PUT": 200, "PATCH": 200, "DELETE": 204}


@dataclass(frozen=True)
class Route:
    """One row: ``path`` is formatted with a ``World``'s attributes, ``body`` is a JSON
    value or a function of the ``World``; ``needs`` is the weakest actor allowed, who
    gets ``status`` (by default the method's usual success)."""

    method: str
    path: str
    needs: str
    body: Any = None
    status: int | None = None
    error: str | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    def json(self, world: World) -> Any:
        return self.body(world) if callable(self.body) else self.body

    @property
    def success(self) -> int:
        return self.status or SUCCESS[self.method]


# fmt: off
ROUTES = [
    # Read: viewers and up.
    Route("GET", "/projects/{pid}", VIEWER),
    Route("GET", "/projects/{pid}/members", VIEWER),
    Route("GET", "/projects/{pid}/environments", VIEWER),
    Route("GET", "/projects/{pid}/environments/{eid}", VIEWER),
    Route("GET", "/projects/{pid}/environments/{eid}/variables", VIEWER),
    Route("GET", "/projects/{pid}/environments/{eid}/variables/{vid}", VIEWER),
    Route("GET", "/projects/{pid}/fixtures", VIEWER),
    Route("GET", "/projects/{pid}/fixtures/{fid}", VIEWER),
    Route("GET", "/projects/{pid}/cases", VIEWER),
    Route("GET", "/projects/{pid}/cases/{cid}", VIEWER),
    Route("GET", "/projects/{pid}/plans", VIEWER),
    Route("GET", "/projects/{pid}/plans/{plid}", VIEWER),
    Route("GET", "/projects/{pid}/runs", VIEWER),
    Route("GET", "/runs/{rid}", VIEWER),
    Route("GET", "/runs/{rid}/results", VIEWER),
    Route("GET", "/runs/{rid}/snapshot", VIEWER),
    Route("GET", "/runs/{rid}/artifacts/{artifact}", VIEWER),
    Route("GET", "/runs/{rid}/artifacts/report.html", VIEWER, status=200),  # made anew each time
    # Without ?environment= an export is a 400 for whoever may read the project.
    Route("GET", "/projects/{pid}/export", VIEWER, status=400, error="bad_request"),
    # status given: kept out of the before/after snapshot (each one runs pytest).
    Route("GET", "/projects/{pid}/cases/{cid}/fixture-plan", VIEWER, status=200),
    Route("GET", "/projects/{pid}/plans/{plid}/fixture-plan", VIEWER, status=200),
    Route("GET", "/projects/{pid}/stats/flaky", VIEWER),
    Route("GET", "/projects/{pid}/stats/slowest", VIEWER),
    Route("GET", "/projects/{pid}/stats/failures", VIEWER),
    Route("GET", "/projects/{pid}/cases/{cid}/history", VIEWER),
    Route("GET", "/projects/{pid}/plans/{plid}/trend", VIEWER),
    Route("GET", "/projects/{pid}/plans/{plid}/schedule", VIEWER),
    Route("GET", "/projects/{pid}/plans/{plid}/fires", VIEWER),
    # A preview reads nothing and writes nothing: whoever may read the project.
    Route("POST", "/projects/{pid}/plans/schedule-preview", VIEWER,
          {"kind": "cron", "expression": "0 2 * * 1-5"}, status=200),
    Route("GET", "/projects/{pid}/plans/{plid}/watches", VIEWER),
    Route("GET", "/projects/{pid}/watches/{wid}", VIEWER),
    Route("GET", "/projects/{pid}/channels", VIEWER),
    Route("GET", "/projects/{pid}/channels/{chid}", VIEWER),
    Route("GET", "/projects/{pid}/channels/{chid}/deliveries", VIEWER),
    Route("GET", "/runs/{rid}/notifications", VIEWER),
    # Run: runners and up. Cancelling a finished run is a 409 for whoever may cancel.
    Route("POST", "/projects/{pid}/runs", RUNNER, lambda w: {"case_ids": [w.cid]}, status=202),
    Route("POST", "/runs/{rid}/cancel", RUNNER, status=409, error="invalid_transition"),
    # The world's run passed: re-running its failures is a 400 for whoever may run.
    Route("POST", "/runs/{rid}/rerun", RUNNER, {"failed_only": True}, status=400,
          error="bad_request"),
    # A normal plan cannot be watched: whoever may start a watch gets the 422.
    Route("POST", "/projects/{pid}/plans/{plid}/watches", RUNNER, {}, status=422,
          error="invalid"),
    Route("POST", "/projects/{pid}/watches/{wid}/cancel", RUNNER, status=200),
    Route("POST", "/projects/{pid}/channels/{chid}/test", RUNNER, status=202),
    # Edit: editors and up.
    Route("PATCH", "/projects/{pid}", EDITOR, {"description": "new"}),
    Route("POST", "/projects/{pid}/environments", EDITOR, {"name": "staging"}),
    Route("PATCH", "/projects/{pid}/environments/{eid}", EDITOR, {"description": "new"}),
    Route("DELETE", "/projects/{pid}/environments/{eid}", EDITOR),
    Route("POST", "/projects/{pid}/environments/{eid}/variables", EDITOR, {"name": "NEW"}),
    Route("PATCH", "/projects/{pid}/environments/{eid}/variables/{vid}", EDITOR, {"value": "1"}),
    Route("DELETE", "/projects/{pid}/environments/{eid}/variables/{vid}", EDITOR),
    Route("POST", "/projects/{pid}/environments/{eid}/variables/{vid}/reveal", EDITOR,
          status=200),
    Route("POST", "/projects/{pid}/fixtures", EDITOR, {"name": "db", "path": "fixtures/db.py"}),
    Route("PATCH", "/projects/{pid}/fixtures/{fid}", EDITOR, {"description": "new"}),
    Route("DELETE", "/projects/{pid}/fixtures/{fid}", EDITOR),
    Route("POST", "/projects/{pid}/cases", EDITOR, {"name": "login"}),
    Route("PATCH", "/projects/{pid}/cases/{cid}", EDITOR, {"tags": ["smoke"]}),
    Route("POST", "/projects/{pid}/cases/{cid}/copy", EDITOR),
    Route("DELETE", "/projects/{pid}/cases/{cid}", EDITOR),
    Route("POST", "/projects/{pid}/plans", EDITOR, {"name": "nightly"}),
    Route("PATCH", "/projects/{pid}/plans/{plid}", EDITOR, {"retries": 1}),
    Route("DELETE", "/projects/{pid}/plans/{plid}", EDITOR),
    Route("POST", "/projects/{pid}/plans/{plid}/cases", EDITOR,
          lambda w: {"case_ids": [w.spare_cid]}, status=200),
    Route("PUT", "/projects/{pid}/plans/{plid}/cases", EDITOR, lambda w: {"case_ids": [w.cid]}),
    Route("DELETE", "/projects/{pid}/plans/{plid}/cases/{cid}", EDITOR, status=200),
    Route("POST", "/projects/{pid}/channels", EDITOR,
          {"name": "ops", "kind": "slack", "url": "https://hooks.slack.com/services/T/B/x"}),
    Route("PATCH", "/projects/{pid}/channels/{chid}", EDITOR, {"enabled": False}),
    Route("DELETE", "/projects/{pid}/channels/{chid}", EDITOR),
    # Own: owners and up.
    Route("POST", "/projects/{pid}/members", OWNER,
          lambda w: {"user_id": w.stranger_uid, "role": "viewer"}),
    Route("PUT", "/projects/{pid}/members/{member_uid}", OWNER, {"role": "runner"}),
    Route("DELETE", "/projects/{pid}/members/{member_uid}", OWNER),
    Route("DELETE", "/projects/{pid}", OWNER),
    # Administer: administrators only, whatever their projects.
    Route("GET", "/users", ADMIN),
    Route("POST", "/users", ADMIN, lambda w: {"username": unique("new"), "password": PASSWORD}),
    Route("GET", "/users/{stranger_uid}", ADMIN),
    Route("PATCH", "/users/{stranger_uid}", ADMIN, {"is_active": False}),
    Route("DELETE", "/users/{stranger_uid}", ADMIN),
]
# fmt: on


class Cast:
    """The users of one test: the built-in admin, the project owner, one account per other
    role, each logged in once (argon2 is slow on purpose)."""

    def __init__(self, admin: Api) -> None:
        self.admin = admin
        self.owner = make_user(admin)
        self.api = {"admin": admin, "owner": self.owner}
        self.ids: dict[str, int] = {}
        for role in ("outsider", "viewer", "runner", "editor"):
            self.api[role] = make_user(admin, unique(role))
            self.ids[role] = self.api[role].get("/me")["id"]


class World:
    """One project, owned by the cast's owner, with a member of each role, and one of each
    object, made on first use (``format_map`` reads attributes). An allowed write may
    have changed what the next row needs, so it ends the world."""

    def __init__(self, cast: Cast) -> None:
        self.cast = cast
        self.owner = cast.owner
        self.pid = make_project(self.owner)["id"]
        for role in ("viewer", "runner", "editor"):
            body = {"user_id": cast.ids[role], "role": role}
            self.owner.post(f"/projects/{self.pid}/members", body)
        self.member_uid = cast.ids["viewer"]
        self.artifact = "log"
        self.before: dict[str, Any] | None = None

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    @cached_property
    def eid(self) -> int:
        return int(make_environment(self.owner, self.pid)["id"])

    @cached_property
    def vid(self) -> int:
        variable = make_variable(self.owner, self.pid, self.eid, "TOKEN", "s3cret", secret=True)
        return int(variable["id"])

    @cached_property
    def fid(self) -> int:
        return int(make_fixture_module(self.owner, self.pid)["id"])

    @cached_property
    def cid(self) -> int:
        return int(make_case(self.owner, self.pid)["id"])

    @cached_property
    def plid(self) -> int:
        return int(make_plan(self.owner, self.pid, case_ids=[self.cid])["id"])

    @cached_property
    def rid(self) -> int:
        """A finished run of the project."""
        run_id = start_run(self.owner, self.pid, case_ids=[self.cid])
        return int(wait_for_run(self.owner, run_id)["id"])

    @cached_property
    def wid(self) -> int:
        """A watch of a staged plan (nothing ticks it: no scheduler runs in these tests)."""
        staged = make_plan(
            self.owner,
            self.pid,
            case_ids=[self.cid],
            mode="staged",
            trigger={"kind": "interval", "seconds": 60},
        )
        return int(
            self.owner.post(f"/projects/{self.pid}/plans/{staged['id']}/watches", {}, status=202)[
                "id"
            ]
        )

    @cached_property
    def chid(self) -> int:
        """A webhook channel (its test messages go nowhere: nothing listens on port 9)."""
        return int(make_channel(self.owner, self.pid, secret="s3cret")["id"])

    @cached_property
    def spare_cid(self) -> int:
        """A case that is not in the plan."""
        return int(make_case(self.owner, self.pid)["id"])

    @cached_property
    def stranger_uid(self) -> int:
        """An account that is not in the project."""
        body = {"username": unique("stranger"), "password": PASSWORD}
        return int(self.cast.admin.post("/users", body)["id"])

    def snapshot(self) -> dict[str, Any]:
        """What the owner and the admin read: every read route, and the accounts."""
        _ = self.vid, self.fid, self.plid, self.spare_cid, self.stranger_uid, self.rid, self.wid
        _ = self.chid
        reads = [r for r in ROUTES if r.method == "GET" and r.needs == VIEWER and not r.status]
        seen = {r.path: self.cast.owner.get(r.path.format_map(self)) for r in reads}
        return {**seen, "/users": self.cast.admin.get("/users")}


def expected(actor: str, route: Route) -> tuple[int, str | None]:
    """The status and error code ``actor`` gets from ``route``."""
    if actor == ADMIN or (route.needs != ADMIN and RANK[actor] >= RANK[route.needs]):
        return route.success, route.error
    if actor == "outsider" and route.needs != ADMIN:
        return 404, "not_found"
    return 403, "forbidden"


def test_each_role_gets_exactly_its_routes(admin: Api) -> None:
    """One test for the whole matrix (users are slow to make); it lists every wrong cell."""
    cast = Cast(admin)
    wrong = [line for actor in ACTORS for line in attempt_every_route(cast, actor)]
    assert not wrong, "\n".join(wrong)


def attempt_every_route(cast: Cast, actor: str) -> list[str]:
    """Call every route as ``actor``; answers what went wrong, one line per cell."""
    world: World | None = None
    wrong = []
    for route in ROUTES:
        world = world or World(cast)
        status, error = expected(actor, route)
        writes = route.method != "GET"
        if writes and error and world.before is None:
            world.before = world.snapshot()
        path = route.path.format_map(world)
        response = cast.api[actor].request(route.method, path, json=route.json(world))
        got = response.json().get("error") if response.status_code >= 400 else None
        if (response.status_code, got) != (status, error):
            wanted = f"{status} {error}" if error else str(status)
            wrong.append(f"{actor} {route}: expected {wanted}, "
                         f"got {response.status_code}: {response.text[:200]}")  # fmt: skip
        if writes and response.is_success:
            world = None  # allowed writes end the world: every row starts from the same one
    if world is not None and world.before is not None:
        now = world.snapshot()
        changed = [read for read, seen in world.before.items() if now[read] != seen]
        if changed:
            wrong.append(f"{actor}: writes refused to {actor} changed what {changed} answer")
    return wrong


def test_the_table_lists_every_route(tmp_path: Path) -> None:
    """Every route under a project, a run or /users is a row of ROUTES, and every row is
    a real route (placeholders compare by position: rows name their targets their way)."""

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]*\}", "{}", path.removeprefix(PREFIX))

    app = create_app(Settings(data_dir=tmp_path, database_url=None), migrate=False)
    scoped = tuple(f"{PREFIX}{prefix}" for prefix in ("/projects/{pid}", "/runs/", "/users"))
    served = {
        (method.upper(), shape(path))
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if path.startswith(scoped)
    }
    listed = [(r.method, shape(r.path)) for r in ROUTES]
    assert len(listed) == len(set(listed)), "a route is listed twice"
    assert sorted(served - set(listed)) == [], "routes missing from ROUTES: add a row each"
    assert sorted(set(listed) - served) == [], "rows of ROUTES that no router serves"
