"""Real NTLM peers over HTTP, for the serve, probe and capture-audit tests.

Usage:
  ntlm_http_peer.py server pyspnego
      pyspnego's pure-Python acceptor (NTLM_USER_FILE names the accounts).
  ntlm_http_peer.py server samba NTLM_AUTH SMB_CONF PASSWORD
      One `ntlm_auth --helper-protocol=squid-2.5-ntlmssp --password=PASSWORD`
      process per TCP connection (YR -> TT, KK -> AF/NA).
  ntlm_http_peer.py client URL DOMAIN\\USER PASSWORD [--wrap] [--cbt]
      pyspnego's initiator over one connection. Prints one JSON object:
      status, and once authenticated session_key and flags; with --wrap, one
      sealed and one signed message then go to the server (`X-NTLM-Wrap:
      seal|sign`, body = 16-byte signature || data) and its answers must
      unseal/verify: seal_reply, sign_reply (or seal_error, sign_error).
      An https URL is reached over TLS without verifying the certificate;
      with --cbt the client passes pyspnego the connection's
      tls-server-end-point channel bindings (RFC 5929: the server
      certificate's hash, SHA-256 for MD5/SHA-1 signatures, computed with
      `cryptography` as requests-ntlm does) and prints them as
      tls_server_end_point.

The server listens on 127.0.0.1 on a free port, prints `PORT <n>` and serves
until killed: a request without credentials gets 401 `WWW-Authenticate: NTLM`,
a CHALLENGE goes back in a 401, the end of the exchange is 200 (success) or
401 (failure). NTLM over HTTP authenticates the connection, so it is kept alive;
later requests on an authenticated connection get 200. The pyspnego server
answers `X-NTLM-Wrap` requests like `ntlmsim serve http`: the message unsealed
(or verified), answered with `ntlmsim: ` + the data, sealed (or signed).

LM_COMPAT_LEVEL (0-5) sets pyspnego's LmCompatibilityLevel in either role.
"""

import base64
import hashlib
import http.client
import json
import http.server
import subprocess
import sys
import urllib.parse

import spnego

OPTS = spnego.NegotiateOptions.use_ntlm
ECHO = b"ntlmsim: "


def ntlm_token(values):
    for value in values:
        for part in value.split(","):
            scheme, _, tok = part.strip().partition(" ")
            if scheme.lower() in ("ntlm", "negotiate") and tok.strip():
                return base64.b64decode(tok.strip())
    return None


class PyspnegoAcceptor:
    def __init__(self):
        self.ctx = spnego.server(protocol="ntlm", options=OPTS)

    def step(self, token):
        """Returns (challenge or None, done, ok)."""
        try:
            out = self.ctx.step(token)
        except Exception:  # a failed logon: the acceptor raises
            return None, True, False
        if self.ctx.complete:
            return None, True, True
        return out, False, False

    def session(self):
        """The established context, for X-NTLM-Wrap."""
        return self.ctx

    def close(self):
        pass


class SambaAcceptor:
    def __init__(self, exe, conf, password):
        self.proc = subprocess.Popen(
            [exe, "--configfile=" + conf, "--helper-protocol=squid-2.5-ntlmssp", "--password=" + password],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.started = False

    def step(self, token):
        verb = "KK" if self.started else "YR"
        self.started = True
        self.proc.stdin.write("%s %s\n" % (verb, base64.b64encode(token).decode()))
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if answer.startswith("TT "):
            return base64.b64decode(answer[3:]), False, False
        return None, True, answer.startswith("AF ")

    def session(self):
        return None

    def close(self):
        self.proc.kill()
        self.proc.wait()


def make_handler(new_acceptor):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        acceptor = None
        authenticated = None

        def log_message(self, *args):
            pass

        def reply(self, status, challenge=None, body=None):
            if body is None:
                body = b"authenticated\n" if status == 200 else b"denied\n"
            self.send_response(status)
            if status == 401:
                value = "NTLM " + base64.b64encode(challenge).decode() if challenge else "NTLM"
                self.send_header("WWW-Authenticate", value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def wrap(self, mode, body):
            ctx = self.authenticated
            if ctx is None:
                self.reply(401)
                return
            try:
                if mode == "seal":
                    plain = ctx.unwrap(body).data
                    answer = ctx.wrap(ECHO + plain, encrypt=True).data
                else:
                    sig, plain = body[:16], body[16:]
                    ctx.verify(plain, sig)
                    answer = ctx.sign(ECHO + plain) + ECHO + plain
            except Exception as e:
                self.reply(400, body=str(e).encode())
                return
            self.reply(200, body=answer)

        def do_GET(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            mode = self.headers.get("X-NTLM-Wrap")
            if mode:
                self.wrap(mode, body)
                return
            token = ntlm_token(self.headers.get_all("Authorization") or [])
            if token is None:
                self.reply(200 if self.authenticated is not None else 401)
                return
            if self.acceptor is None or token[8:9] == b"\x01":
                if self.acceptor is not None:
                    self.acceptor.close()
                self.acceptor = new_acceptor()
            challenge, done, ok = self.acceptor.step(token)
            if not done:
                self.reply(401, challenge)
                return
            self.authenticated = self.acceptor.session() if ok else None
            self.acceptor.close()
            self.acceptor = None
            self.reply(200 if ok else 401)

        do_POST = do_GET

        def finish(self):
            if self.acceptor is not None:
                self.acceptor.close()
            super().finish()

    return Handler


def server(args):
    if args[0] == "pyspnego":
        factory = PyspnegoAcceptor
    else:
        exe, conf, password = args[1], args[2], args[3]
        factory = lambda: SambaAcceptor(exe, conf, password)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(factory))
    print("PORT %d" % httpd.server_address[1], flush=True)
    httpd.serve_forever()


def end_point_hash(der):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    alg = x509.load_der_x509_certificate(der).signature_hash_algorithm
    if alg is None or alg.name in ("md5", "sha1"):
        alg = hashes.SHA256()
    return hashlib.new(alg.name, der).digest()


def client(url, user, password, wrap=False, cbt=False):
    u = urllib.parse.urlsplit(url)
    out = {}
    bindings = None
    if u.scheme == "https":
        import ssl

        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=20, context=tls)
        conn.connect()
        if cbt:
            from spnego.channel_bindings import GssChannelBindings

            digest = end_point_hash(conn.sock.getpeercert(binary_form=True))
            out["tls_server_end_point"] = digest.hex()
            bindings = GssChannelBindings(application_data=b"tls-server-end-point:" + digest)
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
    ctx = spnego.client(
        user, password, hostname="server", service="http", protocol="ntlm", options=OPTS,
        channel_bindings=bindings,
    )
    token = ctx.step(None)
    status = None
    while token is not None:
        conn.request("GET", u.path or "/", headers={"Authorization": "NTLM " + base64.b64encode(token).decode()})
        resp = conn.getresponse()
        resp.read()
        status = resp.status
        incoming = ntlm_token(resp.headers.get_all("WWW-Authenticate") or [])
        if status != 401 or incoming is None:
            break
        token = ctx.step(incoming)
    out["status"] = status
    if status == 200:
        out["session_key"] = ctx.session_key.hex()
        # pyspnego keeps the negotiated NegotiateFlags here for NTLM.
        out["flags"] = "0x%08x" % int(getattr(ctx, "_context_attr", 0))
    if status == 200 and wrap:
        for mode in ("seal", "sign"):
            data = b"from pyspnego over http, " + mode.encode()
            body = ctx.wrap(data, encrypt=True).data if mode == "seal" else ctx.sign(data) + data
            conn.request("POST", u.path or "/", body=body, headers={"X-NTLM-Wrap": mode})
            resp = conn.getresponse()
            answer = resp.read()
            if resp.status != 200:
                out[mode + "_error"] = "HTTP %d: %s" % (resp.status, answer.decode(errors="replace"))
                continue
            if mode == "seal":
                plain = ctx.unwrap(answer).data
            else:
                ctx.verify(answer[16:], answer[:16])
                plain = answer[16:]
            out[mode + "_reply"] = plain.decode()
    conn.close()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2:])
    else:
        client(*sys.argv[2:5], wrap="--wrap" in sys.argv[5:], cbt="--cbt" in sys.argv[5:])
