"""The kiosk's trust boundary, through `kiosk serve` itself: what another machine on the
office network reaches (a network namespace joined by a veth pair), what a reverse proxy
passes on (Debian's nginx), the Host header, the modes of the files with personal data, and
the kiosk's screen while the office's listener is full of idle connections."""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from kiosk.site import DEMO_PROFILE as DEMO_SITE
from tests.sites import site_variant
from tests.system import (
    KIOSK,
    free_port,
    kiosk_env,
    missing,
    office_ready,
    require_debian_packages,
    stop_group,
    wait_until,
)

ROOT = Path(__file__).resolve().parent.parent
HOST_SIDE, OTHER_SIDE = "10.203.0.1", "10.203.0.2"  # TEST-NET-like private pair of the veth link
KIOSK_SCREENS = ["/kiosk/", "/kiosk/visit", "/kiosk/lost", "/kiosk/identify", "/kiosk/identify/number"]
KIOSK_SCREENS += ["/kiosk/check", "/kiosk/confirm", "/kiosk/ticket", "/kiosk/card", "/kiosk/dev/cards"]


def request(url: str, method: str = "GET", headers: dict | None = None, body: bytes | None = None):
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@dataclass
class Served:
    office: int
    kiosk: int
    token: str  # a kiosk token
    log: Path

    @property
    def office_url(self) -> str:
        return f"http://127.0.0.1:{self.office}"

    @property
    def kiosk_url(self) -> str:
        return f"http://127.0.0.1:{self.kiosk}"


@contextlib.contextmanager
def serving(tmp: Path, site: Path, host: str = "0.0.0.0"):
    """`kiosk init-db`, a kiosk token and `kiosk serve` on two free ports, as an office runs it."""
    env = kiosk_env(KIOSK_SITE=str(site), KIOSK_DATA_DIR=str(tmp / "data"))
    token = office_ready(env, "kiosk", "hall")
    served = Served(free_port(), free_port(), token, tmp / "serve.log")
    args = ["serve", "--host", host, "--port", str(served.office), "--kiosk-port", str(served.kiosk)]
    with open(served.log, "w") as log:
        process = subprocess.Popen(
            [*KIOSK, *args], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:

        def answers():
            assert process.poll() is None, served.log.read_text()
            with contextlib.suppress(OSError):
                return request(served.office_url + "/kiosk/health")[0] == 200
            return False

        wait_until(answers, timeout=60, interval=0.05, what="kiosk serve to answer")
        yield served
    finally:
        stop_group(process)


def with_server_table(tmp: Path, table: str) -> Path:
    return site_variant(tmp, ("[kiosk]", f"[server]\n{table}\n\n[kiosk]"))


# --- another machine on the office network ---------------------------------------------------


def _ip(*args: str, namespace: str | None = None) -> None:
    command = ["ip", "netns", "exec", namespace, "ip", *args] if namespace else ["ip", *args]
    subprocess.run(command, check=True, capture_output=True, timeout=30)


@contextlib.contextmanager
def second_machine():
    """A network namespace joined to this one by a veth pair: its requests arrive from
    OTHER_SIDE, a real non-loopback address, at HOST_SIDE."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        missing("a second machine is a network namespace: needs root and iproute2's ip")
    name = f"snelbalie-{os.getpid()}"
    here, there = f"sb{os.getpid() % 100000}h", f"sb{os.getpid() % 100000}n"
    _ip("netns", "add", name)
    try:
        _ip("link", "add", here, "type", "veth", "peer", "name", there)
        _ip("link", "set", there, "netns", name)
        _ip("addr", "add", f"{HOST_SIDE}/30", "dev", here)
        _ip("link", "set", here, "up")
        _ip("addr", "add", f"{OTHER_SIDE}/30", "dev", there, namespace=name)
        _ip("link", "set", there, "up", namespace=name)
        _ip("link", "set", "lo", "up", namespace=name)
        yield name
    finally:
        subprocess.run(["ip", "link", "del", here], capture_output=True, timeout=30)  # its peer goes too
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)


CLIENT = textwrap.dedent(
    """
    import json, sys, urllib.error, urllib.request
    url, method, headers, body = json.loads(sys.argv[1])
    req = urllib.request.Request(url, data=body.encode() if body else None, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            print(json.dumps([r.status, r.read().decode()]))
    except urllib.error.HTTPError as e:
        print(json.dumps([e.code, e.read().decode()]))
    except OSError as e:
        print(json.dumps([None, type(e).__name__ + ": " + str(e)]))
    """
)


def from_there(namespace: str, url: str, method: str = "GET", headers: dict | None = None, body: str = ""):
    """The request made by a program on the second machine."""
    args = json.dumps([url, method, headers or {}, body])
    run = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, "-c", CLIENT, args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    return tuple(json.loads(run.stdout))


def test_from_another_machine_the_kiosk_is_not_there(tmp_path):
    site = with_server_table(tmp_path, f'hosts = ["{HOST_SIDE}"]')
    with second_machine() as namespace, serving(tmp_path, site) as served:
        office = f"http://{HOST_SIDE}:{served.office}"
        for path in KIOSK_SCREENS:
            status, body = from_there(namespace, office + path)
            assert status == 404 and body.startswith("Not found. The kiosk's screens"), (path, status, body)
        status, _ = from_there(namespace, office + "/kiosk/identify/number", "POST", body="national_number=85073003328")
        assert status == 404
        # the kiosk's listener is not on the network at all
        status, error = from_there(namespace, f"http://{HOST_SIDE}:{served.kiosk}/kiosk/")
        assert status is None and "refused" in error.lower(), error
        # what the network is for keeps working
        status, health = from_there(namespace, office + "/kiosk/health")
        assert status == 200 and set(json.loads(health)) >= {"in_service", "reader", "printer"}
        assert from_there(namespace, office + "/board/")[0] == 200
        assert from_there(namespace, office + "/login")[0] == 200
        assert from_there(namespace, office + "/api/queue")[0] == 200
        # issuing needs a kiosk token from there
        issue = {"Content-Type": "application/json"}
        assert from_there(namespace, office + "/api/tickets", "POST", issue, '{"service": "pickup"}')[0] == 403
        issue["Authorization"] = f"Bearer {served.token}"
        status, ticket = from_there(namespace, office + "/api/tickets", "POST", issue, '{"service": "pickup"}')
        assert status == 201, ticket
        status_path = "/t/" + json.loads(ticket)["status_url"].rsplit("/t/", 1)[1]
        assert from_there(namespace, office + status_path)[0] == 200
        # while this PC's own browser has its kiosk, on its own listener
        status, home = request(served.kiosk_url + "/kiosk/")
        assert status == 200 and "<html" in home


def test_a_host_the_office_does_not_use_is_refused(tmp_path):
    with serving(tmp_path, DEMO_SITE, host="127.0.0.1") as served:
        for url in (served.office_url, served.kiosk_url):
            status, body = request(url + "/kiosk/health", headers={"Host": "rebound.example:80"})
            assert status == 400 and "host name" in body
        assert request(served.office_url + "/", headers={"Host": f"localhost:{served.office}"})[0] == 200
        # the kiosk's own listener answers to loopback names only, public_url's host is 127.0.0.1
        assert request(served.kiosk_url + "/kiosk/", headers={"Host": f"127.0.0.1:{served.kiosk}"})[0] == 200


# --- a reverse proxy in front of the office's listener ----------------------------------------


NGINX = """
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


@contextlib.contextmanager
def nginx(tmp: Path, upstream: int):
    require_debian_packages("nginx")
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX.format(tmp=tmp, port=port, upstream=upstream))
    log = tmp / "nginx.out"
    with open(log, "w") as out:
        process = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp)], stdout=out, stderr=subprocess.STDOUT)
    try:

        def listening():
            assert process.poll() is None, log.read_text()
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
            return False

        wait_until(listening, timeout=30, interval=0.05, what="nginx to listen")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_through_a_reverse_proxy_nothing_is_the_kiosk(tmp_path):
    site = with_server_table(tmp_path, 'trusted_proxy = "127.0.0.1"')
    with serving(tmp_path, site, host="127.0.0.1") as served, nginx(tmp_path, served.office) as proxy:
        # every visitor of the proxy arrives from loopback: none of them is the kiosk
        for path in KIOSK_SCREENS:
            assert request(proxy + path)[0] == 404, path
        issue = {"Content-Type": "application/json"}
        assert request(proxy + "/api/tickets", "POST", issue, b'{"service": "pickup"}')[0] == 403
        assert request(proxy + "/kiosk/health")[0] == 200 and request(proxy + "/board/")[0] == 200
        assert request(proxy + "/login")[0] == 200
        # a Host the office does not use is refused through the proxy too
        assert request(proxy + "/board/", headers={"Host": "rebound.example"})[0] == 400
    # the same proxy pointed at the kiosk's own port still gives no kiosk: it says it passed it on
    with (
        serving(tmp_path / "again", DEMO_SITE, host="127.0.0.1") as served,
        nginx(tmp_path / "again", served.kiosk) as proxy,
    ):
        assert request(proxy + "/kiosk/")[0] == 404
        assert request(proxy + "/api/tickets", "POST", issue, b'{"service": "pickup"}')[0] == 403


# --- files with personal data ---------------------------------------------------------------------


def test_the_database_and_its_directory_are_the_apps_own(tmp_path):
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(KIOSK_DATA_DIR=str(data))
    # as an administrator would run it: a shell with the usual umask (root here, when run as root)
    command = " ".join([*KIOSK, "init-db"])
    subprocess.run(["sh", "-c", f"umask 022 && {command}"], env=env, check=True, capture_output=True, timeout=120)
    database = data / "kiosk.sqlite3"
    assert oct(data.stat().st_mode & 0o777) == "0o700"
    for path in [database, *data.glob("kiosk.sqlite3-*"), data / "secret_key"]:
        if path.exists():
            assert oct(path.stat().st_mode & 0o777) == "0o600", path
    assert database.exists()
    unit = (ROOT / "deploy/systemd/snelbalie.service").read_text()
    assert re.search(r"^UMask=0077$", unit, re.M)
    install = (ROOT / "deploy/install.sh").read_text()
    assert "install -d -m 700 -o snelbalie -g snelbalie /var/lib/snelbalie" in install


# --- the kiosk's screen keeps its own connections -------------------------------------------------


def test_the_kiosk_answers_while_the_office_listener_is_full(tmp_path):
    idle = 1500
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2 * idle + 200:
        missing(f"{idle} idle connections need {2 * idle + 200} open files; the limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2 * idle + 200), hard))  # the server inherits it
    try:
        with serving(tmp_path, DEMO_SITE, host="127.0.0.1") as served:
            sockets = []
            try:
                for _ in range(idle):
                    sockets.append(socket.create_connection(("127.0.0.1", served.office), timeout=5))
                started = time.monotonic()
                for _ in range(5):
                    status, _ = request(served.kiosk_url + "/kiosk/")
                    assert status == 200
                assert time.monotonic() - started < 10
            finally:
                for sock in sockets:
                    sock.close()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# --- TLS in front of the office's listener, as deploy/nginx/snelbalie.conf shows ---------------


def self_signed(tmp: Path, name: str) -> tuple[Path, Path]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)  # fixed: no test depends on today's date
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365 * 30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_tls_in_front_of_the_office_as_documented(tmp_path):
    require_debian_packages("nginx")
    name = "snelbalie.example.be"
    site = site_variant(
        tmp_path,
        ('public_url = "http://127.0.0.1:8080"', f'public_url = "https://{name}"'),
        ("[kiosk]", f'[server]\ntrusted_proxy = "127.0.0.1"\nhosts = ["{name}"]\n\n[kiosk]'),
    )
    cert, key = self_signed(tmp_path, name)
    port = free_port()
    with serving(tmp_path, site, host="127.0.0.1") as served:
        documented = (ROOT / "deploy/nginx/snelbalie.conf").read_text()
        server_block = (
            documented.replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
            .replace("/etc/ssl/certs/snelbalie.pem", str(cert))
            .replace("/etc/ssl/private/snelbalie.key", str(key))
            .replace("proxy_pass http://127.0.0.1:8080;", f"proxy_pass http://127.0.0.1:{served.office};")
        )
        conf = tmp_path / "nginx.conf"
        conf.write_text(
            f"daemon off;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/nginx-error.log;\n"
            "events { worker_connections 64; }\n"
            f"http {{\n access_log off;\n client_body_temp_path {tmp_path}/body;\n proxy_temp_path {tmp_path}/proxy;\n"
            f" fastcgi_temp_path {tmp_path}/fastcgi;\n uwsgi_temp_path {tmp_path}/uwsgi;\n scgi_temp_path {tmp_path}/scgi;\n"
            f"{server_block}\n}}\n"
        )
        log = tmp_path / "nginx.out"
        with open(log, "w") as out:
            nginx_process = subprocess.Popen(
                ["nginx", "-c", str(conf), "-p", str(tmp_path)], stdout=out, stderr=subprocess.STDOUT
            )
        try:
            import http.client
            import ssl

            context = ssl.create_default_context(cafile=str(cert))

            def ask(method: str, path: str, body: str | None = None, headers: dict | None = None):
                conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
                conn.connect()  # the name in the certificate is checked against the Host below
                try:
                    conn.request(method, path, body=body, headers={"Host": name, **(headers or {})})
                    response = conn.getresponse()
                    return response.status, response.getheaders(), response.read().decode()
                finally:
                    conn.close()

            context.check_hostname = False  # 127.0.0.1 is dialled; the chain is still verified

            def listening():
                assert nginx_process.poll() is None, log.read_text()
                with contextlib.suppress(OSError):
                    return ask("GET", "/kiosk/health")[0] == 200
                return False

            wait_until(listening, timeout=30, interval=0.05, what="nginx with TLS to answer")
            status, headers, page = ask("GET", "/login")
            assert status == 200
            cookie = next(value for key, value in headers if key.lower() == "set-cookie")
            assert "Secure" in cookie and "HttpOnly" in cookie  # over HTTPS the session cookie is Secure
            assert ask("GET", "/kiosk/")[0] == 404  # through the proxy, never the kiosk's screen
            issue = {"Content-Type": "application/json", "Authorization": f"Bearer {served.token}"}
            status, _, ticket = ask("POST", "/api/tickets", '{"service": "pickup"}', issue)
            assert status == 201 and json.loads(ticket)["status_url"].startswith(f"https://{name}/t/")
        finally:
            nginx_process.terminate()
            try:
                nginx_process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                nginx_process.kill()
                nginx_process.wait(timeout=10)
