"""Times pyspnego's NTLM handshake, client and server in one process.

Usage: python pyspnego_handshake.py [N]

Runs N handshakes (NEGOTIATE, CHALLENGE, AUTHENTICATE with NTLMv2, a MIC,
KEY_EXCH, SIGN and SEAL, pure-Python NTLM) each followed by one sealed
32-byte message each way, and prints the median time per handshake as
"median_us <microseconds>". The acceptor reads the account from a temporary
NTLM_USER_FILE.
"""

import os
import statistics
import sys
import tempfile
import time

MESSAGE = b"one message each way, 32 bytes.."


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("TESTDOM:alice:Passw0rd!\n")
        user_file = f.name
    os.environ["NTLM_USER_FILE"] = user_file
    try:
        import spnego

        opts = spnego.NegotiateOptions.use_ntlm

        def handshake() -> None:
            c = spnego.client(
                "TESTDOM\\alice",
                "Passw0rd!",
                hostname="server",
                service="http",
                protocol="ntlm",
                options=opts,
            )
            s = spnego.server(protocol="ntlm", options=opts)
            challenge = s.step(c.step())
            s.step(c.step(challenge))
            assert s.complete and c.session_key == s.session_key
            assert s.unwrap(c.wrap(MESSAGE).data).data == MESSAGE
            assert c.unwrap(s.wrap(MESSAGE).data).data == MESSAGE

        for _ in range(min(n, 20)):  # warm-up
            handshake()
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            handshake()
            times.append((time.perf_counter() - t0) * 1e6)
        print(f"median_us {statistics.median(times):.2f}")
    finally:
        os.unlink(user_file)


if __name__ == "__main__":
    main()
