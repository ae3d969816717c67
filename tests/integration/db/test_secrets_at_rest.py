"""Secrets at rest: the database holds secret values only sealed (variables, the
snapshot a run froze, channel secrets); the key comes from TESTYARD_SECRET_KEY or a
0600 file in the data directory; an upgrade seals what was stored in the clear."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.factories import make_environment, make_project, make_variable, run_code
from tests.integration.db.test_migrations import empty_engine  # noqa: F401 (fixture)
from tests.support.api import Api, login
from testyard import crypto
from testyard.api.app import create_app
from testyard.config import Settings
from testyard.db.engine import make_engine
from testyard.db.migrate import upgrade

SECRET = "hunter2-at-rest-0xC0FFEE"


def raw(url: str, sql: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [str(v) for v in conn.execute(text(sql)).scalars()]
    finally:
        engine.dispose()


def test_a_secret_is_sealed_in_the_database_and_still_reaches_the_test(
    admin: Api, database_url: str
) -> None:
    pid = make_project(admin)["id"]
    env = make_environment(admin, pid, "qa")
    var = make_variable(admin, pid, env["id"], "API_TOKEN", SECRET, secret=True)
    digest = hashlib.sha256(SECRET.encode()).hexdigest()  # the code must not hold the secret
    code = (
        "import hashlib, os\n\ndef test_token():\n"
        f"    assert hashlib.sha256(os.environ['API_TOKEN'].encode()).hexdigest() == {digest!r}\n"
    )
    run = run_code(admin, pid, code, environment="qa")
    assert run["status"] == "passed"

    [stored] = raw(database_url, "SELECT value FROM variables")
    assert stored.startswith(crypto.PREFIX) and SECRET not in stored
    [snapshot] = raw(database_url, "SELECT CAST(snapshot AS TEXT) FROM runs")
    assert SECRET not in snapshot
    assert json.loads(snapshot)["secrets"]["API_TOKEN"].startswith(crypto.PREFIX)
    reveal = f"/projects/{pid}/environments/{env['id']}/variables/{var['id']}/reveal"
    assert admin.post(reveal, status=200)["value"] == SECRET


def test_the_generated_key_is_private_and_kept_across_restarts(
    settings: Settings, admin: Api, client: TestClient
) -> None:
    key_file = settings.data_dir / crypto.KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    first = key_file.read_bytes()
    pid = make_project(admin)["id"]
    env = make_environment(admin, pid)
    make_variable(admin, pid, env["id"], "TOKEN", SECRET, secret=True)

    with TestClient(create_app(settings, migrate=False)) as again:
        api = Api(again, login(again, "admin", ADMIN_PASSWORD))
        [var] = api.get(f"/projects/{pid}/environments/{env['id']}/variables")
        answer = api.post(
            f"/projects/{pid}/environments/{env['id']}/variables/{var['id']}/reveal", status=200
        )
        assert answer["value"] == SECRET
    assert key_file.read_bytes() == first


def test_a_configured_key_is_used_and_another_key_cannot_read(
    settings: Settings, tmp_path: Path
) -> None:
    settings.secret_key = "a long configured secret key"
    settings.data_dir = tmp_path / "configured"
    crypto.configure(settings)
    sealed = crypto.seal(SECRET)
    assert not (settings.data_dir / crypto.KEY_FILE).exists()
    assert crypto.unseal(sealed) == SECRET

    settings.secret_key = "another long secret key"
    crypto.configure(settings)
    with pytest.raises(crypto.WrongSecretKey, match="TESTYARD_SECRET_KEY"):
        crypto.unseal(sealed)


def test_upgrading_seals_secrets_stored_in_the_clear(empty_engine: Engine) -> None:  # noqa: F811
    upgrade(empty_engine, "0009")
    snapshot = json.dumps({"cases": [], "secrets": {"TOKEN": SECRET}})
    with empty_engine.begin() as conn:
        conn.execute(text("INSERT INTO projects (id, name, description, requirements, "
                          "pytest_options, allure, created_at, updated_at) VALUES (1, 'p', '', "
                          "'', '{}', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))  # fmt: skip
        conn.execute(text("INSERT INTO environments (id, project_id, name, description, "
                          "created_at) VALUES (1, 1, 'qa', '', CURRENT_TIMESTAMP)"))  # fmt: skip
        conn.execute(text("INSERT INTO variables (id, environment_id, name, value, secret, "
                          "description) VALUES (1, 1, 'TOKEN', :v, true, '')"),
                     {"v": SECRET})  # fmt: skip
        conn.execute(text("INSERT INTO runs (id, project_id, title, source, status, workers, "
                          "dist, retries, case_ids, snapshot, created_at, last_seq, counts) "
                          "VALUES (1, 1, 't', 'api', 'passed', '0', 'no', 0, '[]', :s, "
                          "CURRENT_TIMESTAMP, 0, '{}')"), {"s": snapshot})  # fmt: skip
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        value = conn.execute(text("SELECT value FROM variables")).scalar_one()
        frozen = str(conn.execute(text("SELECT snapshot FROM runs")).scalar_one())
    assert value.startswith(crypto.PREFIX) and crypto.unseal(value) == SECRET
    assert SECRET not in frozen


def test_a_channels_secret_and_url_are_sealed(admin: Api, database_url: str) -> None:
    pid = make_project(admin)["id"]
    url = "https://oapi.dingtalk.com/robot/send?access_token=robot-token-0xBEEF"
    answer = admin.post(
        f"/projects/{pid}/channels",
        {"name": "ding", "kind": "dingtalk", "url": url, "secret": SECRET},
    )
    assert answer["secret_set"] is True and "robot-token-0xBEEF" not in str(answer)
    [(stored_url, stored_secret)] = [
        tuple(row.split("|"))
        for row in raw(database_url, "SELECT url || '|' || secret FROM channels")
    ]
    assert stored_url.startswith(crypto.PREFIX) and stored_secret.startswith(crypto.PREFIX)
    assert "robot-token-0xBEEF" not in stored_url and SECRET not in stored_secret
