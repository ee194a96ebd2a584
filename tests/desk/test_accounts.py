"""Staff accounts: `kiosk user create` and `unlock`, sign-in and out, delays after failures,
throttling, idle timeout."""

import datetime as dt
import logging
import re
import threading

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select, update

from kiosk.accounts.users import FREE_FAILURES, LoginRefused, authenticate, delay_after
from kiosk.schema import login_failures, users
from tests.desk.conftest import PASSWORD, SignedIn, form_csrf, sign_in

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# The clerk's own desk PC, and a computer elsewhere in the network that guesses.
DESK, ELSEWHERE = "192.0.2.10", "198.51.100.66"
WRONG = "wrong password!"


def stored_user(app, username):
    with app.extensions["office"]["engine"].connect() as conn:
        return conn.execute(select(users).where(users.c.username == username)).one()


def failures_of(app, username, address):
    """The stored count and delay of an account at an address, or None when there is none."""
    with app.extensions["office"]["engine"].connect() as conn:
        return conn.execute(
            select(login_failures.c.failures, login_failures.c.delayed_until)
            .join(users)
            .where(users.c.username == username, login_failures.c.address == address)
        ).first()


def refusal(response) -> tuple[int, str]:
    """What a refused sign-in shows: its status and page, without the echoed user name and
    the form token (the same for every refusal in one session anyway)."""
    html = response.get_data(as_text=True)
    html = re.sub(r'(name="username"[^>]*value=")[^"]*"', r'\1"', html)
    return response.status_code, re.sub(r'name="csrf_token" value="[^"]+"', "", html)


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
def test_a_copy_of_the_cookie_stops_working_at_sign_out(app, client, staff):
    sign_in(client, "clerk")
    cookie = client.get_cookie("session").value
    copy = app.test_client()
    copy.set_cookie("session", cookie)
    assert copy.get("/desk/").status_code == 200  # the copy signs in while the session lasts
    client.post("/logout")
    assert copy.get("/desk/").status_code == 302  # ended on the server, not only in one browser
    sign_in(client, "clerk")
    assert copy.get("/desk/").status_code == 302  # a new sign-in is a new session


@pytest.mark.parametrize(
    "public_url, secure", [("https://snelbalie.gemeente.example", True), ("http://127.0.0.1:8080", False)]
)
def test_the_session_cookie_is_secure_over_https(tmp_path, public_url, secure):
    from kiosk import create_app
    from tests.sites import site_variant

    site = site_variant(tmp_path, ('public_url = "http://127.0.0.1:8080"', f'public_url = "{public_url}"'))
    assert create_app({"SITE": str(site), "DATA_DIR": str(tmp_path)}).config["SESSION_COOKIE_SECURE"] is secure


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


def test_delays_double_from_one_second_to_fifteen_minutes():
    schedule = [delay_after(failures).total_seconds() for failures in range(1, 16)]
    assert schedule == [0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
    assert delay_after(10**6) == dt.timedelta(minutes=15)


def test_guesses_from_elsewhere_never_lock_the_clerk_out_at_their_desk(app, client, staff, clock):
    for _ in range(12):
        assert sign_in(client, "clerk", WRONG, REMOTE_ADDR=ELSEWHERE).status_code == 401
    assert sign_in(client, "clerk", REMOTE_ADDR=ELSEWHERE).status_code == 401  # waits: the password is not checked
    # The guesser only slowed down their own attempts: those past the third were not even counted.
    assert failures_of(app, "clerk", ELSEWHERE).failures == FREE_FAILURES

    at_desk = app.test_client()
    assert sign_in(at_desk, "clerk", REMOTE_ADDR=DESK).status_code == 302
    assert at_desk.get("/desk/", environ_base={"REMOTE_ADDR": DESK}).status_code == 200
    # The clerk's success clears only the desk's count, never the guesser's.
    assert failures_of(app, "clerk", DESK) is None
    assert failures_of(app, "clerk", ELSEWHERE).failures == FREE_FAILURES


def test_delays_grow_and_pass_with_the_clock_on_every_instance(app, app_config, database_url, client, staff, clock):
    def attempt(password=WRONG, on=client) -> int:
        return sign_in(on, "clerk", password, REMOTE_ADDR=ELSEWHERE).status_code

    for _ in range(FREE_FAILURES):
        assert attempt() == 401
    for failures, delay_s in ((3, 1), (4, 2), (5, 4), (6, 8), (7, 16)):
        clock.advance(seconds=delay_s - 0.5)
        assert attempt(PASSWORD) == 401  # still waiting: even the right password is refused, and not counted
        assert failures_of(app, "clerk", ELSEWHERE).failures == failures
        clock.advance(seconds=0.5)
        assert attempt() == 401  # waited out: this guess is checked and counted
        assert failures_of(app, "clerk", ELSEWHERE).failures == failures + 1
    while (stored := failures_of(app, "clerk", ELSEWHERE)).delayed_until - clock() < dt.timedelta(minutes=15):
        clock.now = stored.delayed_until
        assert attempt() == 401
    assert stored.delayed_until - clock() == dt.timedelta(minutes=15)  # the cap
    clock.advance(minutes=15)
    assert attempt() == 401
    assert failures_of(app, "clerk", ELSEWHERE).delayed_until - clock() == dt.timedelta(minutes=15)

    # Another app instance on the same database sees the delay, and its end.
    from kiosk import create_app

    other = create_app({**app_config, "DATABASE_URL": database_url})
    try:
        clock.advance(minutes=14)
        assert attempt(PASSWORD, other.test_client()) == 401
        clock.advance(minutes=1)
        assert attempt(PASSWORD, other.test_client()) == 302
    finally:
        other.extensions["office"]["engine"].dispose()
    assert failures_of(app, "clerk", ELSEWHERE) is None  # a success clears the count


def test_parallel_guesses_stop_at_the_delay(app, staff, clock):
    engine = app.extensions["office"]["engine"]
    start = threading.Barrier(12)
    refused = []

    def guess():
        start.wait()
        try:
            authenticate(engine, "clerk", WRONG, clock(), address=ELSEWHERE)
        except LoginRefused:
            refused.append(True)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(refused) == 12
    assert failures_of(app, "clerk", ELSEWHERE).failures == FREE_FAILURES  # only these were checked
    with pytest.raises(LoginRefused):
        authenticate(engine, "clerk", PASSWORD, clock(), address=ELSEWHERE)
    clock.advance(seconds=1)
    assert authenticate(engine, "clerk", PASSWORD, clock(), address=ELSEWHERE).username == "clerk"


@sqlite_only
def test_every_refusal_gets_the_same_answer(app, client, staff):
    with app.extensions["office"]["engine"].begin() as conn:
        conn.execute(update(users).where(users.c.username == "facility").values(disabled=True))
    unknown = sign_in(client, "nobody", WRONG)
    wrong = sign_in(client, "clerk", WRONG)
    disabled = sign_in(client, "facility")  # the right password of a disabled account
    for _ in range(FREE_FAILURES):
        sign_in(client, "supervisor", WRONG)
    waiting = sign_in(client, "supervisor")  # the right password, during the delay
    answers = {refusal(response) for response in (unknown, wrong, disabled, waiting)}
    assert len(answers) == 1
    ((status, html),) = answers
    assert status == 401
    assert "Wrong user name or password, or too many attempts. Wait a moment and try again." in html
    assert "supervisor" not in html and "locked" not in html


@sqlite_only
def test_a_supervisor_unlocks_an_account_from_the_command_line(app, runner, client, staff, clock, caplog):
    for address in (DESK, ELSEWHERE):
        for _ in range(FREE_FAILURES + 2):
            sign_in(client, "clerk", WRONG, REMOTE_ADDR=address)
    assert sign_in(client, "clerk", REMOTE_ADDR=DESK).status_code == 401
    sign_in(client, "supervisor", WRONG, REMOTE_ADDR=DESK)  # another account's count stays

    caplog.set_level(logging.INFO, logger="kiosk.accounts")
    result = runner.invoke(args=["user", "unlock", "--username", "Clerk"])
    assert result.exit_code == 0, result.output
    assert "Cleared the sign-in delays of clerk (2 address(es))." in result.output
    (record,) = [r for r in caplog.records if r.name.startswith("kiosk.accounts")]
    logged = record.getMessage()
    assert "account clerk" in logged and "(command line)" in logged
    assert DESK not in logged and ELSEWHERE not in logged

    # At once, the same moment: no delay left at either address.
    assert failures_of(app, "clerk", ELSEWHERE) is None
    assert sign_in(client, "clerk", REMOTE_ADDR=DESK).status_code == 302
    assert failures_of(app, "supervisor", DESK).failures == 1

    unknown = runner.invoke(args=["user", "unlock", "--username", "nobody"])
    assert unknown.exit_code != 0 and "There is no account 'nobody'." in unknown.output


@sqlite_only
def test_an_address_quiet_for_a_day_is_forgotten(app, client, staff, clock):
    sign_in(client, "clerk", WRONG, REMOTE_ADDR=ELSEWHERE)
    clock.advance(days=1, seconds=1)
    sign_in(client, "clerk", WRONG, REMOTE_ADDR=DESK)  # a new address for the account: stale ones go
    assert failures_of(app, "clerk", ELSEWHERE) is None
    assert failures_of(app, "clerk", DESK).failures == 1


@sqlite_only
def test_many_failures_from_one_address_are_throttled(app, client, staff):
    from kiosk.throttle import Throttle

    app.extensions["office"]["login_throttle"] = Throttle("3/10 minutes")
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
