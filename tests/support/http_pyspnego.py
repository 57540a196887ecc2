"""pyspnego's pure-Python NTLM over HTTP, as a client or as a server.

Usage:
  http_pyspnego.py client URL DOMAIN\\USER PASSWORD
      One TCP connection: NEGOTIATE -> 401 CHALLENGE -> AUTHENTICATE, then, when
      authenticated, one sealed and one signed message to the server (header
      `X-NTLM-Wrap: seal|sign`, body = 16-byte signature || data) whose answers
      must unseal/verify. Prints one JSON object: status, session_key, flags,
      seal_reply, sign_reply (or error).
  http_pyspnego.py server
      Listens on 127.0.0.1 (free port), prints `PORT <n>`, and authenticates
      each connection with its own pyspnego acceptor (NTLM_USER_FILE). Answers
      `X-NTLM-Wrap` requests like ntlmsim serve http. Runs until killed.

LM_COMPAT_LEVEL (0-5) sets pyspnego's LmCompatibilityLevel in either role.
"""

import base64
import http.client
import http.server
import json
import sys
import urllib.parse

import spnego

OPTS = spnego.NegotiateOptions.use_ntlm
ECHO = b"ntlmsim: "


def token_from(header_values):
    for value in header_values:
        for part in value.split(","):
            scheme, _, tok = part.strip().partition(" ")
            if scheme.lower() in ("ntlm", "negotiate") and tok.strip():
                return base64.b64decode(tok.strip())
    return None


def client(url, user, password):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=20)
    ctx = spnego.client(user, password, hostname="ntlmsim", service="http", protocol="ntlm", options=OPTS)
    out = {}
    tok = ctx.step(None)
    status = None
    while tok is not None:
        conn.request("GET", u.path or "/", headers={"Authorization": "NTLM " + base64.b64encode(tok).decode()})
        resp = conn.getresponse()
        resp.read()
        status = resp.status
        incoming = token_from(resp.headers.get_all("WWW-Authenticate") or [])
        if status != 401 or incoming is None:
            break
        tok = ctx.step(incoming)
    out["status"] = status
    if status != 200:
        print(json.dumps(out), flush=True)
        return
    out["session_key"] = ctx.session_key.hex()
    out["flags"] = "0x%08x" % int(ctx._context_attr if hasattr(ctx, "_context_attr") else 0)
    for mode in ("seal", "sign"):
        data = b"from pyspnego over http, " + mode.encode()
        if mode == "seal":
            body = ctx.wrap(data, encrypt=True).data
        else:
            body = ctx.sign(data) + data
        conn.request("POST", u.path or "/", body=body, headers={"X-NTLM-Wrap": mode})
        resp = conn.getresponse()
        answer = resp.read()
        if resp.status != 200:
            out[mode + "_reply"] = None
            out[mode + "_error"] = "HTTP %d: %s" % (resp.status, answer.decode(errors="replace"))
            continue
        sig, payload = answer[:16], answer[16:]
        if mode == "seal":
            plain = ctx.unwrap(answer).data
        else:
            ctx.verify(payload, sig)
            plain = payload
        out[mode + "_reply"] = plain.decode()
    print(json.dumps(out), flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        ctx = getattr(self, "ctx", None)
        mode = self.headers.get("X-NTLM-Wrap")
        if mode:
            if ctx is None or not ctx.complete:
                return self.reply(401, b"not authenticated", [("WWW-Authenticate", "NTLM")])
            try:
                if mode == "seal":
                    plain = ctx.unwrap(body).data
                    answer = ctx.wrap(ECHO + plain, encrypt=True).data
                else:
                    sig, plain = body[:16], body[16:]
                    ctx.verify(plain, sig)
                    answer = ctx.sign(ECHO + plain) + ECHO + plain
            except Exception as e:
                return self.reply(400, str(e).encode())
            return self.reply(200, answer)
        tok = token_from(self.headers.get_all("Authorization") or [])
        if tok is None:
            if ctx is not None and ctx.complete:
                return self.reply(200, b"authenticated")
            return self.reply(401, b"auth", [("WWW-Authenticate", "NTLM")])
        if tok[8:9] == b"\x01":
            self.ctx = ctx = spnego.server(protocol="ntlm", options=OPTS)
        if ctx is None:
            return self.reply(400, b"AUTHENTICATE without NEGOTIATE")
        try:
            out = ctx.step(tok)
        except Exception as e:
            self.ctx = None
            return self.reply(401, str(e).encode(), [("WWW-Authenticate", "NTLM")])
        if out:
            return self.reply(401, b"challenge", [("WWW-Authenticate", "NTLM " + base64.b64encode(out).decode())])
        return self.reply(200, b"authenticated")

    do_GET = handle_any
    do_POST = handle_any


def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "client":
        client(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        server()
