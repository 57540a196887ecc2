"""One pyspnego NTLM context (pure-Python NTLM), driven over stdin/stdout.

Usage: pyspnego_peer.py client USER PASSWORD | pyspnego_peer.py server

The environment chooses the rest: LM_COMPAT_LEVEL (0-5) for either role,
NTLM_USER_FILE for the acceptor. One command per line, one answer per line;
tokens are base64, everything after authentication is hex:

  STEP <b64 | ->          TOK <b64>  or  NONE (no token to send)
  COMPLETE                COMPLETE 0|1
  KEY                     KEY <hex session key>
  FLAGS                   FLAGS 0x<negotiated flags>
  PRINCIPAL               PRINCIPAL <DOMAIN\\user>
  WRAP <hex>              DATA <hex signature(16) || sealed data>
  UNWRAP <hex>            DATA <hex plaintext>
  SIGN <hex>              DATA <hex signature>
  VERIFY <hex> <hex sig>  OK

Any failure answers ERR <exception type>: <message> and the process goes on.
"""

import base64
import sys


def main() -> None:
    try:
        import spnego

        opts = spnego.NegotiateOptions.use_ntlm
        if sys.argv[1] == "client":
            ctx = spnego.client(
                sys.argv[2], sys.argv[3], hostname="ntlmsim", service="host", protocol="ntlm", options=opts
            )
        else:
            ctx = spnego.server(protocol="ntlm", options=opts)
    except Exception as e:  # reported to the test, which fails with it
        print(f"ERR {type(e).__name__}: {e}", flush=True)
        return
    print("READY", flush=True)

    for line in sys.stdin:
        cmd, *args = line.split()
        try:
            if cmd == "STEP":
                token = None if args[0] == "-" else base64.b64decode(args[0])
                out = ctx.step(token)
                print(f"TOK {base64.b64encode(out).decode()}" if out else "NONE", flush=True)
            elif cmd == "COMPLETE":
                print(f"COMPLETE {int(ctx.complete)}", flush=True)
            elif cmd == "KEY":
                print(f"KEY {ctx.session_key.hex()}", flush=True)
            elif cmd == "FLAGS":
                # The negotiated NegotiateFlags (the AUTHENTICATE flags); pyspnego
                # keeps them in the context attributes of its NTLM proxy.
                print(f"FLAGS 0x{int(ctx._context_attr):08x}", flush=True)
            elif cmd == "PRINCIPAL":
                print(f"PRINCIPAL {ctx.client_principal}", flush=True)
            elif cmd == "WRAP":
                print(f"DATA {ctx.wrap(bytes.fromhex(args[0]), encrypt=True).data.hex()}", flush=True)
            elif cmd == "UNWRAP":
                print(f"DATA {ctx.unwrap(bytes.fromhex(args[0])).data.hex()}", flush=True)
            elif cmd == "SIGN":
                print(f"DATA {ctx.sign(bytes.fromhex(args[0])).hex()}", flush=True)
            elif cmd == "VERIFY":
                ctx.verify(bytes.fromhex(args[0]), bytes.fromhex(args[1]))
                print("OK", flush=True)
            else:
                print(f"ERR unknown command {cmd}", flush=True)
        except Exception as e:
            print(f"ERR {type(e).__name__}: {e}", flush=True)


if __name__ == "__main__":
    main()
