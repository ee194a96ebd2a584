"""Staff accounts: `kiosk user create`, sign-in and out, lockout, throttling, idle timeout."""

import threading

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select, update

from kiosk.accounts.users import LoginRefused, authenticate
from kiosk.schema import users
from tests.desk.conftest import PASSWORD, SignedIn, form_csrf, sign_in

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def stored_user(app, username):
    with app.extensions["office"]["engine"].connect() as conn:
        return conn.execute(select(users).where(users.c.username == username)).one()


@sqlite_only
def test_user_create_asks_twice_and_keeps_only_a_scrypt_hash(app, runner):
    result = runner.invoke(
        args=["user", "create", "--role", "clerk", "--username", "Jan.Peeters"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created clerk jan.peeters" in result.output
    row = stored_user(app, "jan.peeters")
    assert row.role == "clerk" and row.password_hash.startswith("scrypt:")
    assert PASSWORD not in row.password_hash

    mismatch = runner.invoke(
        args=["user", "create", "--role", "clerk", "--username", "els"], input=f"{PASSWORD}\nsomething else\n"
    )
    assert mismatch.exit_code != 0


@sqlite_only
@pytest.mark.parametrize(
    "args, password, message",
    [
        (["--role", "supervisor", "--username", "els"], "short", "at least 10"),
        (["--role", "admin", "--username", "els"], PASSWORD, "admin"),
        (["--role", "clerk", "--username", "e l s"], PASSWORD, "user name"),
    ],
)
def test_user_create_refuses_with_a_reason(runner, args, password, message):
    result = runner.invoke(args=["user", "create", *args, "--password-stdin"], input=password + "\n")
    assert result.exit_code != 0 and message in result.output


@sqlite_only
def test_user_create_from_a_script_and_a_taken_name(app, runner, client):
    create = ["user", "create", "--role", "facility", "--username", "fm", "--password-stdin"]
    assert runner.invoke(args=create, input=PASSWORD + "\n").exit_code == 0
    again = runner.invoke(args=create, input=PASSWORD + "\n")
    assert again.exit_code != 0 and "taken" in again.output
    assert sign_in(client, "fm").status_code == 302


@sqlite_only
def test_sign_in_leads_to_the_desk_and_sign_out_ends_it(client, staff):
    assert client.get("/desk/").headers["Location"] == "/login?next=/desk/"
    response = sign_in(client, "clerk")
    assert response.status_code == 302 and response.headers["Location"] == "/desk/"
    desk = client.get("/desk/")
    assert desk.status_code == 200 and "clerk" in desk.get_data(as_text=True)
    logout = client.post("/logout", data={"csrf_token": form_csrf(desk.get_data(as_text=True))})
    assert logout.status_code == 302
    assert client.get("/desk/").status_code == 302


@sqlite_only
def test_sign_in_goes_back_only_to_a_page_of_this_site(client, staff):
    page = client.get("/login?next=/desk/2/")
    assert 'name="next" value="/desk/2/"' in page.get_data(as_text=True)
    ok = client.post(
        "/login",
        data={
            "username": "clerk",
            "password": PASSWORD,
            "next": "/desk/2/?x=1",
            "csrf_token": form_csrf(page.get_data(as_text=True)),
        },
    )
    assert ok.headers["Location"] == "/desk/2/?x=1"
    client.post("/logout")
    # Browsers drop tabs and newlines and read a backslash as "/": each could lead elsewhere.
    for target in (
        "//evil.example/",
        "/\t/evil.example/",
        "/\n/x",
        "/\r/x",
        "/\x00/x",
        "/\x7f/x",
        " //evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/desk/\\..\\",
        "https:evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "desk/",
        "//",
        "",
    ):
        page = client.get("/login", query_string={"next": target})
        assert 'name="next"' not in page.get_data(as_text=True), repr(target)
        elsewhere = client.post(
            "/login",
            data={
                "username": "clerk",
                "password": PASSWORD,
                "next": target,
                "csrf_token": form_csrf(page.get_data(as_text=True)),
            },
        )
        assert elsewhere.headers["Location"] == "/desk/", repr(target)
        client.post("/logout")


def expired_csrf(app, client, age_s: int = 2 * 3600) -> str:
    """The form token the server would have drawn into a page `age_s` seconds ago."""

    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - age_s

    with client.session_transaction() as session:
        raw = session["csrf_token"]
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token", signer=Earlier).dumps(raw)


@sqlite_only
def test_sign_out_works_with_an_expired_or_missing_token(app, client, staff):
    clerk = SignedIn(client, "clerk")
    stale = expired_csrf(app, client)
    # The stale token really is refused where it matters: a desk action.
    refused = clerk.post("/api/counters/1/call-next", headers={"X-CSRFToken": stale})
    assert refused.status_code == 400 and "expired" in refused.get_json()["message"]

    logout = client.post("/logout", data={"csrf_token": stale})
    assert logout.status_code == 302 and logout.headers["Location"] == "/login?signed_out=1"
    assert client.get("/desk/").status_code == 302
    assert clerk.get("/desk/1/state").status_code == 401

    SignedIn(client, "clerk")
    assert client.post("/logout").status_code == 302  # no token at all: still signed out
    assert client.get("/desk/").status_code == 302


@sqlite_only
def test_a_sign_in_page_open_too_long_asks_again_with_a_fresh_form(app, client, staff):
    client.get("/login?next=/desk/2/")
    stale = client.post(
        "/login",
        data={"username": "Clerk", "password": PASSWORD, "next": "/desk/2/", "csrf_token": expired_csrf(app, client)},
    )
    html = stale.get_data(as_text=True)
    assert stale.status_code == 400
    assert "The page was open too long; please sign in again." in html
    assert 'value="clerk"' in html and 'name="next" value="/desk/2/"' in html
    assert client.get("/desk/").status_code == 302  # not signed in
    again = client.post(
        "/login", data={"username": "clerk", "password": PASSWORD, "next": "/desk/2/", "csrf_token": form_csrf(html)}
    )
    assert again.status_code == 302 and again.headers["Location"] == "/desk/2/"


@sqlite_only
def test_the_login_form_needs_its_csrf_token(client, staff):
    response = client.post("/login", data={"username": "clerk", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/desk/").status_code == 302


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes_on_every_instance(
    app, app_config, database_url, client, staff, clock
):
    for _ in range(4):
        assert sign_in(client, "clerk", "wrong password!").status_code == 401
    assert sign_in(client, "clerk").status_code == 302  # a success resets the count
    client.post("/logout", data={"csrf_token": form_csrf(client.get("/login").get_data(as_text=True))})
    for attempt in range(5):
        response = sign_in(client, "clerk", "wrong password!")
        assert response.status_code == 401
        assert ("locked" in response.get_data(as_text=True)) == (attempt == 4)
    refused = sign_in(client, "clerk")  # the right password, but locked
    assert refused.status_code == 401 and "Try again in 15 minutes" in refused.get_data(as_text=True)

    # Another app instance on the same database sees the lock.
    from kiosk import create_app

    other = create_app({**app_config, "DATABASE_URL": database_url})
    try:
        assert sign_in(other.test_client(), "clerk").status_code == 401
        clock.advance(minutes=15)
        assert sign_in(other.test_client(), "clerk").status_code == 302
    finally:
        other.extensions["office"]["engine"].dispose()
    assert stored_user(app, "clerk").failed_logins == 0


def test_parallel_guesses_stop_at_the_lock(app, staff, clock):
    engine = app.extensions["office"]["engine"]
    start = threading.Barrier(12)
    outcomes = []

    def guess():
        start.wait()
        try:
            authenticate(engine, "clerk", "wrong password!", clock())
        except LoginRefused as refused:
            outcomes.append(refused.locked_until is not None)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 12 and sum(not locked for locked in outcomes) <= 4  # at most 4 plain "wrong"
    with pytest.raises(LoginRefused) as refused:
        authenticate(engine, "clerk", PASSWORD, clock())
    assert refused.value.locked_until is not None


@sqlite_only
def test_unknown_user_and_wrong_password_get_the_same_answer(client, staff):
    unknown = sign_in(client, "nobody", "wrong password!")
    wrong = sign_in(client, "clerk", "wrong password!")
    assert unknown.status_code == wrong.status_code == 401
    assert "Wrong user name or password." in unknown.get_data(as_text=True)
    assert "Wrong user name or password." in wrong.get_data(as_text=True)


@sqlite_only
def test_many_failures_from_one_address_are_throttled(app, client, staff):
    app.extensions["office"]["login_throttle"].limit = 3
    for name in ("a1", "a2", "a3"):
        assert sign_in(client, name, "guess guess").status_code == 401
    assert sign_in(client, "clerk").status_code == 429  # even the right password, from there
    other_address = sign_in(app.test_client(), "clerk", REMOTE_ADDR="192.0.2.7")
    assert other_address.status_code == 302


@sqlite_only
def test_thirty_idle_minutes_sign_the_clerk_out(app, client, staff, clock):
    clerk = SignedIn(client, "clerk")
    clock.advance(minutes=25)
    assert clerk.get("/desk/1/state").status_code == 200  # an action: counts as activity
    clock.advance(minutes=25)
    assert clerk.get("/desk/1/state", headers={"X-Refresh": "auto"}).status_code == 200
    clock.advance(minutes=6)  # 31 minutes since the last action; screen refreshes do not count
    assert clerk.get("/desk/1/state", headers={"X-Refresh": "auto"}).status_code == 401
    assert client.get("/desk/1/").status_code == 302


@sqlite_only
def test_a_disabled_account_loses_its_session_at_once(app, client, staff):
    clerk = SignedIn(client, "clerk")
    assert clerk.get("/desk/1/state").status_code == 200
    with app.extensions["office"]["engine"].begin() as conn:
        conn.execute(update(users).where(users.c.username == "clerk").values(disabled=True))
    assert clerk.get("/desk/1/state").status_code == 401
    assert sign_in(app.test_client(), "clerk").status_code == 401


def test_the_throttle_forgets_old_failures_and_stale_addresses():
    from kiosk.accounts.throttle import LoginThrottle

    throttle = LoginThrottle(limit=1, window_s=3600, addresses=2)
    throttle.failed("192.0.2.1")
    assert throttle.blocked("192.0.2.1") and not throttle.blocked("192.0.2.2")
    forgetful = LoginThrottle(limit=1, window_s=0, addresses=2)  # every failure is already old
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        forgetful.failed(address)
    assert not forgetful.blocked("192.0.2.3")
    assert len(forgetful._failures) <= 2
