"""impacket's NTLM message builder (impacket.ntlm), driven over stdin/stdout.

One command per line, one answer per line, messages in base64:

  NEGOTIATE v1|v2 SIGN|NOSIGN [FLAGS_HEX]
      -> NEGOTIATE <b64>    getNTLMSSPType1 (use_ntlmv2, signingRequired),
                            with its flags replaced when FLAGS_HEX is given
  AUTHENTICATE v1|v2 <b64 challenge> USER PASSWORD DOMAIN
      -> AUTHENTICATE <b64> <hex exported session key>
                            getNTLMSSPType3 against that CHALLENGE

Any failure answers ERR <exception type>: <message>.
"""

import base64
import sys


def main() -> None:
    try:
        from impacket import ntlm
    except Exception as e:
        print(f"ERR {type(e).__name__}: {e}", flush=True)
        return
    print("READY", flush=True)

    type1 = None
    for line in sys.stdin:
        cmd, *args = line.split()
        try:
            if cmd == "NEGOTIATE":
                type1 = ntlm.getNTLMSSPType1("", "", signingRequired=args[1] == "SIGN", use_ntlmv2=args[0] == "v2")
                if len(args) > 2:
                    type1["flags"] = int(args[2], 16)
                print(f"NEGOTIATE {base64.b64encode(type1.getData()).decode()}", flush=True)
            elif cmd == "AUTHENTICATE":
                version, challenge, user, password, domain = args
                msg, key = ntlm.getNTLMSSPType3(
                    type1, base64.b64decode(challenge), user, password, domain, use_ntlmv2=version == "v2"
                )
                print(f"AUTHENTICATE {base64.b64encode(msg.getData()).decode()} {key.hex()}", flush=True)
            else:
                print(f"ERR unknown command {cmd}", flush=True)
        except Exception as e:
            print(f"ERR {type(e).__name__}: {e}", flush=True)


if __name__ == "__main__":
    main()
